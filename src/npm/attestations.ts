import type { Bundle } from '@sigstore/bundle';
import { X509Certificate as SigstoreCertificate } from '@sigstore/core';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { isAiscError } from '../errors.js';
import type { NpmProvenance } from '../lockfile/types.js';
import { parseBundle } from '../signing/bundle.js';
import { DsseContent } from '../signing/content.js';
import { parseStatement, type InTotoStatement } from '../signing/statement.js';
import { getLeafCertificate, verifyBundle } from '../signing/verify-bundle.js';
import { NpmFinding } from './findings.js';
import type { RegistryKey } from './registry-keys.js';
import { normalizeRepository } from './repository.js';

export const NPM_PUBLISH_PREDICATE = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/** More than this many attestations for one version is not something the registry serves. */
const MAX_ATTESTATIONS = 16;

export interface AttestationFacts {
  /** The registry's own publish attestation verified. */
  published: boolean;
  provenance?: NpmProvenance;
}

export interface AttestedPackage {
  name: string;
  version: string;
  integrity: string;
}

/**
 * Verifies the registry's attestations for one version (the response of `dist.attestations.url`),
 * as `npm audit signatures` does and stricter: every bundle must verify (the publish attestation
 * with the registry's `npm:attestations` key valid at its log time; provenance keyless against
 * the Sigstore root), every statement must name this package's purl and the SHA-512 of its
 * integrity, and provenance must name the repository and commit its signing certificate names.
 */
export function verifyAttestations(pkg: AttestedPackage, response: unknown, keys: readonly RegistryKey[], trustedRoot: TrustedRoot): AttestationFacts {
  const id = `${pkg.name}@${pkg.version}`;
  const attestations = (response as { attestations?: unknown } | null)?.attestations;
  if (!Array.isArray(attestations) || attestations.length === 0) fail(id, 'the attestations response has no "attestations" list');
  if (attestations.length > MAX_ATTESTATIONS) fail(id, `expected at most ${MAX_ATTESTATIONS} attestations, got ${attestations.length}`);
  const purl = toPurl(pkg.name, pkg.version);
  const sha512 = getSha512Hex(pkg.integrity);
  if (!sha512) fail(id, `the integrity ${pkg.integrity} has no sha512, which attestations are made over`);
  const facts: AttestationFacts = { published: false };
  attestations.forEach((entry: unknown, index) => {
    const where = `attestation ${index + 1}`;
    const { predicateType, bundle: raw } = (entry ?? {}) as { predicateType?: unknown; bundle?: unknown };
    const { statement, bundle } = verifyOne(id, where, raw, keys, trustedRoot);
    if (statement.predicateType !== predicateType) fail(id, `${where}: listed as ${JSON.stringify(predicateType)} but its statement is ${JSON.stringify(statement.predicateType)}`);
    if (!statement.subject.some((subject) => subject.name === purl && subject.digest.sha512 === sha512)) {
      const named = statement.subject.map((s) => `${s.name} sha512:${(s.digest.sha512 ?? '?').slice(0, 16)}…`).join(', ');
      fail(id, `${where} (${statement.predicateType}) is for ${named}; expected ${purl} sha512:${sha512.slice(0, 16)}…`);
    }
    if (statement.predicateType === NPM_PUBLISH_PREDICATE) {
      const predicate = statement.predicate as { name?: unknown; version?: unknown } | null;
      if (predicate?.name !== pkg.name || predicate.version !== pkg.version) fail(id, `${where}: the publish attestation names ${String(predicate?.name)}@${String(predicate?.version)}`);
      facts.published = true;
    } else if (statement.predicateType === SLSA_PROVENANCE_V02 || statement.predicateType === SLSA_PROVENANCE_V1) {
      if (facts.provenance) fail(id, `${where}: a second provenance statement`);
      facts.provenance = toProvenance(id, where, statement, bundle);
    }
    // Other predicate types must still verify (above), and say nothing aisc records.
  });
  return facts;
}

