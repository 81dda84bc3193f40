import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { compareCodePoints } from '../lockfile/canonical-json.js';
import { DEFAULT_IGNORED, type IgnoreMatcher } from './ignore.js';

/** `invalid-name`: a name that is not UTF-8, which no lockfile (JSON text) can record. */
export type WalkEntryType = 'file' | 'folder' | 'symlink' | 'other' | 'unreadable' | 'invalid-name';

export interface WalkEntry {
  /** Relative to the root, '/'-separated. */
  path: string;
  type: WalkEntryType;
  /** For files (and allowed symlinks to files inside the root): the size seen now. */
  size?: number;
  /** For symlinks: where it resolves, when it resolves to a file inside the root. */
  target?: 'file-inside' | 'outside' | 'folder' | 'dangling';
}

export interface WalkOptions {
  ignore: IgnoreMatcher;
  /** Also skip these (the lockfile and its temp files when they sit inside the root). */
  skip?: (relativePath: string) => boolean;
  /** Stat each file for its size (default). Verify needs none: the hash worker checks sizes. */
  sizes?: boolean;
  /** Real path that symlinks may resolve into (an HF cache repo's blobs/); default the root. */
  linkRoot?: string;
  /**
   * Receives each regular file that the user's ignore globs leave out (inside ignored folders
   * too): not part of the artifact, but still read by the format gate.
   */
  onHidden?: (relativePath: string) => void;
}

const DEFAULTS: ReadonlySet<string> = new Set(DEFAULT_IGNORED);

/**
 * Lists everything under `root` without following any symlink: files with their sizes, folders,
 * and the symlinks and special files that the caller must refuse or report.
 */
export function walkTree(root: string, options: WalkOptions): WalkEntry[] {
  const realRoot = realpathSync(root);
  const entries: WalkEntry[] = [];
  const stack: string[] = [''];
  // Folders the ignore globs leave out, walked only for onHidden.
  const hiddenFolders: string[] = [];
  while (stack.length > 0 || hiddenFolders.length > 0) {
    if (stack.length === 0) {
      walkHidden(realRoot, hiddenFolders.pop() ?? '', hiddenFolders, options);
      continue;
    }
    const folder = stack.pop() ?? '';
    let children: Dirent<Buffer>[];
    try {
      // Names as bytes: decoded as UTF-8 they would turn invalid bytes into U+FFFD, a name no file has.
      children = readdirSync(join(realRoot, folder), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      entries.push({ path: folder, type: 'unreadable' });
      continue;
    }
    for (const child of children) {
      const name = toUtf8Name(child.name);
      if (name === undefined) {
        const shown = toEscapedName(child.name);
        entries.push({ path: folder === '' ? shown : `${folder}/${shown}`, type: 'invalid-name' });
        continue;
      }
      const path = folder === '' ? name : joinFlat(folder, child.name);
      if (options.skip?.(path)) continue;
      if (options.ignore(path)) {
        if (options.onHidden && !DEFAULTS.has(path)) {
          if (child.isDirectory()) hiddenFolders.push(path);
          else if (child.isFile()) options.onHidden(path);
        }
        continue;
      }
      if (child.isDirectory()) {
        entries.push({ path, type: 'folder' });
        stack.push(path);
      } else if (child.isFile()) {
        if (options.sizes === false) {
          entries.push({ path, type: 'file' });
          continue;
        }
        const stats = lstatSync(join(realRoot, path), { throwIfNoEntry: false });
        entries.push(stats?.isFile() ? { path, type: 'file', size: stats.size } : { path, type: 'other' });
      } else if (child.isSymbolicLink()) {
        entries.push({ path, type: 'symlink', ...describeLink(realRoot, path, options.linkRoot) });
      } else {
        entries.push({ path, type: 'other' });
      }
    }
  }
  return entries.sort((a, b) => compareCodePoints(a.path, b.path));
}

/** One ignored folder: its regular files to onHidden, its folders to walk next (never a symlink). */
function walkHidden(realRoot: string, folder: string, folders: string[], options: WalkOptions): void {
  let children: Dirent<Buffer>[];
  try {
    children = readdirSync(join(realRoot, folder), { withFileTypes: true, encoding: 'buffer' });
  } catch {
    return;
  }
  for (const child of children) {
    const name = toUtf8Name(child.name);
    if (name === undefined) continue;
    const path = joinFlat(folder, child.name);
    if (options.skip?.(path)) continue;
    if (child.isDirectory()) folders.push(path);
    else if (child.isFile()) options.onHidden?.(path);
  }
}

let scratch = Buffer.allocUnsafe(4096);

/**
 * `folder/name` as one flat string decoded from bytes (the name already known to be UTF-8). A
 * template string would be a rope that keeps the name alive beside it, 72 bytes for a typical
 * dataset path where 48 do, and a lock holds every path until its lockfile is written.
 */
function joinFlat(folder: string, name: Buffer): string {
  const length = Buffer.byteLength(folder) + 1 + name.length;
  if (scratch.length < length) scratch = Buffer.allocUnsafe(length * 2);
  const slash = scratch.write(folder, 0);
  scratch[slash] = 0x2f;
  name.copy(scratch, slash + 1);
  return scratch.toString('utf8', 0, length);
}

function toUtf8Name(bytes: Buffer): string | undefined {
  const name = bytes.toString('utf8');
  return name.includes('\uFFFD') && !Buffer.from(name, 'utf8').equals(bytes) ? undefined : name;
}

/** A name for messages: printable ASCII as it is, every other byte as \xNN. */
function toEscapedName(bytes: Buffer): string {
  return [...bytes].map((byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
}

function describeLink(realRoot: string, path: string, linkRoot = realRoot): Pick<WalkEntry, 'target' | 'size'> {
  let resolved: string;
  try {
    resolved = realpathSync(join(realRoot, path));
  } catch {
    return { target: 'dangling' };
  }
  if (!resolved.startsWith(`${linkRoot}/`)) return { target: 'outside' };
  const stats = statSync(resolved, { throwIfNoEntry: false });
  if (stats?.isFile()) return { target: 'file-inside', size: stats.size };
  return { target: 'folder' };
}


/** The entries of a resolved target: the walk of a folder, or the one file. */
export function listTarget(target: { layout: 'directory' | 'file'; realRoot: string; fileName?: string }, options: WalkOptions): WalkEntry[] {
  if (target.layout === 'directory') return walkTree(target.realRoot, options);
  const name = target.fileName ?? '';
  const stats = lstatSync(join(target.realRoot, name), { throwIfNoEntry: false });
  if (!stats) return [];
  if (stats.isFile()) return [{ path: name, type: 'file', size: stats.size }];
  if (stats.isSymbolicLink()) return [{ path: name, type: 'symlink', ...describeLink(target.realRoot, name, options.linkRoot) }];
  return [{ path: name, type: 'other' }];
}
