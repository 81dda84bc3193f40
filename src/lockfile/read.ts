import { AiscError } from '../errors.js';
import { decodeUtf8, describeJsonValue, parseJsonStrict, readBoundedBytes, recode } from '../io/index.js';
import { getChunksProblem } from './chunks.js';
import { COMMIT, getHubRefProblem, getHubRepoProblem } from './hub-names.js';
import { getPathProblem } from './paths.js';
import { getLockfileValidator, toProblemLines } from './schema.js';
import { toOneLine, toPointerText } from '../io/problem-line.js';
import { readManifest, toManifestReader, type ManifestReader } from './manifest.js';
import { getNameProblem } from './names.js';
import { LOCKFILE_VERSION, type Artifact, type HubSource, type Lockfile, type NpmArtifact } from './types.js';

export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

/** Lockfile codes for the IO layer's neutral ones. */
const LOCKFILE_CODES = { FILE_NOT_FOUND: 'LOCKFILE_NOT_FOUND', FILE_UNREADABLE: 'LOCKFILE_UNREADABLE', FILE_TOO_LARGE: 'LOCKFILE_TOO_LARGE', TEXT_INVALID: 'LOCKFILE_UNREADABLE' } as const;

/** Reads and fully validates a lockfile; throws an AiscError (exit 2) listing every problem. */
export async function readLockfile(path: string): Promise<Lockfile> {
  const bytes = await readLockfileBytes(path);
  return parseLockfile(decodeLockfile(bytes, path), path, toManifestReader(path));
}

/** The lockfile's bytes, bounded; a missing one says how to make it. */
export async function readLockfileBytes(path: string): Promise<Buffer> {
  try {
    return await readBoundedBytes(path, { limit: MAX_LOCKFILE_BYTES, what: 'lockfile' });
  } catch (error) {
    if (error instanceof AiscError && error.code === 'FILE_NOT_FOUND') throw new AiscError('LOCKFILE_NOT_FOUND', `${path}: no such file (run 'aisc init' or 'aisc lock' first)`, { cause: error });
    throw recode(error, LOCKFILE_CODES);
  }
}

export function decodeLockfile(bytes: Uint8Array, where: string): string {
  try {
    return decodeUtf8(bytes, where, 'lockfile');
  } catch (error) {
    throw recode(error, LOCKFILE_CODES);
  }
}

export interface LockfileSnapshot {
  /** The bytes as read, to tell later whether the file changed since. */
  text: string;
  lockfile: Lockfile;
}

/**
 * Reads and validates, or returns undefined when there is no lockfile yet (what `aisc lock` starts
 * from). `reuse` is a snapshot from earlier: when the text is the same, it is not parsed again.
 * Manifests are checked against their pins but not listed (their artifacts have empty `files`):
 * a lock rewrites them untouched, and never carries a broken pin forward.
 */
export async function readLockfileSnapshot(path: string, reuse?: LockfileSnapshot): Promise<LockfileSnapshot | undefined> {
  let text: string;
  try {
    text = decodeLockfile(await readLockfileBytes(path), path);
  } catch (error) {
    if (error instanceof AiscError && error.code === 'LOCKFILE_NOT_FOUND') return undefined;
    throw error;
  }
  if (reuse && reuse.text === text) return reuse;
  return { text, lockfile: await parseLockfile(text, path, toManifestReader(path), { listFiles: false }) };
}

/**
 * Parses lockfile text: strict JSON, then version, then schema, then what a schema cannot say,
 * then each manifest through `manifests` (checked against its pinned digest, size and count).
 * With `listFiles: false` manifests are only checked, and their artifacts' `files` stay empty.
 * Without a reader a manifest is an error.
 */
