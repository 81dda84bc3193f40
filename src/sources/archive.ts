import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { posix } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { AiscError } from '../errors.js';
import { ContentInspector } from '../formats/inspect.js';
import { getPathProblem } from '../lockfile/paths.js';
import type { ListedFile } from './listing.js';

export { isArchivePath } from './archive-path.js';

export interface ListedArchive {
  sha256: string;
  size: number;
  compression: 'none' | 'gzip';
  /** Every regular member (and link to one), with the SHA-256 of its bytes. */
  files: ListedFile[];
  /** Some members are symlinks to members: an extracted copy is checked following them. */
  hasLinks: boolean;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * Reads a .tar or .tar.gz as it streams, never extracting it: the archive's own SHA-256 and every
 * member's path, size and SHA-256. A member that an extraction would write outside its folder
 * (`..`, an absolute path, a link leaving the archive or a member under a link), a device or FIFO,
 * or a path given twice is ARCHIVE_UNSAFE; a corrupt archive is ARCHIVE_INVALID (both exit 1).
 */
export async function listArchive(bytes: AsyncIterable<Buffer>, what: string): Promise<ListedArchive> {
  const whole = createHash('sha256');
  let size = 0;
  let first: Buffer | undefined;
  const files = new Map<string, ListedFile>();
  const folders = new Set<string>();
  const symlinks = new Map<string, string>();
  const hardLinks = new Map<string, string>();
  let failure: AiscError | undefined;
  const fail = (error: AiscError): void => {
    failure ??= error;
  };
  const unsafe = (path: string, why: string): AiscError => new AiscError('ARCHIVE_UNSAFE', `${what}: member ${JSON.stringify(path)} ${why}; nothing was locked`);

  const parser = new Parser({ strict: true });
  parser.on('warn', (code: string, message: string) => fail(new AiscError('ARCHIVE_INVALID', `${what}: not a readable tar archive (${code}: ${message})`)));
  parser.on('error', (error: Error) => fail(new AiscError('ARCHIVE_INVALID', `${what}: not a readable tar archive (${error.message})`)));
  parser.on('entry', (entry: ReadEntry) => {
    const raw = entry.path;
    const path = normalizeMember(raw);
    const problem = path === '' ? undefined : getPathProblem(path);
    if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || problem) {
      fail(unsafe(raw, `would be written outside the folder it is extracted to (${problem ?? 'an absolute path'})`));
      entry.resume();
      return;
    }
    if (files.has(path) || symlinks.has(path) || hardLinks.has(path)) fail(unsafe(raw, 'appears twice (an extraction keeps only the last)'));
    if (entry.type === 'Directory') {
      if (path !== '') folders.add(path);
      entry.resume();
    } else if (FILE_TYPES.has(entry.type)) {
      const hash = createHash('sha256');
      const inspector = new ContentInspector(entry.size, path);
      let length = 0;
      entry.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        inspector.feed(chunk);
        length += chunk.length;
      });
      entry.on('end', () => files.set(path, { path, size: length, sha256: hash.digest('hex'), inspection: inspector.end() }));
    } else if (entry.type === 'SymbolicLink') {
      const target = posix.normalize(posix.join(posix.dirname(path), entry.linkpath ?? ''));
      if ((entry.linkpath ?? '').startsWith('/') || target === '..' || target.startsWith('../')) fail(unsafe(raw, `is a link leaving the archive (to ${JSON.stringify(entry.linkpath)})`));
      else symlinks.set(path, target);
      entry.resume();
    } else if (entry.type === 'Link') {
      const target = normalizeMember(entry.linkpath ?? '');
      if ((entry.linkpath ?? '').startsWith('/') || getPathProblem(target)) fail(unsafe(raw, `is a hard link leaving the archive (to ${JSON.stringify(entry.linkpath)})`));
      else hardLinks.set(path, target);
      entry.resume();
    } else {
      fail(unsafe(raw, `is a ${describeType(entry.type)}, which no artifact holds`));
      entry.resume();
    }
  });

  // In strict mode the parser throws from write/end on a bad header: that is the archive's fault.
  const invalid = (error: unknown): AiscError => new AiscError('ARCHIVE_INVALID', `${what}: not a readable tar archive (${error instanceof Error ? error.message : String(error)})`);
  for await (const chunk of bytes) {
    first ??= chunk;
    whole.update(chunk);
    size += chunk.length;
    let flowing: boolean;
    try {
      flowing = parser.write(chunk);
    } catch (error) {
      throw failure ?? invalid(error);
    }
    if (failure) throw failure;
    if (!flowing) await once(parser, 'drain');
  }
  const ended = once(parser, 'end');
  try {
    parser.end();
  } catch (error) {
    throw failure ?? invalid(error);
  }
  await ended;
  if (failure) throw failure;
  if (size === 0) throw new AiscError('ARCHIVE_INVALID', `${what}: an empty file is not an archive`);

  const isLink = (path: string): boolean => symlinks.has(path);
  for (const path of [...files.keys(), ...symlinks.keys(), ...hardLinks.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      if (isLink(ancestor)) throw unsafe(path, `lies under the link ${JSON.stringify(ancestor)} (an extraction would write through it)`);
      if (files.has(ancestor)) throw unsafe(path, `lies under ${JSON.stringify(ancestor)}, which is a file`);
    }
  }
  let hasLinks = false;
  for (const [path, target] of hardLinks) {
    const file = files.get(target);
    if (!file) throw unsafe(path, `is a hard link to ${JSON.stringify(target)}, which is not a file before it in the archive`);
    files.set(path, { path, size: file.size, sha256: file.sha256 });
  }
  for (const [path, target] of symlinks) {
    const file = files.get(target);
    if (!file) throw unsafe(path, `is a link to ${JSON.stringify(target)}, which is not a file in the archive`);
    files.set(path, { path, size: file.size, sha256: file.sha256, link: true });
    hasLinks = true;
  }
  if (files.size === 0) throw new AiscError('SOURCE_EMPTY', `${what}: the archive holds no file to lock`);
  const compression = first !== undefined && first[0] === 0x1f && first[1] === 0x8b ? 'gzip' : 'none';
  return { sha256: whole.digest('hex'), size, compression, files: [...files.values()], hasLinks };
}

/** `./a/b` → `a/b`, `a/` → `a`, `./` → ''. */
function normalizeMember(path: string): string {
  let p = path.replace(/\/+$/, '');
  while (p.startsWith('./')) p = p.slice(2);
  return p === '.' ? '' : p;
}

function describeType(type: string): string {
  if (type === 'CharacterDevice' || type === 'BlockDevice') return 'device';
  if (type === 'FIFO') return 'FIFO';
  return `member of type ${type}`;
}
