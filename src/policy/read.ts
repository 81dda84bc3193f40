import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import picomatch from 'picomatch';
import { isAlias, isCollection, isNode, isPair, LineCounter, parseDocument, type Document } from 'yaml';
import { distFile } from '../built.js';
import { AiscError, isAiscError } from '../errors.js';
import { toCanonicalJson } from '../lockfile/canonical-json.js';
import { toProblemLines } from '../lockfile/schema.js';
import { decodeUtf8, parseJsonStrict, recode } from '../io/index.js';
import { splitPemCertificates } from '../signing/certificate.js';
import { toPublicKey } from '../signing/keys.js';
import { toNameSegment, toOneLine, toPointerText } from '../io/problem-line.js';
import { resolveFromPolicy, workingTree, type FileSource } from './source.js';
import type { LoadedPolicy, Policy, PolicyIdentity, PolicyMatch, PolicyReviewer } from './types.js';

const MAX_POLICY_BYTES = 1024 * 1024;
const MAX_KEY_BYTES = 64 * 1024;
const MAX_CERTIFICATES_BYTES = 1024 * 1024;

let validator: Promise<ValidateFunction> | undefined;
function getPolicyValidator(): Promise<ValidateFunction> {
  validator ??= import(distFile('schemas/policy.js').href).then((module: { default: ValidateFunction }) => module.default);
  return validator;
}