export async function parseLockfile(text: string, where: string, manifests?: ManifestReader, options: { listFiles?: boolean } = {}): Promise<Lockfile> {
  if (text.trim() === '') throw new AiscError('LOCKFILE_EMPTY', `${where}: expected a JSON lockfile, got an empty file`);
  const data = parseJsonStrict(text, where);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new AiscError('LOCKFILE_INVALID', `${where}: expected a JSON object, got ${describeJsonValue(data)}`);
  }
  const version = (data as { lockfileVersion?: unknown }).lockfileVersion;
  if (version !== LOCKFILE_VERSION) throw new AiscError('LOCKFILE_VERSION_UNSUPPORTED', `${where}: ${describeVersionProblem(version)}`);
  const validate = await getLockfileValidator();
  if (!validate(data)) {
    // Keys are data: one holding a line break is shown quoted, never breaking the line.
    throw invalid(where, toProblemLines((validate.errors ?? []).map((error) => ({ ...error, instancePath: toPointerText(error.instancePath) }))));
  }
  const raw = data as { lockfileVersion: typeof LOCKFILE_VERSION; artifacts: object };
  const lockfile: Lockfile = { lockfileVersion: raw.lockfileVersion, artifacts: new Map(Object.entries(raw.artifacts) as [string, Artifact][]) };
  // An artifact with a manifest has no `files` in the text: it gets them from the manifest below.
  for (const artifact of lockfile.artifacts.values()) if (artifact.kind !== 'npm' && artifact.manifest) artifact.files = [];
  const problems = getSemanticProblems(lockfile);
  if (problems.length > 0) throw invalid(where, problems);
  for (const [name, artifact] of lockfile.artifacts) {
    if (artifact.kind === 'npm' || !artifact.manifest) continue;
    if (manifests === undefined) throw new AiscError('LOCKFILE_INVALID', `${where}: /artifacts/${name} keeps its files in a manifest, which this reader cannot reach`);
    const list = await readManifest(manifests, artifact.manifest, `${where}: /artifacts/${name}`, options.listFiles ?? true);
    artifact.files = options.listFiles === false ? [] : list;
  }
  return lockfile;
}

function describeVersionProblem(version: unknown): string {
  if (version === undefined) return `expected lockfileVersion ${LOCKFILE_VERSION}, got none (is this an aisc lockfile?)`;
  if (typeof version !== 'number') return `expected lockfileVersion ${LOCKFILE_VERSION}, got ${describeJsonValue(version)}`;
  if (!Number.isFinite(version)) return `expected lockfileVersion ${LOCKFILE_VERSION}, got a number too large to represent`;
  if (Number.isInteger(version) && version > LOCKFILE_VERSION) {
    const shown = Number.isSafeInteger(version) ? String(version) : `${version.toExponential(3)} (absurdly large)`;
    return `lockfileVersion ${shown} is newer than this aisc reads (${LOCKFILE_VERSION}); upgrade aisc`;
  }
  return `expected lockfileVersion ${LOCKFILE_VERSION}, got ${version}`;
}

function invalid(where: string, problems: string[]): AiscError {
  const [first = 'is invalid', ...rest] = problems.map(toOneLine);
  return new AiscError('LOCKFILE_INVALID', `${where}: ${first}`, {
    problems: rest.map((line) => `${where}: ${line}`),
  });
}