function verifyOne(id: string, where: string, raw: unknown, keys: readonly RegistryKey[], trustedRoot: TrustedRoot): { statement: InTotoStatement; bundle: Bundle } {
  try {
    const bundle = parseBundle(JSON.stringify(raw ?? null), where);
    if (bundle.content.$case !== 'dsseEnvelope') fail(id, `${where}: expected a DSSE envelope, got a message signature`);
    const envelope = bundle.content.dsseEnvelope;
    const statement = parseStatement(envelope);
    const material = bundle.verificationMaterial.content;
    if (material.$case === 'publicKey') {
      // The registry's own statement: its key, chosen by the bundle's hint, valid at the log's time.
      const key = keys.find((k) => k.keyId === material.publicKey.hint && k.usage === 'npm:attestations');
      if (!key) fail(id, `${where}: signed by key ${JSON.stringify(material.publicKey.hint)}, which is not an npm registry attestation key aisc trusts`);
      if (statement.predicateType !== NPM_PUBLISH_PREDICATE) fail(id, `${where}: the registry key signed a ${statement.predicateType} statement; it signs only publish attestations`);
      verifyBundle(bundle, new DsseContent(envelope), { kind: 'key', key: key.key, trustedRoot, validFor: (date) => date >= key.start && (!key.end || date <= key.end) });
    } else {
      verifyBundle(bundle, new DsseContent(envelope), { kind: 'keyless', identity: ANYONE, trustedRoot, allowTrustedRootInChain: true });
    }
    return { statement, bundle };
  } catch (error) {
    if (error instanceof NpmFinding) throw error;
    if (isAiscError(error) && error.code !== 'INTERNAL') fail(id, `${where}: ${error.message}`);
    throw error;
  }
}

/** Provenance is accepted from any builder; policy decides which repositories count (provenanceFrom). */
const ANYONE = { identity: { regexp: /^[\s\S]*$/u, source: '.*' }, issuer: { regexp: /^[\s\S]*$/u, source: '.*' } };

/** What a reviewer needs: which repository, commit and workflow built it, and with which builder. */
function toProvenance(id: string, where: string, statement: InTotoStatement, bundle: Bundle): NpmProvenance {
  const claimed = statement.predicateType === SLSA_PROVENANCE_V1 ? readV1(statement.predicate) : readV02(statement.predicate);
  const certificate = readCertificate(bundle);
  if (!certificate.repository) fail(id, `${where}: the signing certificate names no source repository`);
  if (claimed.repository && normalizeRepository(claimed.repository) !== normalizeRepository(certificate.repository)) {
    fail(id, `${where}: the provenance claims ${claimed.repository} but was signed for ${certificate.repository}`);
  }
  if (claimed.commit && certificate.commit && claimed.commit !== certificate.commit) {
    fail(id, `${where}: the provenance claims commit ${claimed.commit} but was signed for ${certificate.commit}`);
  }
  if (!claimed.builder) fail(id, `${where}: the provenance names no builder`);
  const provenance: NpmProvenance = {
    predicateType: statement.predicateType,
    repository: normalizeRepository(certificate.repository),
    builder: claimed.builder,
    identity: certificate.identity,
    issuer: certificate.issuer,
  };
  const commit = certificate.commit ?? claimed.commit;
  if (commit) provenance.commit = commit;
  if (claimed.workflow) provenance.workflow = claimed.workflow;
  const ref = certificate.ref ?? claimed.ref;
  if (ref) provenance.ref = ref;
  return provenance;
}

interface Claimed {
  repository?: string;
  commit?: string;
  workflow?: string;
  ref?: string;
  builder?: string;
}

