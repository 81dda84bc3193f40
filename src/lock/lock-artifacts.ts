import { join } from 'node:path';
import { AiscError } from '../errors.js';
import { getFormatFacts, judgeContent, type Inspection } from '../formats/index.js';
import { acquireHashPool, type HashJob, type HashPool, type HashResult, type ProgressSource } from '../hashing/index.js';
import { compareCodePoints, computeRootDigest, getChunkSize, getNameProblem, readLockfileSnapshot, sortFiles, updateLockfile, wantsChunks, type LockfileSnapshot } from '../lockfile/index.js';
import type { FileArtifact, FileArtifactKind, FileEntry, FormatFacts, Lockfile } from '../lockfile/types.js';
import { getSources, Network, toIgnoreMatcher, toRecorded, type OriginGate, type SourceContext } from '../sources/index.js';
import { hashRemoteFiles } from './hash-remote.js';
import { addRecordedChunks, getRecordedResult, openHashRecord } from './recorded.js';
import { loadRules } from './rules.js';
import { planSource, type Planned } from './plan.js';
import { judgeBundle, keepBundle, MODEL_SIGNATURE, readLocated, settleUnnamed, toCandidates, type SignatureRequest } from './publisher-signature.js';

export interface LockOptions {
  lockfile: string;
  kind?: FileArtifactKind;
  name?: string;
  ignore?: string[];
  /** hf:// sources: which files of the repo (huggingface_hub's allow/ignore patterns). */
  include?: string[];
  exclude?: string[];
  /** https:// sources: keep the download here (written atomically); oci:// sources: where fetch lays the files out. */
  path?: string;
  /** oci:// sources: which manifest of an index (os/arch[/variant]). */
  platform?: string;
  dependsOn?: string[];
  allowSymlinks?: boolean;
  jobs?: number;
  onWait?: (message: string) => void;
  onHashing?: (progress: ProgressSource, totalBytes: number) => void;
  /**
   * Signatures: `bundle` a path on disk, or inside a remote artifact (default: the publisher's
   * model.sig at the artifact's root, FILE.sigstore.json beside a file, or an OCI artifact's
   * attached cosign signatures); `policy` who must have signed (default: the policy's signedBy).
   */
  signature?: SignatureRequest;
  /** The policy whose rules the new entries must meet (a missing default file means none). */
  policy?: string;
  policyRequired?: boolean;
  /** Record even what the policy forbids (verify still fails on it). */
  force?: boolean;
  /** HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HOME…: the process's environment unless given. */
  env?: NodeJS.ProcessEnv;
}

export interface LockResult {
  lockfile: Lockfile;
  /** `from`: where it came from, for an origin other than a path the user named. */
  locked: { name: string; artifact: FileArtifact; from?: string }[];
}

/**
 * Locks artifacts as one pipeline: parse each spec into its source → gate the origins against
 * the policy → resolve (pin) → list → hash and inspect (on the worker pool for files on disk,
 * as they stream for remote ones) → record under the lockfile lock. Nothing is written unless
 * all succeed.
 */