/** Reads a policy (YAML, or JSON for *.json) and every key file it names, from `source`. */
export async function loadPolicy(path: string, source: FileSource = workingTree): Promise<LoadedPolicy> {
  const where = source.describe(path);
  let bytes: Buffer;
  try {
    bytes = await source.read(path, MAX_POLICY_BYTES, 'policy');
  } catch (error) {
    if (isAiscError(error) && (error.code === 'FILE_NOT_FOUND' || error.code === 'BASE_NOT_FOUND')) throw new AiscError('POLICY_NOT_FOUND', `${where}: no such policy`, { cause: error });
    throw recode(error, { FILE_UNREADABLE: 'POLICY_INVALID', FILE_TOO_LARGE: 'POLICY_INVALID' });
  }
  const policy = await parsePolicy(toText(bytes, where), where);
  const keys = new Map<string, KeyObject>();
  const anchors = new Map<string, X509Certificate[]>();
  // By file path as written in the policy: a path named __proto__ must count like any other.
  const fileDigests = new Map<string, string>();
  const problems: string[] = [];
  for (const { path: filePath, what } of getTrustFiles(policy)) {
    if (fileDigests.has(filePath)) continue;
    try {
      const fileBytes = await source.read(resolveFromPolicy(path, filePath), what === 'key' ? MAX_KEY_BYTES : MAX_CERTIFICATES_BYTES, what === 'key' ? 'key' : 'certificate file');
      if (what === 'key') keys.set(filePath, toPublicKey(fileBytes.toString('utf8'), `${where}: key ${filePath}`));
      else anchors.set(filePath, toCertificates(fileBytes.toString('utf8')));
      fileDigests.set(filePath, createHash('sha256').update(fileBytes).digest('hex'));
    } catch (error) {
      problems.push(`${what === 'key' ? 'key' : 'certificateChain'} ${JSON.stringify(filePath)} (relative to the policy): ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw invalid(where, problems);
  // The keys and CAs are part of what the policy trusts: changing alice.pub is a policy change.
  const digest = createHash('sha256').update(toCanonicalJson({ policy, keys: fileDigests })).digest('hex');
  return { policy, where, digest, keys, anchors };
}

function toText(bytes: Buffer, where: string): string {
  try {
    return decodeUtf8(bytes, where, 'policy');
  } catch (error) {
    throw recode(error, { TEXT_INVALID: 'POLICY_INVALID' });
  }
}

/** The key and CA certificate files the policy names, in the order written. */
function getTrustFiles(policy: Policy): { path: string; what: 'key' | 'certificates' }[] {
  const identities = [...(policy.signers?.values() ?? []), ...(policy.reviewers?.values() ?? [])];
  return identities.flatMap((entry) => [
    ...(entry.key === undefined ? [] : [{ path: entry.key, what: 'key' as const }]),
    ...(entry.certificateChain === undefined ? [] : [{ path: entry.certificateChain, what: 'certificates' as const }]),
  ]);
}

/** Every certificate of a PEM file; one that does not parse, or none at all, is refused. */
function toCertificates(text: string): X509Certificate[] {
  const pems = splitPemCertificates(text);
  if (pems.length === 0) throw new Error('expected PEM certificates, got none');
  return pems.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (error) {
      throw new Error(`certificate ${i + 1} does not parse (${(error as Error).message})`, { cause: error });
    }
  });
}

/** Parses and checks a policy, listing every problem: a typo must never silently weaken it. */
export async function parsePolicy(text: string, where: string): Promise<Policy> {
  const data = where.endsWith('.json') ? parseJson(text, where) : parseYaml(text, where);
  const validate = await getPolicyValidator();
  // Keys in the paths are the file's: quoted when they are not plain names, so each stays one line.
  const schemaProblems = validate(data) ? [] : toProblemLines((validate.errors ?? []).map((error) => ({ ...error, instancePath: toPointerText(error.instancePath) })));
  // Names are checked even when the schema fails, so one run lists every problem.
  const problems = [...schemaProblems, ...getSemanticProblems(toShape(data))];
  if (problems.length > 0) throw invalid(where, problems);
  const valid = data as Omit<Policy, 'signers' | 'reviewers'> & { signers?: Record<string, PolicyIdentity>; reviewers?: Record<string, PolicyReviewer> };
  // A rule may only allow (`allow:` without `require:`): it then requires nothing.
  const rules = valid.rules?.map((rule) => ({ ...rule, require: rule.require ?? {} }));
  return { ...valid, ...(rules ? { rules } : {}), signers: toMap(valid.signers), reviewers: toMap(valid.reviewers) };
}

/** An object's own entries as a Map, so that no name can reach Object.prototype. */
function toMap<T>(record: Record<string, T> | undefined): Map<string, T> | undefined {
  return record === undefined ? undefined : new Map(Object.entries(record));
}

function parseJson(text: string, where: string): unknown {
  try {
    return parseJsonStrict(text, where);
  } catch (error) {
    throw new AiscError('POLICY_INVALID', toOneLine((error as Error).message), { cause: error });
  }
}

/** Deeper than JSON's limit is no policy anybody writes; past it, refuse rather than recurse. */
const MAX_YAML_DEPTH = 64;
/** Alias uses allowed when building the value: a billion-laughs document stops here. */
const MAX_YAML_ALIASES = 100;

/**
 * YAML as plain data only: no duplicate keys, no tags (`!!binary`, `!!set`, custom ones: a policy
 * is maps, lists and scalars), nesting and alias expansion bounded. Every refusal is POLICY_INVALID.
 */
function parseYaml(text: string, where: string): unknown {
  if (text.trim() === '') throw new AiscError('POLICY_INVALID', `${where}: expected a policy, got an empty file`);
  const lineCounter = new LineCounter();
  const lineOf = (offset: number | undefined): string => (offset === undefined ? '?' : String(lineCounter.linePos(offset).line));
  let document: Document;
  try {
    document = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  } catch (error) {
    throw toYamlError(error, where);
  }
  if (document.errors.length > 0) {
    throw invalid(where, document.errors.map((error) => (isStackOverflow(error.message) ? tooDeep() : `line ${error.linePos?.[0]?.line ?? '?'}: ${error.message.split('\n')[0] ?? error.code}`)));
  }
  const problems = getYamlShapeProblems(document, lineOf);
  if (problems.length > 0) throw invalid(where, problems);
  try {
    return document.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown;
  } catch (error) {
    throw toYamlError(error, where);
  }
}

/** Tags and nesting, walked without recursion so that depth itself cannot overflow the stack. */
function getYamlShapeProblems(document: Document, lineOf: (offset: number | undefined) => string): string[] {
  const problems: string[] = [];
  const stack: [unknown, number][] = [[document.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (isPair(node)) {
      stack.push([node.key, depth], [node.value, depth]);
      continue;
    }
    if (!isNode(node) || isAlias(node)) continue;
    if (node.tag !== undefined) problems.push(`line ${lineOf(node.range?.[0])}: YAML tag ${node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed: a policy is plain maps, lists and scalars`);
    if (!isCollection(node)) continue;
    if (depth > MAX_YAML_DEPTH) {
      problems.push(`line ${lineOf(node.range?.[0])}: ${tooDeep()}`);
      break;
    }
    for (const item of node.items) stack.push([item, depth + 1]);
  }
  return problems;
}

function tooDeep(): string {
  return `nesting deeper than ${MAX_YAML_DEPTH} levels`;
}

function isStackOverflow(message: string): boolean {
  return message.includes('Maximum call stack size exceeded');
}

/** What the YAML library throws (alias bombs, runaway recursion) as a coded policy error. */
function toYamlError(error: unknown, where: string): AiscError {
  const message = error instanceof Error ? error.message : String(error);
  if (/alias count/i.test(message)) return new AiscError('POLICY_INVALID', `${where}: YAML aliases expand too far (more than ${MAX_YAML_ALIASES} uses): refused as a resource-exhaustion attack`, { cause: error });
  if (error instanceof RangeError || isStackOverflow(message)) return new AiscError('POLICY_INVALID', `${where}: ${tooDeep()}`, { cause: error });
  return new AiscError('POLICY_INVALID', toOneLine(`${where}: not valid YAML (${message.split('\n')[0] ?? ''})`), { cause: error });
}

/** One POLICY_INVALID for every problem, each one line whatever the file's keys and values hold. */
function invalid(where: string, problems: string[]): AiscError {
  const [first = 'is invalid', ...rest] = problems;
  const line = (problem: string): string => toOneLine(`${where}: ${problem}`);
  return new AiscError('POLICY_INVALID', line(first), { problems: rest.map(line) });
}

/** The parts of an unvalidated policy the name checks read, each defaulted when mistyped. */
function toShape(data: unknown): Policy {
  const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
  const array = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
  const strings = (value: unknown): string[] => array(value).filter((v): v is string => typeof v === 'string');
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const identity = (value: unknown): PolicyIdentity & { groups: string[] } => {
    const r = record(value);
    return { identity: text(r.identity), identityRegexp: text(r.identityRegexp), issuer: text(r.issuer), key: text(r.key), certificateChain: text(r.certificateChain), subject: text(r.subject), groups: strings(r.groups) };
  };
  const match = (value: unknown): PolicyMatch => {
    const r = record(value);
    return { name: typeof r.name === 'string' ? r.name : strings(r.name), source: typeof r.source === 'string' ? r.source : strings(r.source) };
  };
  const top = record(data);
  return {
    version: 1,
    signers: new Map(Object.entries(record(top.signers)).map(([k, v]) => [k, identity(v)])),
    reviewers: new Map(Object.entries(record(top.reviewers)).map(([k, v]) => [k, identity(v)])),
    rules: array(top.rules).map((rule) => ({ match: match(record(rule).match), require: { signedBy: strings(record(record(rule).require).signedBy) } })),
    approvals: array(top.approvals).map((approval) => ({ on: [], match: match(record(approval).match), require: { count: 0, from: strings(record(record(approval).require).from) } })),
  };
}

function getSemanticProblems(policy: Policy): string[] {
  const problems: string[] = [];
  const signers = policy.signers ?? new Map<string, PolicyIdentity>();
  const reviewers = policy.reviewers ?? new Map<string, PolicyReviewer>();
  for (const [name, signer] of signers) problems.push(...getIdentityProblems(`/signers/${toNameSegment(name)}`, signer));
  for (const [name, reviewer] of reviewers) {
    const where = `/reviewers/${toNameSegment(name)}`;
    if (reviewer.identityRegexp !== undefined) problems.push(`${where}: a reviewer is one identity; identityRegexp is not allowed`);
    problems.push(...getIdentityProblems(where, reviewer));
  }
  const groups = new Set([...reviewers.values()].flatMap((r) => r.groups ?? []));
  (policy.rules ?? []).forEach((rule, i) => {
    problems.push(...getMatchProblems(`/rules/${i}/match`, rule.match));
    for (const signer of rule.require.signedBy ?? []) if (!signers.has(signer)) problems.push(`/rules/${i}/require/signedBy: unknown signer ${JSON.stringify(signer)} (not under signers)`);
    const globs = Object.keys(rule.require.provenanceFrom ?? {});
    if (globs.length > 0) problems.push(...getMatchProblems(`/rules/${i}/require/provenanceFrom`, { name: globs }).map((p) => p.replace('/provenanceFrom/name:', '/provenanceFrom:')));
  });
  (policy.approvals ?? []).forEach((approval, i) => {
    problems.push(...getMatchProblems(`/approvals/${i}/match`, approval.match));
    for (const from of approval.require.from) {
      if (!groups.has(from) && !reviewers.has(from)) problems.push(`/approvals/${i}/require/from: unknown group or reviewer ${JSON.stringify(from)}`);
    }
  });
  return problems;
}

function getIdentityProblems(where: string, identity: PolicyIdentity): string[] {
  const keyless = identity.identity !== undefined || identity.identityRegexp !== undefined || identity.issuer !== undefined;
  const forms = [keyless && 'a keyless identity', identity.key !== undefined && 'a key', identity.certificateChain !== undefined && 'a certificateChain'].filter(Boolean);
  if (forms.length > 1) return [`${where}: expected one of a key, a certificateChain or a keyless identity, got ${forms.join(' and ')}`];
  if (identity.subject !== undefined && identity.certificateChain === undefined) return [`${where}/subject: goes with a certificateChain`];
  if (identity.key !== undefined || identity.certificateChain !== undefined) return [];
  const problems: string[] = [];
  if ((identity.identity === undefined) === (identity.identityRegexp === undefined)) problems.push(`${where}: expected one of identity or identityRegexp (or a key)`);
  if (identity.issuer === undefined) problems.push(`${where}: expected an issuer with the identity`);
  if (identity.identityRegexp !== undefined) {
    try {
      new RegExp(identity.identityRegexp, 'u');
    } catch (error) {
      problems.push(`${where}/identityRegexp: ${(error as Error).message}`);
    }
  }
  return problems;
}

function getMatchProblems(where: string, match: PolicyMatch | undefined): string[] {
  const names = match?.name === undefined ? [] : Array.isArray(match.name) ? match.name : [match.name];
  return names.flatMap((glob) => {
    try {
      picomatch.makeRe(glob);
      return glob.includes('\0') ? [`${where}/name: ${JSON.stringify(glob)} contains NUL`] : [];
    } catch (error) {
      return [`${where}/name: bad glob ${JSON.stringify(glob)} (${(error as Error).message})`];
    }
  });
}