function getSemanticProblems(lockfile: Lockfile): string[] {
  const problems: string[] = [];
  for (const [name, artifact] of lockfile.artifacts) {
    const nameProblem = getNameProblem(name);
    if (nameProblem) problems.push(`/artifacts: the name ${JSON.stringify(name)} ${nameProblem}`);
    for (const dependency of (artifact.kind === 'npm' ? [] : artifact.dependsOn) ?? []) {
      const problem = getNameProblem(dependency);
      if (problem) problems.push(`/artifacts/${name}/dependsOn: the name ${JSON.stringify(dependency)} ${problem}`);
    }
    if (artifact.kind === 'npm') {
      problems.push(...getNpmProblems(name, artifact));
      continue;
    }
    if (artifact.manifest && artifact.layout === 'file') problems.push(`/artifacts/${name}: a single-file artifact lists its one file, not a manifest`);
    const seen = new Set<string>();
    artifact.files.forEach((file, index) => {
      const problem = getPathProblem(file.path);
      if (problem) problems.push(`/artifacts/${name}/files/${index}/path: expected a safe relative path, got ${JSON.stringify(file.path)} (${problem})`);
      if (seen.has(file.path)) problems.push(`/artifacts/${name}/files/${index}/path: duplicate path ${JSON.stringify(file.path)}`);
      seen.add(file.path);
      // Digests that do not cover the file exactly could not all be checked: refused, not skipped.
      const chunks = file.chunks && getChunksProblem(file.size, file.chunks);
      if (chunks) problems.push(`/artifacts/${name}/files/${index}/chunks: ${chunks}`);
    });
    const signaturePath = artifact.signature?.path;
    if (signaturePath !== undefined) {
      // Left out of the artifact by verify: never a path outside it, a file of it, or a one-file artifact's.
      const problem = getPathProblem(signaturePath);
      if (problem) problems.push(`/artifacts/${name}/signature/path: expected a safe relative path, got ${JSON.stringify(signaturePath)} (${problem})`);
      else if (seen.has(signaturePath)) problems.push(`/artifacts/${name}/signature/path: ${JSON.stringify(signaturePath)} is a locked file of the artifact, not its signature`);
      else if (artifact.layout === 'file') problems.push(`/artifacts/${name}/signature/path: a single-file artifact has no inside to find a bundle in`);
    }
    if (artifact.layout === 'file' && artifact.files.length !== 1) {
      problems.push(`/artifacts/${name}/files: expected exactly one file for layout "file", got ${artifact.files.length}`);
    }
    if (artifact.layout === 'file' && artifact.files[0]?.path.includes('/')) {
      problems.push(`/artifacts/${name}/files/0/path: expected a base name for layout "file", got ${JSON.stringify(artifact.files[0].path)}`);
    }
    if (artifact.source.type === 'huggingface') problems.push(...getHubSourceProblems(name, artifact.source));
    // Whichever kind keeps a path (a folder, a kept download or archive), it is '/'-separated.
    const kept = (artifact.source as { path?: unknown }).path;
    if (typeof kept === 'string' && (kept.includes('\0') || kept.includes('\\'))) {
      problems.push(`/artifacts/${name}/source/path: expected a '/'-separated path without NUL or backslash`);
    }
    if (artifact.dependsOn?.includes(name)) problems.push(`/artifacts/${name}/dependsOn: an artifact cannot depend on itself`);
  }
  return problems;
}

/** What the schema's patterns already say, in words, and what they cannot: a commit-like ref must be the commit. */
function getHubSourceProblems(name: string, source: HubSource): string[] {
  const problems: string[] = [];
  const repo = getHubRepoProblem(source.repo);
  if (repo) problems.push(`/artifacts/${name}/source/repo: ${JSON.stringify(source.repo)} ${repo}`);
  const ref = getHubRefProblem(source.ref);
  if (ref) problems.push(`/artifacts/${name}/source/ref: expected a branch, tag, refs/pr/N or 40-hex commit, got ${JSON.stringify(source.ref)}, which ${ref}`);
  else if (COMMIT.test(source.ref) && source.ref !== source.revision) problems.push(`/artifacts/${name}/source/ref: the commit ${source.ref} is not the revision ${source.revision} it was listed at`);
  return problems;
}

function getNpmProblems(name: string, artifact: NpmArtifact): string[] {
  const problems: string[] = [];
  if (name !== `npm:${artifact.package}@${artifact.version}`) problems.push(`/artifacts/${name}: expected the name npm:${artifact.package}@${artifact.version} for this package`);
  const path = artifact.source.packageLock;
  if (path.includes('\0') || path.includes('\\')) problems.push(`/artifacts/${name}/source/packageLock: expected a '/'-separated path without NUL or backslash`);
  return problems;
}