export async function lockArtifacts(specs: readonly string[], options: LockOptions): Promise<LockResult> {
  if (specs.length === 0) throw new AiscError('USAGE', 'aisc lock: expected at least one source');
  if (options.name !== undefined && specs.length > 1) throw new AiscError('USAGE', '--name: expected one source, got ' + specs.length);
  if (options.signature?.bundle !== undefined && specs.length !== 1) throw new AiscError('USAGE', `--signature: expected one source, got ${specs.length}`);
  if (options.path !== undefined && specs.length !== 1) throw new AiscError('USAGE', `--path: expected one source, got ${specs.length}`);
  for (const dependency of options.dependsOn ?? []) {
    const problem = getNameProblem(dependency);
    if (problem) throw new AiscError('NAME_INVALID', `--depends-on: expected an artifact name, got ${JSON.stringify(dependency)}, which ${problem}`);
  }
  // Refused before anything is read: a chunk size the lockfile could not hold.
  const chunkSize = getChunkSize(options.env);
  const ignore = [...(options.ignore ?? [])];
  const context: SourceContext = {
    lockfile: options.lockfile,
    ignore: toIgnoreMatcher(ignore),
    ignoreGiven: (options.ignore ?? []).length > 0,
    allowSymlinks: options.allowSymlinks ?? false,
    include: options.include,
    exclude: options.exclude,
    keepAt: options.path,
    bundlePath: options.signature?.bundle ?? MODEL_SIGNATURE,
    ...(options.platform === undefined ? {} : { platform: options.platform }),
    env: options.env,
    chunkSize,
  };
  const network = new Network(options.env);
  const pool = acquireHashPool({ jobs: options.jobs });
  const planned: Planned[] = [];
  let recorded = false;
  try {
    // Fail before hashing gigabytes if the lockfile we would write into is unusable.
    const before = await readLockfileSnapshot(options.lockfile);
    const rules = await loadRules(options);
    const gate = rules && !options.force ? toOriginGate(rules) : undefined;
    // Parse which origin each spec names, from the text alone; one the policy refuses is refused
    // before a byte is read or downloaded.
    const sources = getSources(specs, context, network, gate && { allows: (origin, artifact) => gate(origin, { name: options.name ?? artifact.name, kind: options.kind }), where: rules?.policy.where ?? '' });
    for (const source of sources) planned.push(await planSource(source, { ...options, bundle: options.signature?.bundle }));
    const names = new Set<string>();
    for (const { name } of planned) {
      if (names.has(name)) throw new AiscError('USAGE', `two sources would both be named ${JSON.stringify(name)}; lock them one at a time with --name`);
      names.add(name);
    }
    // Gate again with the names and kinds now known, still before anything is hashed or downloaded.
    if (gate && rules) assertAllowedSources(planned, gate, rules.policy.where);
    // A bundle nobody can check stays a file of the artifact: decided before the files are hashed.
    for (const plan of planned) await settleUnnamed(plan, { lockfile: options.lockfile, request: options.signature, rules, onNote: options.onWait });
    const hashed = await hashPlanned(planned, pool, options, chunkSize);
    // Gate on content: what every file is, from the bytes just hashed, --ignored ones included.
    if (!options.force) assertSafeContent(planned, hashed, rules);
    const result = await record(planned, hashed, options, ignore, before, rules, chunkSize);
    recorded = true;
    // A download kept with --path replaces what was there only now: a refused lock leaves it.
    for (const plan of planned) await plan.resolved.commit?.();
    return result;
  } finally {
    if (!recorded) for (const plan of planned) await plan.resolved.discard?.();
    await pool.close();
    await network.close();
  }
}

type Rules = Awaited<ReturnType<typeof loadRules>>;

/** What hashing gave back for one planned source: entries in listing order, inspections by index. */
interface Hashed {
  files: FileEntry[];
  inspections: Map<number, Inspection>;
  /** Files --ignore leaves out, inspected for the format gate only. */
  hidden?: { path: string; inspection: Inspection }[];
}

/**
 * Files on disk go to the worker pool, all sources' jobs at once; each result becomes its entry as
 * it arrives (a million results are never held at once). Remote files stream through a hasher.
 * A file of at least two chunks gets its chunk digests from the same pass as its whole digest.
 */