/** SLSA v0.2 as npm writes it: invocation.configSource {uri git+REPO@REF, digest.sha1, entryPoint}. */
function readV02(predicate: unknown): Claimed {
  const p = (predicate ?? {}) as { builder?: { id?: unknown }; invocation?: { configSource?: { uri?: unknown; digest?: { sha1?: unknown }; entryPoint?: unknown } } };
  const source = p.invocation?.configSource;
  const [repository, ref] = splitGitUri(str(source?.uri));
  const entryPoint = str(source?.entryPoint);
  return { repository, ref, commit: str(source?.digest?.sha1), workflow: entryPoint?.replace(/^[^/]+\/[^/]+\//, '').replace(/@.*$/, ''), builder: str(p.builder?.id) };
}

/** SLSA v1: buildDefinition.externalParameters.workflow {repository, path, ref}, resolvedDependencies[0].digest.gitCommit. */
function readV1(predicate: unknown): Claimed {
  const p = (predicate ?? {}) as {
    buildDefinition?: { externalParameters?: { workflow?: { repository?: unknown; path?: unknown; ref?: unknown } }; resolvedDependencies?: { uri?: unknown; digest?: { gitCommit?: unknown } }[] };
    runDetails?: { builder?: { id?: unknown } };
  };
  const workflow = p.buildDefinition?.externalParameters?.workflow;
  const dependency = Array.isArray(p.buildDefinition?.resolvedDependencies) ? p.buildDefinition.resolvedDependencies[0] : undefined;
  const [fromDependency] = splitGitUri(str(dependency?.uri));
  return { repository: str(workflow?.repository) ?? fromDependency, ref: str(workflow?.ref), commit: str(dependency?.digest?.gitCommit), workflow: str(workflow?.path), builder: str(p.runDetails?.builder?.id) };
}

/** Fulcio's extensions, signed by the CA: the source repository and commit the OIDC token proved. */
function readCertificate(bundle: Bundle): { identity: string; issuer: string; repository?: string; commit?: string; ref?: string } {
  const leaf = getLeafCertificate(bundle);
  if (!leaf) return { identity: '', issuer: '' };
  const certificate = SigstoreCertificate.parse(leaf.raw);
  const issuer = readExtension(certificate, '1.3.6.1.4.1.57264.1.8') ?? readExtension(certificate, '1.3.6.1.4.1.57264.1.1') ?? '';
  const legacyRepository = readExtension(certificate, '1.3.6.1.4.1.57264.1.5');
  const repository = readExtension(certificate, '1.3.6.1.4.1.57264.1.12') ?? (legacyRepository && issuer === 'https://token.actions.githubusercontent.com' ? `https://github.com/${legacyRepository}` : undefined);
  const commit = readExtension(certificate, '1.3.6.1.4.1.57264.1.13') ?? readExtension(certificate, '1.3.6.1.4.1.57264.1.3');
  const ref = readExtension(certificate, '1.3.6.1.4.1.57264.1.14') ?? readExtension(certificate, '1.3.6.1.4.1.57264.1.6');
  return { identity: certificate.subjectAltName ?? '', issuer, ...(repository ? { repository } : {}), ...(commit ? { commit } : {}), ...(ref ? { ref } : {}) };
}

/** Fulcio's first extensions (…1.1 to …1.6) hold raw UTF-8; the later ones a DER UTF8String. */
function readExtension(certificate: SigstoreCertificate, oid: string): string | undefined {
  const extension = certificate.extension(oid);
  if (!extension) return undefined;
  const legacy = Number(oid.slice(oid.lastIndexOf('.') + 1)) <= 7;
  try {
    const value = legacy ? extension.value : extension.valueObj.subs[0]?.value;
    return value?.toString('utf8');
  } catch {
    return undefined;
  }
}

function splitGitUri(uri: string | undefined): [string | undefined, string | undefined] {
  if (!uri) return [undefined, undefined];
  const bare = uri.replace(/^git\+/, '');
  const at = bare.lastIndexOf('@');
  return at > bare.indexOf('://') + 3 ? [bare.slice(0, at), bare.slice(at + 1)] : [bare, undefined];
}

/** The package URL attestations name: pkg:npm/%40scope/name@version. */
export function toPurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

/** The hex SHA-512 of an SRI integrity string (which may list several hashes). */
export function getSha512Hex(integrity: string): string | undefined {
  const entry = integrity.split(/\s+/).find((part) => part.startsWith('sha512-'));
  if (!entry) return undefined;
  const bytes = Buffer.from(entry.slice('sha512-'.length).replace(/\?.*$/, ''), 'base64');
  return bytes.length === 64 ? bytes.toString('hex') : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function fail(id: string, message: string): never {
  throw new NpmFinding('NPM_ATTESTATION_INVALID', `${id}: ${message}`);
}
