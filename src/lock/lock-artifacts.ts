import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AiscError } from '../errors.js';
import { getFormatFacts, getWeightFormat, type InspectedFile, type SafetensorsCapture } from '../formats/index.js';
import { acquireHashPool, type HashResult, type ProgressSource } from '../hashing/index.js';
import { compareCodePoints, computeRootDigest, getNameProblem, readLockfileSnapshot, sortFiles, updateLockfile, type LockfileSnapshot } from '../lockfile/index.js';
import type { FileArtifact, FileArtifactKind, FileEntry, FormatFacts, Lockfile } from '../lockfile/types.js';
import type { LoadedPolicy } from '../policy/types.js';
import type { SignerPolicy } from '../signing/verify-bundle.js';
import { toIgnoreMatcher, toLocalSource } from '../sources/index.js';
import { getBundleInside, planSource, type Planned } from './plan.js';

export interface LockOptions {
  lockfile: string;
  kind?: FileArtifactKind;
  name?: string;
  ignore?: string[];
  dependsOn?: string[];
  allowSymlinks?: boolean;
  jobs?: number;
  onWait?: (message: string) => void;
  onHashing?: (progress: ProgressSource, totalBytes: number) => void;
  /** Verify this bundle over the artifact and pin its signer in the lockfile. */
  signature?: { bundle: string; policy: SignerPolicy; trustedRoot?: string };
  /** The policy whose rules the new entries must meet (a missing default file means none). */
  policy?: string;
  policyRequired?: boolean;
  /** Record even what the policy forbids (verify still fails on it). */
  force?: boolean;
}

export interface LockResult {
  lockfile: Lockfile;
  locked: { name: string; artifact: FileArtifact }[];
}

/**
 * Locks local artifacts: list (refusing what cannot be recorded safely), hash on the worker pool,
 * read format facts, then insert under the lockfile lock. Nothing is written unless all succeed.
 */
export async function lockArtifacts(sources: readonly string[], options: LockOptions): Promise<LockResult> {
  if (sources.length === 0) throw new AiscError('USAGE', 'aisc lock: expected at least one source');
  if (options.name !== undefined && sources.length > 1) throw new AiscError('USAGE', '--name: expected one source, got ' + sources.length);
  if (options.signature && sources.length !== 1) throw new AiscError('USAGE', `--signature: expected one source, got ${sources.length}`);
  for (const dependency of options.dependsOn ?? []) {
    const problem = getNameProblem(dependency);
    if (problem) throw new AiscError('NAME_INVALID', `--depends-on: expected an artifact name, got ${JSON.stringify(dependency)}, which ${problem}`);
  }
  // A bundle kept inside the model folder is not part of what it signs.
  const ignore = [...(options.ignore ?? []), ...getBundleInside(sources[0], options.signature?.bundle)];
  const matcher = toIgnoreMatcher(ignore);
  const pool = acquireHashPool({ jobs: options.jobs });
  try {
    // Fail before hashing gigabytes if the lockfile we would write into is unusable.
    const before = await readLockfileSnapshot(options.lockfile);
    const rules = await loadRules(options);
    const planned = sources.map((path) => planSource(path, options, matcher));
    const names = new Set<string>();
    for (const { name } of planned) {
      if (names.has(name)) throw new AiscError('USAGE', `two sources would both be named ${JSON.stringify(name)}; lock them one at a time with --name`);
      names.add(name);
    }
    // The gate comes first: a source the policy does not allow is refused before a byte is hashed.
    if (rules && !options.force) assertAllowedSources(planned, rules, options.lockfile);
    const jobs = planned.flatMap((p) => p.jobs);
    options.onHashing?.(pool, jobs.reduce((sum, job) => sum + (job.expectedSize ?? 0), 0));
    // Each result becomes its file entry as it arrives: a million results are never held at once.
    const hashed: Hashed = { files: new Array<FileEntry>(jobs.length), headers: new Map(), failures: new Map() };
    await pool.hashEach(jobs, (index, result) => {
      const path = jobs[index]?.path ?? '';
      if (!result.ok) hashed.failures.set(index, result);
      else {
        hashed.files[index] = { path, size: result.size, sha256: result.sha256 };
        if (result.safetensors) hashed.headers.set(index, result.safetensors);
      }
    });
    // Hashed: the jobs (an object a file) are not needed to record, and a million of them add up.
    jobs.length = 0;
    for (const plan of planned) plan.jobs = [];
    return await record(planned, hashed, options, ignore, before, rules);
  } finally {
    await pool.close();
  }
}

type Rules = Awaited<ReturnType<typeof loadRules>>;

/** What the hash pool gave back, by job index: entries, captured headers, and failures. */
interface Hashed {
  files: FileEntry[];
  headers: Map<number, SafetensorsCapture>;
  failures: Map<number, Extract<HashResult, { ok: false }>>;
}

