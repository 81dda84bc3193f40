import { open, type FileHandle } from 'node:fs/promises';
import { AiscError, errnoCode } from '../errors.js';
import { getPathProblem } from './paths.js';
import { getLockfileValidator, toProblemLines } from './schema.js';
import { parseJsonStrict } from './strict-json.js';
import { LOCKFILE_VERSION, type Lockfile, type NpmArtifact } from './types.js';

export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

/** Reads and fully validates a lockfile; throws an AiscError (exit 2) listing every problem. */
export async function readLockfile(path: string): Promise<Lockfile> {
  return parseLockfile(await readLockfileText(path), path);
}

async function readLockfileText(path: string): Promise<string> {
  try {
    return await readBounded(path, MAX_LOCKFILE_BYTES);
  } catch (error) {
    if (error instanceof AiscError && error.code === 'LOCKFILE_NOT_FOUND') throw new AiscError('LOCKFILE_NOT_FOUND', `${path}: no such file (run 'aisc init' or 'aisc lock' first)`, { cause: error });
    throw error;
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
 */
export async function readLockfileSnapshot(path: string, reuse?: LockfileSnapshot): Promise<LockfileSnapshot | undefined> {
  let text: string;
  try {
    text = await readBounded(path, MAX_LOCKFILE_BYTES);
  } catch (error) {
    if (error instanceof AiscError && error.code === 'LOCKFILE_NOT_FOUND') return undefined;
    throw error;
  }
  if (reuse && reuse.text === text) return reuse;
  return { text, lockfile: await parseLockfile(text, path) };
}

export async function readBounded(path: string, limit: number): Promise<string> {
  return decodeUtf8(await readBoundedBytes(path, limit), path);
}

export function decodeUtf8(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new AiscError('LOCKFILE_UNREADABLE', `${path}: expected UTF-8 text`, { cause: error });
  }
}

/** A regular file's bytes, refusing more than `limit`: untrusted input is read bounded. */
export async function readBoundedBytes(path: string, limit: number): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') throw new AiscError('LOCKFILE_NOT_FOUND', `${path}: no such file`, { cause: error });
    throw new AiscError('LOCKFILE_UNREADABLE', `${path}: cannot open (${code ?? String(error)})`, { cause: error });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new AiscError('LOCKFILE_UNREADABLE', `${path}: expected a regular file`);
    if (stat.size > limit) throw new AiscError('LOCKFILE_TOO_LARGE', `${path}: expected at most ${limit} bytes, got ${stat.size}`);
    // Sized by what stat says (plus one byte to notice growth), never by the limit.
    const buffer = Buffer.alloc(Math.min(limit, stat.size) + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length === buffer.length) throw new AiscError('LOCKFILE_UNREADABLE', `${path}: grew while it was read`);
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof AiscError) throw error;
    throw new AiscError('LOCKFILE_UNREADABLE', `${path}: cannot read (${errnoCode(error) ?? String(error)})`, { cause: error });
  } finally {
    await handle.close();
  }
}

/** Parses lockfile text: strict JSON, then version, then schema, then what a schema cannot say. */
export async function parseLockfile(text: string, where: string): Promise<Lockfile> {
  if (text.trim() === '') throw new AiscError('LOCKFILE_EMPTY', `${where}: expected a JSON lockfile, got an empty file`);
  const data = parseJsonStrict(text, where);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new AiscError('LOCKFILE_INVALID', `${where}: expected a JSON object, got ${Array.isArray(data) ? 'an array' : typeof data}`);
  }
  const version = (data as { lockfileVersion?: unknown }).lockfileVersion;
  if (version !== LOCKFILE_VERSION) {
    throw new AiscError('LOCKFILE_VERSION_UNSUPPORTED', `${where}: expected lockfileVersion ${LOCKFILE_VERSION}, got ${JSON.stringify(version) ?? 'none'}`);
  }
  const validate = await getLockfileValidator();
  if (!validate(data)) {
    throw invalid(where, toProblemLines(validate.errors ?? []));
  }
  const lockfile = data as Lockfile;
  const problems = getSemanticProblems(lockfile);
  if (problems.length > 0) throw invalid(where, problems);
  return lockfile;
}

function invalid(where: string, problems: string[]): AiscError {
  const [first = 'is invalid', ...rest] = problems;
  return new AiscError('LOCKFILE_INVALID', `${where}: ${first}`, {
    problems: rest.map((line) => `${where}: ${line}`),
  });
}

function getSemanticProblems(lockfile: Lockfile): string[] {
  const problems: string[] = [];
  for (const [name, artifact] of Object.entries(lockfile.artifacts)) {
    if (artifact.kind === 'npm') {
      problems.push(...getNpmProblems(name, artifact));
      continue;
    }
    const seen = new Set<string>();
    artifact.files.forEach((file, index) => {
      const problem = getPathProblem(file.path);
      if (problem) problems.push(`/artifacts/${name}/files/${index}/path: expected a safe relative path, got ${JSON.stringify(file.path)} (${problem})`);
      if (seen.has(file.path)) problems.push(`/artifacts/${name}/files/${index}/path: duplicate path ${JSON.stringify(file.path)}`);
      seen.add(file.path);
    });
    if (artifact.layout === 'file' && artifact.files.length !== 1) {
      problems.push(`/artifacts/${name}/files: expected exactly one file for layout "file", got ${artifact.files.length}`);
    }
    if (artifact.layout === 'file' && artifact.files[0]?.path.includes('/')) {
      problems.push(`/artifacts/${name}/files/0/path: expected a base name for layout "file", got ${JSON.stringify(artifact.files[0].path)}`);
    }
    if (artifact.source.path.includes('\0') || artifact.source.path.includes('\\')) {
      problems.push(`/artifacts/${name}/source/path: expected a '/'-separated path without NUL or backslash`);
    }
    if (artifact.dependsOn?.includes(name)) problems.push(`/artifacts/${name}/dependsOn: an artifact cannot depend on itself`);
  }
  return problems;
}

function getNpmProblems(name: string, artifact: NpmArtifact): string[] {
  const problems: string[] = [];
  if (name !== `npm:${artifact.package}@${artifact.version}`) problems.push(`/artifacts/${name}: expected the name npm:${artifact.package}@${artifact.version} for this package`);
  const path = artifact.source.packageLock;
  if (path.includes('\0') || path.includes('\\')) problems.push(`/artifacts/${name}/source/packageLock: expected a '/'-separated path without NUL or backslash`);
  return problems;
}
