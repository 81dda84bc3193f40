import { dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { AiscError, isAiscError } from '../errors.js';
import { acquireHashPool, type AnyHashResult, type HashPool, type ProgressSource } from '../hashing/index.js';
import { compareCodePoints, decodeLockfile, parseLockfile, readLockfileBytes, toManifestReader } from '../lockfile/index.js';
import type { SignerPolicy } from '../signing/verify-bundle.js';
import type { FileArtifact, Lockfile, NpmArtifact } from '../lockfile/types.js';
import { toRecorded } from '../sources/index.js';
import { compareCodePoints as byCodePoint } from '../lockfile/canonical-json.js';
import { checkArchive, checkDigest, checkNowhere, checkPaths as checkArtifactFiles, judgeCheckContent, type ArtifactCheck, type CheckPathsOptions } from './check-artifact.js';
import { checkSignatures } from './check-signature.js';
import type { NpmCheck, NpmChecked } from './check-npm.js';
import { toFinding, type Finding } from '../findings.js';
import type { ArtifactReport, GateReport, LockfileSignatureReport, VerifiedSources, VerifyReport } from './findings.js';
import { splitLockfile, toJobParts, type Shard, type Split } from './shard.js';
import { VerifyCache } from './verify-cache.js';

export const DEFAULT_POLICY = 'aisc.policy.yaml';
export const DEFAULT_APPROVALS = '.aisc/approvals';

export interface VerifyOptions {
  lockfile: string;
  /** NAME → PATH: verify that artifact where it is mounted now rather than at its locked source. */
  artifactPaths?: ReadonlyMap<string, string>;
  allowSymlinks?: boolean;
  jobs?: number;
  onHashing?: (progress: ProgressSource, totalBytes: number) => void;
  /** Verify the lockfile's own bytes against this bundle first (signed by the release job). */
  lockfileSignature?: { bundle: string; policy: SignerPolicy };
  /** The policy file; without `policyRequired`, a missing one means no policy. */
  policy?: string;
  policyRequired?: boolean;
  /** LOCKFILE path or git:REF: judge the changes since then by the base policy and its approvals. */
  base?: string;
  approvalsDir?: string;
  /** A Sigstore trusted root for keyless approvals (default: public good). */
  trustedRoot?: string;
  now?: Date;
  /** A lockfile that pins nothing passes (otherwise NOTHING_LOCKED: verifying nothing is no pass). */
  allowEmpty?: boolean;
  /** A folder for per-file records (device, inode, size, times, SHA-256): unchanged files are not read again. */
  cache?: string;
  /** Hash only this part of the files (every other stage runs whole): `aisc report merge` joins the parts. */
  shard?: Shard;
  /** HF_HUB_CACHE, HF_HOME…: where cached Hub snapshots are (the process's environment unless given). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Verifies every artifact of a lockfile and reports every finding (never only the first):
 * checkPaths → hashFiles → checkDigest (as results arrive) → checkDependencies → checkSignatures → checkNpmArtifacts
 * (package-lock drift, evidence) → evaluatePolicy → checkApprovals.
 */
export async function verifyLockfile(options: VerifyOptions): Promise<VerifyReport> {
  return (await verifyLockfileWithSources(options)).report;
}

/** The same, with what was read for the report's renderers to point into (SARIF, annotations). */
export async function verifyLockfileWithSources(options: VerifyOptions): Promise<{ report: VerifyReport; sources: VerifiedSources }> {
  const pool = acquireHashPool({ jobs: options.jobs });
  try {
    return await verifyWith(pool, options);
  } finally {
    await pool.close();
  }
}

async function verifyWith(pool: HashPool, options: VerifyOptions): Promise<{ report: VerifyReport; sources: VerifiedSources }> {
  // Read once: the bytes whose signature is checked are the bytes parsed, and findings point into.
  const bytes = await readLockfileBytes(options.lockfile);
  const text = decodeLockfile(bytes, options.lockfile);
  const lockfile = await parseLockfile(text, options.lockfile, toManifestReader(options.lockfile));
  const lockfileSignature = options.lockfileSignature ? await checkLockfileSignature(bytes, options.lockfile, options.lockfileSignature) : undefined;
  const overrides = options.artifactPaths ?? new Map<string, string>();
  const unknown = [...overrides.keys()].filter((name) => !lockfile.artifacts.has(name));
  if (unknown.length > 0) {
    throw new AiscError('UNKNOWN_ARTIFACT', `--artifact: expected a locked artifact name, got ${unknown.map((n) => JSON.stringify(n)).join(', ')}`);
  }
  const fileArtifacts = [...lockfile.artifacts].filter((entry): entry is [string, FileArtifact] => entry[1].kind !== 'npm');
  const npmArtifacts = [...lockfile.artifacts].filter((entry): entry is [string, NpmArtifact] => entry[1].kind === 'npm');
  const npmOverrides = [...overrides.keys()].filter((name) => lockfile.artifacts.get(name)?.kind === 'npm');
  if (npmOverrides.length > 0) throw new AiscError('USAGE', `--artifact: ${npmOverrides.join(', ')} is an npm package; it is checked against its package-lock.json`);

  // The stages, in order; per-file findings land on each artifact's check, the rest are returned.
  const checks = fileArtifacts.map(([name, artifact]) => checkArtifactPaths(name, artifact, overrides.get(name), options));
  const cache = options.cache === undefined ? undefined : await VerifyCache.open(options.cache);
  const split = options.shard ? splitLockfile(fileArtifacts, options.shard) : undefined;
  await hashFiles(pool, checks, options, cache, split);
  // A cache that cannot be written costs the next run its reads, never this run's verdict.
  await cache?.save().catch((error: unknown) => {
    if (!isAiscError(error)) throw error;
    cache.stats.notSaved = `${error.code} ${error.message}`;
  });
  const dependencies = checkDependencies(lockfile, checks);
  await checkSignatures(checks, options.lockfile);
  const npm = npmArtifacts.length > 0 ? await (await import('./check-npm.js')).checkNpmArtifacts(npmArtifacts, options.lockfile) : undefined;
  const policy = await evaluatePolicy(lockfile, [...checks, ...(npm?.checks ?? [])], options, withDerivedFormats(lockfile, checks));
  const empty = lockfile.artifacts.size === 0 && !options.allowEmpty ? [nothingLocked(options.lockfile)] : [];

  const artifactFindings = [...dependencies, ...policy.findings];
  const lockfileFindings = [...empty, ...(lockfileSignature?.findings ?? []), ...(policy.gate?.findings ?? [])];
  const report = toReport(options.lockfile, checks, npm, artifactFindings, lockfileFindings);
  const shard = options.shard && split ? { shard: { ...options.shard, lockfileSha256: createHash('sha256').update(bytes).digest('hex'), ...split.share } } : {};
  return {
    report: {
      ...report,
      ...(policy.where ? { policy: policy.where } : {}),
      ...(lockfileSignature ? { lockfileSignature } : {}),
      ...(policy.gate ? { gate: policy.gate } : {}),
      ...shard,
      ...(cache ? { cache: cache.stats } : {}),
    },
    sources: { lockfile: text, packageLocks: npm?.texts ?? new Map<string, string>() },
  };
}

/**
 * hashFiles: every planned job of this shard on the pool, each digest compared as its result
 * arrives (none kept); with a cache, a file whose identity is unchanged is answered from it.
 */
async function hashFiles(pool: HashPool, checks: ArtifactCheck[], options: VerifyOptions, cache?: VerifyCache, split?: Split): Promise<void> {
  const jobs = checks.flatMap((check) => check.jobs);
  const owner = new Uint32Array(jobs.length);
  const starts: number[] = [];
  let start = 0;
  checks.forEach((check, c) => {
    starts.push(start);
    owner.fill(c, start, start + check.jobs.length);
    start += check.jobs.length;
  });
  const deliver = (index: number, result: AnyHashResult): void => {
    const c = owner[index] ?? 0;
    const check = checks[c];
    if (check) checkDigest(check, index - (starts[c] ?? 0), result);
  };
  const part = split ? toJobParts(checks, split) : undefined;
  if (!part && !cache) {
    options.onHashing?.(pool, jobs.reduce((sum, job) => sum + (job.expectedSize ?? 0), 0));
    await pool.hashEachChunked(jobs, deliver);
    return;
  }
  // Only this shard's jobs, and of those only the ones the cache cannot answer, are read.
  const pending: number[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i];
    if (!job || (part && part[i] !== options.shard?.index)) continue;
    const cached = cache?.lookup(job);
    if (cached) deliver(i, cached);
    else pending.push(i);
  }
  const toRead = pending.map((i) => (cache ? { ...jobs[i]!, identify: true } : jobs[i]!));
  options.onHashing?.(pool, toRead.reduce((sum, job) => sum + (job.expectedSize ?? 0), 0));
  await pool.hashEachChunked(toRead, (k, result) => {
    const index = pending[k] ?? 0;
    deliver(index, result);
    cache?.remember(toRead[k]!, result, BigInt(Date.now()) * 1_000_000n);
  });
}


/**
 * Where each artifact is read from: --artifact, else its local copy (a folder, a Hub commit's
 * snapshot in the HF cache with links followed only into that repo's blobs/, a kept download or
 * archive). Offline always: nothing is fetched here.
 */
function checkArtifactPaths(name: string, artifact: FileArtifact, override: string | undefined, options: VerifyOptions): ArtifactCheck {
  const allowSymlinks = (options.allowSymlinks ?? false) || artifact.allowSymlinks === true;
  const recorded = toRecorded(artifact.source);
  // Where the recorded bundle is kept: the file at the signature's path is left out when it is this one.
  const bundleFile = artifact.signature === undefined ? undefined : resolve(dirname(resolve(options.lockfile)), ...artifact.signature.bundle.split('/'));
  const checkPaths = (root: string, more: Omit<CheckPathsOptions, 'bundleFile'>): ArtifactCheck => checkArtifactFiles(name, artifact, root, { ...more, ...(bundleFile === undefined ? {} : { bundleFile }) });
  if (override !== undefined) return checkPaths(override, { allowSymlinks, lockfile: options.lockfile, ...recorded.mounted() });
  const copy = recorded.locate(name, artifact, options.lockfile, options.env ?? process.env);
  if (copy.mode === 'none') return checkNowhere(name, artifact, copy.hint);
  if (copy.mode === 'archive') return checkArchive(name, artifact, copy.path, copy);
  // Links that lead into a link root (an HF snapshot's into its repo's blobs/) are the layout's own.
  if (copy.linkRoot !== undefined) return checkPaths(copy.root, { allowSymlinks: true, linkRoot: copy.linkRoot, hint: copy.hint, selected: copy.selected });
  return checkPaths(copy.root, { allowSymlinks, lockfile: options.lockfile, hint: copy.hint, selected: copy.selected });
}

function nothingLocked(lockfile: string): Finding {
  return toFinding({ code: 'NOTHING_LOCKED', message: `${lockfile} pins no artifact, so nothing was verified; lock what ships (aisc lock), or pass --allow-empty where an empty lockfile is intended` });
}

async function checkLockfileSignature(bytes: Buffer, where: string, { bundle, policy }: { bundle: string; policy: SignerPolicy }): Promise<LockfileSignatureReport> {
  const { verifyBytesSignature } = await import('../signing/verify-file.js');
  const report = await verifyBytesSignature(bytes, where, bundle, policy);
  const findings = report.findings.map((finding) => toFinding({ code: finding.code, message: `the lockfile's signature (${bundle}): ${finding.message}` }));
  return { ok: report.ok, bundle, signer: report.signer, findings };
}

interface PolicyOutcome {
  /** The policy whose rules were applied. */
  where?: string;
  gate?: GateReport;
  /** The rules' findings (content findings land on each file's check). */
  findings: Finding[];
}

/**
 * evaluatePolicy → checkApprovals. With --base, the rules and the approval requirements are the
 * base policy's: a change that edits the policy is judged by the policy it replaces.
 */
async function evaluatePolicy(lockfile: Lockfile, checks: (ArtifactCheck | NpmCheck)[], options: VerifyOptions, judged: Lockfile): Promise<PolicyOutcome> {
  const policyPath = options.policy ?? DEFAULT_POLICY;
  if (options.base === undefined && !options.policyRequired && !existsSync(policyPath)) {
    // No policy: npm packages still meet aisc's defaults (a registry signature where the registry signs),
    // and unsafe pickles are findings with aisc's allowlist alone.
    judgeContentWith(checks, () => new Set());
    if (!checks.some((check) => check.artifact.kind === 'npm')) return { findings: [] };
    return { findings: (await import('../policy/evaluate.js')).evaluateRules(undefined, lockfile) };
  }
  // Loaded on demand (YAML; Sigstore's libraries only for approvals): plain verifies start fast.
  const { getLockfileDigest, loadBase, loadOptionalPolicy, toChangeSet } = await import('../policy/change-set.js');
  const { loadPolicy } = await import('../policy/read.js');
  const { evaluateRules, getAllowedImports } = await import('../policy/evaluate.js');
  const current = options.policyRequired ? await loadPolicy(policyPath) : await loadOptionalPolicy(policyPath);
  let effective = current;
  let gate: GateReport | undefined;
  if (options.base !== undefined) {
    const now = options.now ?? new Date();
    const { checkApprovals, parseDuration } = await import('../policy/approval.js');
    const { evaluateApprovals } = await import('../policy/gate.js');
    const base = await loadBase(options.base, { lockfile: options.lockfile, policy: policyPath });
    const changeSet = toChangeSet(base, { where: options.lockfile, lockfile, lockfileDigest: getLockfileDigest(lockfile), policy: current });
    effective = base.policy;
    const { getPublicGoodTrustedRoot, readTrustedRoot } = await import('../signing/trust.js');
    const trustedRoot = options.trustedRoot ? await readTrustedRoot(options.trustedRoot) : getPublicGoodTrustedRoot();
    const approvals = base.policy ? await checkApprovals(options.approvalsDir ?? DEFAULT_APPROVALS, changeSet, base.policy, now, parseDuration(base.policy.policy.maxAge), trustedRoot) : { valid: [], ignored: [] };
    gate = {
      base: base.where,
      ...(base.policy ? { basePolicy: base.policy.where } : {}),
      changeDigest: changeSet.diff.changeDigest,
      changes: changeSet.diff.changes,
      approvals: approvals.valid,
      ignored: approvals.ignored,
      findings: base.policy ? evaluateApprovals(changeSet.diff.changes, base.policy, approvals.valid, now) : [],
    };
  }
  judgeContentWith(checks, (check) => getAllowedImports(effective, check.name, check.artifact.kind, toRecorded(check.artifact.source).origin));
  return { where: effective?.where, gate, findings: evaluateRules(effective, judged) };
}

/** The format gate for every file artifact, with the pickle imports allowed for each. */
function judgeContentWith(checks: (ArtifactCheck | NpmCheck)[], allowed: (check: ArtifactCheck) => ReadonlySet<string>): void {
  for (const check of checks) if ('content' in check) judgeCheckContent(check, allowed(check));
}

/**
 * denyFormats judges what the bytes are: the formats read here join the lockfile's own (a lockfile
 * edited to hide a pickle cannot, and one that names more than is there still fails closed).
 */
function withDerivedFormats(lockfile: Lockfile, checks: ArtifactCheck[]): Lockfile {
  const artifacts = new Map(lockfile.artifacts);
  for (const check of checks) {
    if (check.formats.size === 0) continue;
    const weights = new Set([...(check.artifact.format?.weights ?? []), ...check.formats]);
    artifacts.set(check.name, { ...check.artifact, format: { ...check.artifact.format, weights: [...weights].sort(byCodePoint) } });
  }
  return { ...lockfile, artifacts };
}

function checkDependencies(lockfile: Lockfile, checks: ArtifactCheck[]): Finding[] {
  return checks.flatMap((check) =>
    (check.artifact.dependsOn ?? [])
      .filter((dependency) => !lockfile.artifacts.has(dependency))
      .map((dependency) => toFinding({ artifact: check.name, code: 'DEPENDENCY_MISSING', message: `depends on ${JSON.stringify(dependency)}, which is not locked`, expected: dependency })),
  );
}

function toReport(lockfile: string, checks: ArtifactCheck[], npm: Pick<NpmChecked, 'checks' | 'packageLocks'> | undefined, artifactFindings: Finding[], lockfileFindings: Finding[]): VerifyReport {
  const byArtifact = new Map<string, Finding[]>();
  for (const finding of artifactFindings) byArtifact.set(finding.artifact ?? '', [...(byArtifact.get(finding.artifact ?? '') ?? []), finding]);
  const findingsOf = (check: ArtifactCheck | NpmCheck): Finding[] => sortFindings([...check.findings, ...(byArtifact.get(check.name) ?? [])]);
  const artifacts: ArtifactReport[] = checks.map((check) => {
    const findings = findingsOf(check);
    const bytes = check.artifact.files.reduce((sum, file) => sum + file.size, 0);
    return { name: check.name, kind: check.artifact.kind, root: check.root, ok: findings.length === 0, files: check.artifact.files.length, bytes, findings };
  });
  for (const check of npm?.checks ?? []) {
    const findings = findingsOf(check);
    artifacts.push({ name: check.name, kind: 'npm', root: check.artifact.source.packageLock, ok: findings.length === 0, files: 0, bytes: 0, findings });
  }
  artifacts.sort((a, b) => compareCodePoints(a.name, b.name));
  const packageLocks = npm?.packageLocks.map((report) => ({ ...report, findings: sortFindings(report.findings) }));
  const count = artifacts.reduce((sum, a) => sum + a.findings.length, 0) + (packageLocks ?? []).reduce((sum, p) => sum + p.findings.length, 0) + lockfileFindings.length;
  return {
    ok: count === 0,
    lockfile,
    ...(lockfileFindings.length > 0 ? { findings: lockfileFindings } : {}),
    artifacts,
    ...(packageLocks ? { packageLocks } : {}),
    summary: {
      artifacts: artifacts.length,
      files: artifacts.reduce((sum, a) => sum + a.files, 0),
      bytes: artifacts.reduce((sum, a) => sum + a.bytes, 0),
      npmPackages: npm?.checks.length ?? 0,
      findings: count,
    },
  };
}

/** Findings in path order, then by code. */
function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => compareCodePoints(a.path ?? '', b.path ?? '') || compareCodePoints(a.code, b.code));
}
