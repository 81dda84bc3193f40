import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { AiscError } from '../errors.js';
import { ContentInspector } from '../formats/inspect.js';
import { getPathProblem } from '../lockfile/paths.js';
import { GzipMember } from './gzip-stream.js';
import type { ListedFile } from './listing.js';
import { TarReader, type TarMember } from './tar-stream.js';

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

/**
 * Reads a .tar or .tar.gz as it streams, never extracting it: the archive's own SHA-256 and every
 * member's path, size and SHA-256. A member that an extraction would write outside its folder
 * (`..`, an absolute path, a link leaving the archive or a member under a link), a device or FIFO,
 * a path given twice, or a header readers would read differently is ARCHIVE_UNSAFE; a corrupt or
 * cut-off archive is ARCHIVE_INVALID; bytes after the tar's end or after the first gzip member are
 * ARCHIVE_TRAILING_DATA (all exit 1). See TarReader and GzipMember for what each refuses.
 */
export async function listArchive(bytes: AsyncIterable<Buffer>, what: string): Promise<ListedArchive> {
  const whole = createHash('sha256');
  let size = 0;
  let head = Buffer.alloc(0);
  const files = new Map<string, ListedFile>();
  const folders = new Set<string>();
  const symlinks = new Map<string, string>();
  const hardLinks = new Map<string, string>();
  const unsafe = (path: string, why: string): AiscError => new AiscError('ARCHIVE_UNSAFE', `${what}: member ${JSON.stringify(path)} ${why}; nothing was locked`);

  let open: { path: string; hash: ReturnType<typeof createHash>; inspector: ContentInspector; length: number } | undefined;
  const tar = new TarReader(what, {
    member(entry: TarMember) {
      const raw = entry.path;
      const path = normalizeMember(raw);
      const problem = path === '' ? undefined : getPathProblem(path);
      if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || problem) throw unsafe(raw, `would be written outside the folder it is extracted to (${problem ?? 'an absolute path'})`);
      if (files.has(path) || symlinks.has(path) || hardLinks.has(path)) throw unsafe(raw, 'appears twice (an extraction keeps only the last)');
      open = undefined;
      if (entry.kind === 'directory') {
        if (path !== '') folders.add(path);
      } else if (entry.kind === 'file') {
        open = { path, hash: createHash('sha256'), inspector: new ContentInspector(entry.size, path), length: 0 };
      } else if (entry.kind === 'symlink') {
        const target = posix.normalize(posix.join(posix.dirname(path), entry.linkpath ?? ''));
        if ((entry.linkpath ?? '').startsWith('/') || target === '..' || target.startsWith('../')) throw unsafe(raw, `is a link leaving the archive (to ${JSON.stringify(entry.linkpath)})`);
        symlinks.set(path, target);
      } else if (entry.kind === 'hardlink') {
        const target = normalizeMember(entry.linkpath ?? '');
        if ((entry.linkpath ?? '').startsWith('/') || getPathProblem(target)) throw unsafe(raw, `is a hard link leaving the archive (to ${JSON.stringify(entry.linkpath)})`);
        hardLinks.set(path, target);
      } else {
        throw unsafe(raw, `is a ${describeKind(entry)}, which no artifact holds`);
      }
    },
    data(chunk) {
      if (!open) return;
      open.hash.update(chunk);
      open.inspector.feed(chunk);
      open.length += chunk.length;
    },
    memberEnd() {
      if (open) files.set(open.path, { path: open.path, size: open.length, sha256: open.hash.digest('hex'), inspection: open.inspector.end() });
      open = undefined;
    },
  });

  // gzip or not is told from the first two bytes; a .tar.gz is one gzip member holding the tar.
  let gzip: GzipMember | undefined;
  let decided = false;
  for await (const chunk of bytes) {
    whole.update(chunk);
    size += chunk.length;
    if (!decided) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 2) continue;
      decided = true;
      if (head[0] === 0x1f && head[1] === 0x8b) gzip = new GzipMember(what, (out) => tar.feed(out));
      await (gzip ? gzip.write(head) : tar.feed(head));
      continue;
    }
    if (gzip) await gzip.write(chunk);
    else tar.feed(chunk);
  }
  if (size === 0) throw new AiscError('ARCHIVE_INVALID', `${what}: an empty file is not an archive`);
  if (!decided) tar.feed(head);
  await gzip?.end();
  tar.end();

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
    // The same bytes as the member linked to, inspected when it streamed by.
    files.set(path, { path, size: file.size, sha256: file.sha256, ...(file.inspection ? { inspection: file.inspection } : {}) });
  }
  for (const [path, target] of symlinks) {
    const file = files.get(target);
    if (!file) throw unsafe(path, `is a link to ${JSON.stringify(target)}, which is not a file in the archive`);
    files.set(path, { path, size: file.size, sha256: file.sha256, link: true, ...(file.inspection ? { inspection: file.inspection } : {}) });
    hasLinks = true;
  }
  if (files.size === 0) throw new AiscError('SOURCE_EMPTY', `${what}: the archive holds no file to lock`);
  const compression = gzip ? 'gzip' : 'none';
  return { sha256: whole.digest('hex'), size, compression, files: [...files.values()], hasLinks };
}

/** `./a/b` → `a/b`, `a/` → `a`, `./` → ''. */
function normalizeMember(path: string): string {
  let p = path.replace(/\/+$/, '');
  while (p.startsWith('./')) p = p.slice(2);
  return p === '.' ? '' : p;
}

function describeKind(entry: TarMember): string {
  if (entry.kind === 'device') return 'device';
  if (entry.kind === 'fifo') return 'FIFO';
  return `member of type ${JSON.stringify(entry.flag)}`;
}