async function hashPlanned(planned: Planned[], pool: HashPool, options: LockOptions, chunkSize: number): Promise<Hashed[]> {
  let remoteBytes = 0;
  const progress: ProgressSource = { bytesDone: () => pool.bytesDone() + remoteBytes };
  options.onHashing?.(progress, planned.reduce((sum, plan) => sum + plan.files.reduce((s, file) => s + (file.sha256 === undefined ? file.size : 0), 0), 0));
  const results: Hashed[] = planned.map(() => ({ files: [], inspections: new Map() }));
  let failure: { plan: Planned; path: string; code: string; message: string } | undefined;
  /** File `index` of source `p` as read (or as the hash record says it was read). */
  const answer = (p: number, index: number, result: HashResult): void => {
    const plan = planned[p] as Planned;
    const target = results[p] as Hashed;
    const hiddenPath = index >= plan.files.length ? plan.resolved.onDisk?.hidden?.[index - plan.files.length] : undefined;
    if (hiddenPath !== undefined) {
      // A left-out file that cannot be read cannot hide anything from the gate either way.
      if (result.ok && result.format) (target.hidden ??= []).push({ path: hiddenPath, inspection: result.inspection ?? { format: result.format } });
      return;
    }
    const path = plan.files[index]?.path ?? '';
    if (!result.ok) {
      failure ??= { plan, path, code: result.code, message: result.message };
      return;
    }
    const entry: FileEntry = { path, size: result.size, sha256: result.sha256 };
    if (result.chunks) entry.chunks = { size: chunkSize, sha256: result.chunks };
    if (result.format) entry.format = result.format;
    target.files[index] = entry;
    // Only what says more than a format is kept: 300,000 small files keep no object each.
    if (result.inspection) target.inspections.set(index, result.inspection);
  };
  // Big files fetch brought (or found) and hashed as they came: taken from its record, not read again.
  const record = await openHashRecord(options.env);
  const jobs: HashJob[] = [];
  // Which source and which of its files each job is: two numbers a job, not an object. Files
  // --ignore leaves out come after a source's own, for the format gate only.
  const total = planned.reduce((sum, plan) => sum + (plan.resolved.onDisk ? plan.files.length + (plan.resolved.onDisk.hidden?.length ?? 0) : 0), 0);
  const ownerPlan = new Uint32Array(total);
  const ownerIndex = new Uint32Array(total);
  planned.forEach((plan, p) => {
    const disk = plan.resolved.onDisk;
    if (!disk) return;
    (results[p] as Hashed).files = new Array<FileEntry>(plan.files.length);
    plan.files.forEach((file, index) => {
      const chunks = wantsChunks(file.size, chunkSize) ? { chunks: { size: chunkSize, whole: true } } : {};
      const job: HashJob = { path: file.path, root: disk.realRoot, linkRoot: disk.linkRoot, expectedSize: file.size, followSymlinks: disk.followSymlinks, inspect: true, ...chunks };
      const recorded = chunks.chunks && record ? getRecordedResult(record, job, chunkSize) : undefined;
      if (recorded) return answer(p, index, recorded);
      ownerPlan[jobs.length] = p;
      ownerIndex[jobs.length] = index;
      jobs.push(job);
    });
    (disk.hidden ?? []).forEach((path, k) => {
      ownerPlan[jobs.length] = p;
      ownerIndex[jobs.length] = plan.files.length + k;
      jobs.push({ path, root: disk.realRoot, followSymlinks: false, inspect: true });
    });
  });
  await pool.hashEach(jobs, (j, result) => answer(ownerPlan[j] ?? 0, ownerIndex[j] ?? 0, result));
  jobs.length = 0;
  if (failure) {
    const where = failure.plan.resolved.layout === 'file' ? failure.plan.spec : join(failure.plan.spec, failure.path);
    throw new AiscError(failure.code as 'FILE_CHANGED', `${where}: ${failure.message}`);
  }
  for (const [p, plan] of planned.entries()) {
    if (plan.resolved.onDisk) continue;
    results[p] = await hashRemoteFiles(plan.spec, plan.resolved, plan.files, (n) => (remoteBytes += n), chunkSize);
  }
  return results;
}

