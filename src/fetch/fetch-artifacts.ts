import { dirname, join, resolve } from 'node:path';
import { AiscError } from '../errors.js';
import { confine, inPlace, withFileLock, type WriteRoot } from '../io/index.js';
import { loadRules } from '../lock/rules.js';
import { decodeLockfile, getPathProblem, parseLockfile, readLockfileBytes, toManifestReader } from '../lockfile/index.js';
import type { FileArtifact } from '../lockfile/types.js';
import { downloadFile, type Expected } from '../sources/download.js';
import { Network } from '../sources/factory.js';
import { toContentGate, type ContentGate } from './content-gate.js';
import { planHub, type Plan } from './plan-hub.js';
import { isPresent, runBounded, toFetchError, type Task } from './task.js';

export interface FetchOptions {
  lockfile: string;
  /** The policy whose pickle allowlist and denyFormats the gate applies (default aisc.policy.yaml when present). */
  policy?: string;
  policyRequired?: boolean;
  /** Downloads at once (default 8). */
  jobs?: number;
  env?: NodeJS.ProcessEnv;
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
  const chosen: [string, FileArtifact][] = [];
  // A name given twice is fetched once.
  for (const name of new Set(names)) {
    const artifact = lockfile.artifacts.get(name);
    if (!artifact) throw new AiscError('UNKNOWN_ARTIFACT', `${name}: not in ${options.lockfile}`);
    if (artifact.kind === 'npm' || !isFetchable(artifact)) throw new AiscError('USAGE', `${name}: ${artifact.kind === 'npm' ? 'an npm package (npm ci installs it)' : 'not locked from a URL or the Hub (or locked without --path)'}; nothing to fetch`);
    chosen.push([name, artifact]);
  }
  if (names.length === 0) {
    for (const [name, artifact] of lockfile.artifacts) if (artifact.kind !== 'npm' && isFetchable(artifact)) chosen.push([name, artifact]);
  }
  const rules = await loadRules(options);
  const env = options.env ?? process.env;
  const network = new Network(env);
  try {
    const plans = chosen.map(([name, artifact]) => planArtifact(name, artifact, options.lockfile, env, network, toContentGate(name, artifact, rules), options.onNote));
    // What is there and right is not downloaded again; the gate judges it all the same.
    const todo: Task[] = [];
    const presentCount = new Map<string, number>();
    const failures = await runBounded(
      plans.flatMap((plan) => plan.tasks),
      1,
      async (task) => {
        if (await isPresent(task)) presentCount.set(task.artifact, (presentCount.get(task.artifact) ?? 0) + 1);
        else todo.push(task);
      },
    );
    let done = 0;
    options.onDownloading?.({ bytesDone: () => done }, todo.reduce((sum, task) => sum + task.expected.size, 0));
    failures.push(...(await runBounded(todo, options.jobs ?? 8, (task) => task.fetch((n) => (done += n)))));
    // An artifact with a file refused or missing is not announced (refs/ stays as it was).
    if (failures.length > 0) throw toFetchError(failures);
    for (const plan of plans) await plan.finish?.();
    return plans.map((plan) => ({
      name: plan.name,
      where: plan.where,
      files: plan.tasks.length,
      present: presentCount.get(plan.name) ?? 0,
      downloaded: plan.tasks.length - (presentCount.get(plan.name) ?? 0),
      bytes: plan.tasks.reduce((sum, task) => sum + task.expected.size, 0),
    }));
  } finally {
    await network.close();
  }
}

function isFetchable(artifact: FileArtifact): boolean {
  const source = artifact.source;
  return source.type === 'huggingface' || (source.type === 'url' && source.path !== undefined) || (source.type === 'archive' && source.url !== undefined && source.path !== undefined);
}

function planArtifact(name: string, artifact: FileArtifact, lockfile: string, env: NodeJS.ProcessEnv, network: Network, gate: ContentGate, onNote?: (message: string) => void): Plan {
  const source = artifact.source;
  if (source.type === 'huggingface') return planHub(name, artifact, source, env, network, gate, onNote);
  const path = source.type === 'url' || source.type === 'archive' ? source.path : undefined;
  const url = source.type === 'url' ? source.url : source.type === 'archive' ? source.url : undefined;
  if (path === undefined || url === undefined) throw new AiscError('USAGE', `${name}: nothing to fetch`);
  // A lockfile from a pull request names the path: fetch writes only under the lockfile's folder.
  const problem = getPathProblem(path);
  if (problem) throw new AiscError('PATH_INVALID', `${name}: source.path ${JSON.stringify(path)}: aisc fetch writes a kept file only under the lockfile's folder, and this path ${problem}`);
  const root = toLockfileRoot(lockfile);
  const dest = join(root.folder, ...path.split('/'));
  const file = artifact.files[0];
  const expected: Expected = source.type === 'archive' ? { size: source.size, sha256: source.sha256 } : { size: file?.size ?? 0, sha256: file?.sha256 ?? '' };
  // A URL's file is judged under its locked name; an archive as the archive its loader would open.
  const judgedAs = source.type === 'archive' ? path.slice(path.lastIndexOf('/') + 1) : (file?.path ?? '');
  const check = (already?: string) => gate(judgedAs, expected.size, already);
  const what = `${name}: ${url}`;
  const task: Task = {
    artifact: name,
    what,
    expected,
    present: dest,
    check,
    fetch: async (onBytes) => {
      const confined = await confine(root, path).catch((error: unknown) => {
        throw inPlace(error, name);
      });
      await withFileLock(`${confined}.aisc.lock`, {}, async () => {
        if (await isPresent(task)) return;
        const request = async (from: number) => (await network.http()).send(url, { what, from });
        await downloadFile({ dest: confined, partial: `${confined}.aisc-download`, root, expected, what, onBytes, check, onNote, request }).catch((error: unknown) => {
          throw inPlace(error, what);
        });
      });
    },
  };
  return { name, where: dest, tasks: [task] };
}

/** The lockfile's folder as the place a kept file is written: nothing below it through a link. */
function toLockfileRoot(lockfile: string): WriteRoot {
  return { folder: dirname(resolve(lockfile)), what: "the lockfile's folder", hint: 'remove the link, or keep the file elsewhere and lock it from there' };
}
