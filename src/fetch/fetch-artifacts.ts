import { AiscError, isAiscError } from '../errors.js';
import { loadRules } from '../lock/rules.js';
import { decodeLockfile, parseLockfile, readLockfileBytes, toManifestReader } from '../lockfile/index.js';
import type { FileArtifact } from '../lockfile/types.js';
import { HashRecord } from '../hashing/hash-record.js';
import { isPresent, Network, runBounded, toFetchError, toRecorded, type Placed, type RecordedSource, type RestorePlan, type Task } from '../sources/index.js';
import { toContentGate } from './content-gate.js';

export interface FetchOptions {
  lockfile: string;
  /** The policy whose pickle allowlist and denyFormats the gate applies (default aisc.policy.yaml when present). */
  policy?: string;
  policyRequired?: boolean;
  /** Downloads at once (default 8). */
  jobs?: number;
  env?: NodeJS.ProcessEnv;
  /** Also lay every OCI artifact's blobs out in this OCI image layout (index.json names each manifest). */
  ociLayout?: string;
  onWait?: (message: string) => void;
  /** Told what fetch did on its own that a user should know (a bad partial download discarded). */
  onNote?: (message: string) => void;
  /** Told the bytes to download once they are known; `done` counts them as they come. */
  onDownloading?: (progress: { bytesDone(): number }, totalBytes: number) => void;
}

export interface FetchedArtifact {
  name: string;
  /** Where it is now: a snapshot folder of the HF cache, or the kept file. */
  where: string;
  files: number;
  downloaded: number;
  present: number;
  bytes: number;
}

/**
 * Downloads exactly what the lockfile pins, nothing else: Hub files into the Hugging Face cache
 * layout (blobs/ by SHA-256 or git blob SHA-1, snapshots/<commit>/ as relative links, refs/), URLs
 * and archives to their kept path. Each file is hashed and inspected while it streams into a
 * partial file and renamed into place only when its digest is the locked one and the content gate
 * (what `aisc lock` refuses, under the policy) passes it; a refused file's bytes are removed and
 * the others still land. A partial download resumes with Range; present and correct files are not
 * downloaded again, but judged again; each blob is locked while written.
 */
export async function fetchArtifacts(names: readonly string[], options: FetchOptions): Promise<FetchedArtifact[]> {
  const bytes = await readLockfileBytes(options.lockfile);
  const lockfile = await parseLockfile(decodeLockfile(bytes, options.lockfile), options.lockfile, toManifestReader(options.lockfile));
  const chosen: [string, FileArtifact, RecordedSource][] = [];
  // A name given twice is fetched once.
  for (const name of new Set(names)) {
    const artifact = lockfile.artifacts.get(name);
    if (!artifact) throw new AiscError('UNKNOWN_ARTIFACT', `${name}: not in ${options.lockfile}`);
    if (artifact.kind === 'npm') throw new AiscError('USAGE', `${name}: an npm package (npm ci installs it); nothing to fetch`);
    const recorded = toRecorded(artifact.source);
    if (recorded.unfetchable !== undefined) throw new AiscError('USAGE', `${name}: ${recorded.unfetchable}; nothing to fetch`);
    chosen.push([name, artifact, recorded]);
  }
  if (names.length === 0) {
    for (const [name, artifact] of lockfile.artifacts) {
      if (artifact.kind === 'npm') continue;
      const recorded = toRecorded(artifact.source);
      if (recorded.unfetchable === undefined) chosen.push([name, artifact, recorded]);
    }
  }
  const rules = await loadRules(options);
  const env = options.env ?? process.env;
  const network = new Network(env);
  try {
    const plans: (RestorePlan & { name: string })[] = [];
    for (const [name, artifact, recorded] of chosen) plans.push({ name, ...(await recorded.restore({ name, artifact, lockfile: options.lockfile, env, network, gate: toContentGate(name, artifact, rules), onNote: options.onNote, ...(options.ociLayout === undefined ? {} : { ociLayout: options.ociLayout }) })) });
    // What is there and right is not downloaded again; the gate judges it all the same.
    const todo: Task[] = [];
    const presentCount = new Map<string, number>();
    const hashed: Placed[] = [];
    const keep = (placed: Placed | void): void => {
      if (placed?.chunks) hashed.push(placed);
    };
    const failures = await runBounded(
      plans.flatMap((plan) => plan.tasks),
      1,
      async (task) => {
        const present = await isPresent(task);
        if (present) {
          keep(present);
          if (!task.extra) presentCount.set(task.artifact, (presentCount.get(task.artifact) ?? 0) + 1);
        }
        else todo.push(task);
      },
    );
    let done = 0;
    options.onDownloading?.({ bytesDone: () => done }, todo.reduce((sum, task) => sum + task.expected.size, 0));
    failures.push(...(await runBounded(todo, options.jobs ?? 8, async (task) => keep(await task.fetch((n) => (done += n))))));
    // Kept even when another file failed: what landed was hashed and judged all the same.
    await recordHashed(hashed, env, options.onNote);
    // An artifact with a file refused or missing is not announced (refs/ stays as it was).
    if (failures.length > 0) throw toFetchError(failures);
    for (const plan of plans) await plan.finish?.();
    return plans.map((plan) => {
      // The artifact's own files: an OCI layout's blobs land too, but are not files of it.
      const files = plan.tasks.filter((task) => !task.extra);
      const present = presentCount.get(plan.name) ?? 0;
      return { name: plan.name, where: plan.where, files: files.length, present, downloaded: files.length - present, bytes: files.reduce((sum, task) => sum + task.expected.size, 0) };
    });
  } finally {
    await network.close();
  }
}

/**
 * The big files just brought or found in place, with what their one pass hashed (SHA-256, chunk
 * digests, what they are), into the hash record: a later `aisc lock` of them, unchanged, takes
 * those and need not read them again. A record that is not this user's alone is not written.
 */
async function recordHashed(hashed: readonly Placed[], env: NodeJS.ProcessEnv, onNote?: (message: string) => void): Promise<void> {
  if (hashed.length === 0) return;
  const record = await HashRecord.open(env, true);
  if (!(record instanceof HashRecord)) return onNote?.(`the hash record is not written: ${record.problem} (a later aisc lock reads these files again)`);
  for (const { path, sha256, size, chunks, inspection } of hashed) {
    if (chunks) record.add(path, { sha256, size, chunks, ...(inspection ? { format: inspection.format, inspection } : {}) });
  }
  await record.save().catch((error: unknown) => {
    if (!isAiscError(error)) throw error;
    onNote?.(`the hash record is not written: ${error.message} (a later aisc lock reads these files again)`);
  });
}