async function record(planned: Planned[], hashed: Hashed[], options: LockOptions, ignore: string[], before: LockfileSnapshot | undefined, rules: Rules, chunkSize: number): Promise<LockResult> {
  const hashRecord = planned.some((plan) => !plan.resolved.onDisk) ? await openHashRecord(options.env) : undefined;
  const locked = planned.map((plan, p) => {
    const { files, inspections } = hashed[p] as Hashed;
    const facts = getFormatFacts(files, inspections);
    files.forEach((file, i) => {
      const format = inspections.get(i)?.format;
      if (format !== undefined) file.format = format;
    });
    const artifact = toArtifact(plan, files, facts, options, ignore);
    // Files the origin listed by digest: their chunks, when fetch hashed them here as they came.
    if (hashRecord && !plan.resolved.onDisk) addRecordedChunks(hashRecord, plan.name, artifact, options.lockfile, options.env ?? process.env, chunkSize);
    // Recorded: a million listing entries are garbage before the manifest is written.
    plan.files = [];
    const origin = toRecorded(artifact.source);
    return { name: plan.name, artifact, ...(origin.onDisk ? {} : { from: origin.describe() }) };
  });
  const undo = await recordSignatures(planned, locked, options, rules);
  try {
    return await recordLocked(locked, options, before, rules);
  } catch (error) {
    for (const step of undo) await step();
    throw error;
  }
}

/**
 * Each artifact's signature: the publisher's bundle found with it (checked against the files
 * just hashed, for the signers the command line or the policy name), else an OCI artifact's
 * attached cosign signature when a signer is given. A signer given with no signature found is
 * SIGNATURE_MISSING. Returns how to take back the bundles kept, should the lock be refused.
 */
async function recordSignatures(planned: Planned[], locked: LockResult['locked'], options: LockOptions, rules: Rules): Promise<(() => Promise<void>)[]> {
  const undo: (() => Promise<void>)[] = [];
  const request = options.signature;
  try {
    for (const [p, plan] of planned.entries()) {
      const entry = locked[p];
      if (!entry) continue;
      const located = plan.bundle;
      if (located) {
        const file = await readLocated(plan, located);
        const signature = await judgeBundle(plan, entry.artifact.files, located, file, { lockfile: options.lockfile, request, rules, force: options.force, onNote: options.onWait });
        if (signature) {
          undo.push(await keepBundle(signature, located, file, options.lockfile));
          entry.artifact.signature = signature;
        }
        continue;
      }
      if (plan.resolved.attachedSignatures) {
        // An OCI artifact's signature may be attached to it in its registry (cosign's): found there,
        // for the signer given, else for those the policy names.
        const signers = request?.policy ? [request.policy] : ((await toCandidates(plan, { lockfile: options.lockfile, request, rules })) ?? []).map((c) => c.policy);
        if (signers.length === 0) continue;
        const { recordAttachedSignature } = await import('./attached-signature.js');
        entry.artifact.signature = await recordAttachedSignature(await plan.resolved.attachedSignatures(), signers, options.lockfile, request?.trustedRoot);
        continue;
      }
      if (!request?.policy) continue;
      const looked = plan.resolved.layout === 'file' ? `${plan.spec}.sigstore.json beside it` : `model.sig at its root`;
      const { SignatureFinding } = await import('../signing/errors.js');
      throw new SignatureFinding('SIGNATURE_MISSING', `${plan.spec}: a signer was given but no signature was found (looked for ${looked}; --signature BUNDLE names one); nothing was locked`);
    }
  } catch (error) {
    for (const step of undo) await step();
    throw error;
  }
  return undo;
}

async function recordLocked(locked: LockResult['locked'], options: LockOptions, before: LockfileSnapshot | undefined, rules: Rules): Promise<LockResult> {
  const lockfile = await updateLockfile(
    options.lockfile,
    (current) => {
      const artifacts = new Map(current.artifacts);
      for (const { name, artifact } of locked) artifacts.set(name, artifact);
      const next = { ...current, artifacts };
      if (rules && !options.force) {
        const names = new Set(locked.map((l) => l.name));
        const violations = rules.evaluate(rules.policy, next).filter((finding) => names.has(finding.artifact ?? ''));
        if (violations.length > 0) {
          const [first, ...rest] = violations.map((v) => `${v.artifact}: ${v.message}`);
          throw new AiscError('POLICY_VIOLATION', `${first ?? ''} (${rules.policy.where}; --force records it anyway, verify will still fail)`, { problems: rest });
        }
      }
      for (const { name, artifact } of locked) {
        const unknown = (artifact.dependsOn ?? []).filter((dep) => !artifacts.has(dep));
        if (unknown.length > 0) {
          throw new AiscError('UNKNOWN_DEPENDENCY', `--depends-on: expected a locked artifact, got ${unknown.map((u) => JSON.stringify(u)).join(', ')} (lock it first, then ${name})`);
        }
      }
      return next;
    },
    { onWait: options.onWait, reuse: before },
  );
  return { lockfile, locked };
}