async function record(planned: Planned[], hashed: Hashed, options: LockOptions, ignore: string[], before: LockfileSnapshot | undefined, rules: Rules): Promise<LockResult> {
  let offset = 0;
  const locked = planned.map((plan) => {
    const count = plan.entries.length;
    const failed = [...hashed.failures.keys()].filter((index) => index >= offset && index < offset + count).sort((a, b) => a - b)[0];
    if (failed !== undefined) {
      const failure = hashed.failures.get(failed);
      const entry = plan.entries[failed - offset];
      throw new AiscError(failure?.code ?? 'INTERNAL', `${join(plan.path, plan.target.layout === 'file' ? '' : (entry?.path ?? ''))}: ${failure?.message ?? 'not hashed'}`);
    }
    const files = hashed.files.slice(offset, offset + count);
    const inspected: InspectedFile[] = [];
    files.forEach((file, i) => {
      if (getWeightFormat(file.path)) inspected.push({ ...file, safetensors: hashed.headers.get(offset + i) });
    });
    offset += count;
    const artifact = toArtifact(plan, files, getFormatFacts(inspected), options, ignore);
    // Recorded: a million listing entries are garbage before the manifest is written.
    plan.entries = [];
    return { name: plan.name, artifact };
  });
  hashed.files.length = 0;
  if (options.signature) {
    const { bundle, policy, trustedRoot } = options.signature;
    const { verifyArtifactSignature } = await import('../signing/artifact-signature.js');
    for (const { artifact } of locked) {
      const path = planned[0]?.path ?? '';
      artifact.signature = await verifyArtifactSignature({ layout: artifact.layout, path, files: artifact.files }, bundle, policy, options.lockfile, trustedRoot);
    }
  }

  const lockfile = await updateLockfile(
    options.lockfile,
    (current) => {
      const artifacts = new Map(current.artifacts);
      for (const { name, artifact } of locked) artifacts.set(name, artifact);
      const next = { ...current, artifacts };
      if (rules && !options.force) {
        const names = new Set(locked.map((l) => l.name));
        const violations = rules.evaluate(rules.policy, next).filter((finding) => names.has(finding.artifact));
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

function assertAllowedSources(planned: Planned[], rules: NonNullable<Rules>, lockfile: string): void {
  const artifacts = new Map<string, FileArtifact>(
    planned.map((plan) => [plan.name, { kind: plan.kind, layout: plan.target.layout, source: toLocalSource(plan.path, lockfile), files: [], digest: '' }]),
  );
  const refused = rules.evaluate(rules.policy, { lockfileVersion: 1, artifacts }).filter((finding) => finding.code === 'POLICY_SOURCE');
  if (refused.length > 0) {
    const [first, ...rest] = refused.map((finding) => `${finding.artifact}: ${finding.message}`);
    throw new AiscError('POLICY_VIOLATION', `${first ?? ''} (${rules.policy.where}; nothing was hashed; --force records it anyway, verify will still fail)`, { problems: rest });
  }
}

export async function loadRules(options: Pick<LockOptions, 'policy' | 'policyRequired'>): Promise<{ policy: LoadedPolicy; evaluate: typeof import('../policy/evaluate.js').evaluateRules } | undefined> {
  const path = options.policy ?? 'aisc.policy.yaml';
  // No policy file, nothing to load: the YAML and policy modules stay out of plain locks.
  if (!options.policyRequired && !existsSync(path)) return undefined;
  const { loadOptionalPolicy } = await import('../policy/change-set.js');
  const { loadPolicy } = await import('../policy/read.js');
  const policy = options.policyRequired ? await loadPolicy(path) : await loadOptionalPolicy(path);
  if (!policy) return undefined;
  const { evaluateRules } = await import('../policy/evaluate.js');
  return { policy, evaluate: evaluateRules };
}

function toArtifact(plan: Planned, files: FileEntry[], format: FormatFacts | undefined, options: LockOptions, ignore: string[]): FileArtifact {
  const sorted = sortFiles(files);
  const artifact: FileArtifact = {
    kind: plan.kind,
    layout: plan.target.layout,
    source: toLocalSource(plan.path, options.lockfile),
    files: sorted,
    digest: computeRootDigest(sorted),
  };
  if (ignore.length > 0) artifact.ignore = [...new Set(ignore)].sort(compareCodePoints);
  // Recorded only when links were there to follow: a folder locked without any keeps refusing new ones.
  if (options.allowSymlinks && plan.entries.some((entry) => entry.type === 'symlink')) artifact.allowSymlinks = true;
  if (options.dependsOn && options.dependsOn.length > 0) artifact.dependsOn = [...new Set(options.dependsOn)].sort(compareCodePoints);
  if (format) artifact.format = format;
  return artifact;
}