/**
 * The content gate: every file hashed, and every file --ignore left out, is judged by what its
 * bytes are. An unsafe pickle (imports beyond aisc's allowlist and the policy's `pickleImports`
 * for this artifact), a container that cannot be opened, a malformed weight header or a pickle
 * under a code-free name refuses the lock (exit 1); --force records it and verify still fails.
 */
function assertSafeContent(planned: Planned[], hashed: Hashed[], rules: Rules): void {
  const problems: [string, string][] = [];
  planned.forEach((plan, p) => {
    const { files, inspections, hidden } = hashed[p] as Hashed;
    const allowed = rules ? rules.allowedImports(rules.policy, plan.name, plan.kind, toRecorded(plan.resolved.source).origin) : undefined;
    const where = (path: string): string => (plan.resolved.layout === 'file' ? plan.spec : join(plan.spec, path));
    files.forEach((file, i) => {
      const inspection = inspections.get(i);
      if (inspection) for (const finding of judgeContent(file.path, inspection, allowed)) problems.push([finding.code, `${where(file.path)}: ${finding.message}`]);
    });
    for (const file of hidden ?? []) {
      for (const finding of judgeContent(file.path, file.inspection, allowed)) problems.push([finding.code, `${where(file.path)}: ${finding.message} (left out by --ignore, but the format gate reads every file)`]);
    }
  });
  if (problems.length === 0) return;
  const [[code = 'PICKLE_UNSAFE', first = ''] = [], ...rest] = problems;
  throw new AiscError(code as 'PICKLE_UNSAFE', `${first}; nothing was locked (--force records it anyway, verify will still fail)`, { problems: rest.map(([other, message]) => (other === code ? message : `${message} [${other}]`)) });
}

/** The policy's `sources` as the registry's gate: the one rule check, no whole evaluation. */
function toOriginGate(rules: NonNullable<Rules>): OriginGate {
  return (origin, artifact) => rules.sourceRefusal(rules.policy, artifact, origin);
}

/** The gate with the names and kinds known and the origins pinned (a snapshot's repo, a URL after redirects). */
function assertAllowedSources(planned: Planned[], gate: OriginGate, where: string): void {
  const refused: string[] = [];
  for (const plan of planned) {
    const why = gate(toRecorded(plan.resolved.source).origin, { name: plan.name, kind: plan.kind });
    if (why !== undefined) refused.push(`${plan.name}: ${why}`);
  }
  if (refused.length > 0) {
    const [first, ...rest] = refused;
    throw new AiscError('POLICY_VIOLATION', `${first ?? ''} (${where}; nothing was hashed; --force records it anyway, verify will still fail)`, { problems: rest });
  }
}

function toArtifact(plan: Planned, files: FileEntry[], format: FormatFacts | undefined, options: LockOptions, ignore: string[]): FileArtifact {
  const sorted = sortFiles(files);
  const artifact: FileArtifact = {
    kind: plan.kind,
    layout: plan.resolved.layout,
    source: plan.resolved.source,
    files: sorted,
    digest: computeRootDigest(sorted),
  };
  if (ignore.length > 0 && plan.resolved.recordsIgnore) artifact.ignore = [...new Set(ignore)].sort(compareCodePoints);
  // Recorded only when links were there to follow: a folder locked without any keeps refusing new
  // ones. A Hub snapshot's links into its blobs/ are the cache layout, not the artifact's.
  if (plan.resolved.followsLinks && plan.files.some((file) => file.link)) artifact.allowSymlinks = true;
  if (options.dependsOn && options.dependsOn.length > 0) artifact.dependsOn = [...new Set(options.dependsOn)].sort(compareCodePoints);
  if (format) artifact.format = format;
  return artifact;
}
