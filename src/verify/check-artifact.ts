import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AiscError, isAiscError } from '../errors.js';
import { getDeniableFormats, judgeContent, SETTLED_BY_START, WEIGHT_FORMATS, type Inspection } from '../formats/index.js';
import type { AnyHashResult, HashJob } from '../hashing/types.js';
import { compareCodePoints, computeRootDigest, sortFiles } from '../lockfile/index.js';
import type { FileArtifact, FileEntry } from '../lockfile/types.js';
import { listTarget, resolveLocalTarget, toIgnoreMatcher, toLockfileSkipper, type LocalTarget, type WalkEntry } from '../sources/index.js';
import { toFinding, type Finding, type FindingFields } from '../findings.js';
import { getChunkMismatch } from './chunk-mismatch.js';

export interface ArtifactCheck {
  name: string;
  artifact: FileArtifact;
  root: string;
  findings: Finding[];
  /** Locked files still to hash, and beside each its locked entry; then files --ignore left out (hidden). */
  jobs: HashJob[];
  files: FileEntry[];
  /** Files the recorded ignore globs leave out: hashed only for the format gate, after `files` in `jobs`. */
  hidden: string[];
  /** Inspections that need the policy's pickle allowlist to be judged (kept only when something is unsafe). */
  content: { path: string; inspection: Inspection; hidden: boolean }[];
  /** Formats told from the bytes read here, for denyFormats (the lockfile's own say is not trusted alone). */
  formats: Set<string>;
}

/**
 * Everything about one artifact that needs no hashing: the root is there and of the same layout,
 * no file is missing, extra, a symlink or a folder, and the locked digest matches the locked files.
 */
export interface CheckPathsOptions {
  allowSymlinks: boolean;
  lockfile?: string;
  /** The recorded signature bundle's file: left out of the artifact when it is the file at the signature's path. */
  bundleFile?: string;
  /** Where followed links may lead instead of the root (an HF cache snapshot's repo blobs/). */
  linkRoot?: string;
  /** What to do when the artifact or a file is not there ("run aisc fetch NAME"). */
  hint?: string;
  /** Also not part of the artifact here, with everything under it (local_dir metadata). */
  skip?: (path: string) => boolean;
  /** Only files this selects are part of the artifact (a Hub repo locked with --include/--exclude). */
  selected?: (path: string) => boolean;
}

export function checkPaths(name: string, artifact: FileArtifact, root: string, options: CheckPathsOptions): ArtifactCheck {
  const check: ArtifactCheck = newCheck(name, artifact, root);
  const add = (finding: Omit<FindingFields, 'artifact'>): void => {
    check.findings.push(toFinding({ artifact: name, ...finding }));
  };

  const rootDigest = computeRootDigest(artifact.files);
  if (rootDigest !== artifact.digest) {
    add({ code: 'ROOT_DIGEST_MISMATCH', message: 'the lockfile digest does not match its own file list (edited by hand?)', expected: artifact.digest, actual: rootDigest });
  }

  let target: LocalTarget;
  try {
    target = resolveLocalTarget(root);
  } catch (error) {
    if (!isAiscError(error)) throw error;
    add({ code: 'ARTIFACT_MISSING', message: options.hint ? `${error.message}: ${options.hint}` : error.message });
    return check;
  }
  if (target.layout !== artifact.layout) {
    add({ code: 'LAYOUT_CHANGED', message: `expected a ${artifact.layout === 'file' ? 'file' : 'folder'}, got a ${target.layout === 'file' ? 'file' : 'folder'}`, expected: artifact.layout, actual: target.layout });
    return check;
  }

  let entries: WalkEntry[];
  try {
    const lockfileSkip = options.lockfile === undefined ? undefined : toLockfileSkipper(options.lockfile, target.realRoot);
    const also = options.skip;
    const skip = also && lockfileSkip ? (path: string) => lockfileSkip(path) || also(path) : (also ?? lockfileSkip);
    // What the recorded ignore globs leave out is still read by the format gate.
    const onHidden = (path: string): void => void check.hidden.push(path);
    // The publisher's bundle found inside at lock is not a file of the artifact (as OMS leaves it out).
    const ignoreGlobs = toIgnoreMatcher(artifact.ignore ?? []);
    const bundleInside = artifact.layout === 'directory' ? artifact.signature?.path : undefined;
    // Only while the file there is the recorded bundle: a lockfile cannot name any file its signature's path to hide it.
    const roots = [target.realRoot, ...(options.linkRoot === undefined ? [] : [options.linkRoot])];
    // (A bundle kept in place is the signature's own business: verify compares its bytes there, SIGNATURE_CHANGED.)
    const isBundle = (path: string): boolean => path === bundleInside && isRecordedBundle(join(target.realRoot, ...path.split('/')), roots, artifact.signature?.bundleSha256 ?? '', options.bundleFile);
    const ignore = bundleInside === undefined ? ignoreGlobs : (path: string): boolean => isBundle(path) || ignoreGlobs(path);
    entries = listTarget(target, { ignore, skip, sizes: false, linkRoot: options.linkRoot, onHidden });
    const selected = options.selected;
    if (selected) entries = entries.filter((entry) => entry.type === 'folder' || selected(entry.path));
  } catch (error) {
    if (isAiscError(error)) throw new AiscError('LOCKFILE_INVALID', `artifacts.${name}.ignore: ${error.message}`, { cause: error });
    throw error;
  }
  // Both lists in code-point order: one merge pass, no index of a million paths.
  const extra = (entry: WalkEntry): void => {
    if (entry.type === 'folder') return;
    if (entry.type === 'unreadable') add({ code: 'UNREADABLE_FILE', path: entry.path || '.', message: 'cannot list this folder' });
    else add({ code: 'EXTRA_FILE', path: entry.path, message: `not in the lockfile${describeExtra(entry.type)}` });
  };
  let next = 0;
  for (const file of sortFiles(artifact.files)) {
    // A single-file artifact is listed under its base name but verified wherever it is now.
    const path = artifact.layout === 'file' ? (target.fileName ?? file.path) : file.path;
    while (next < entries.length && compareCodePoints((entries[next] as WalkEntry).path, path) < 0) extra(entries[next++] as WalkEntry);
    const entry = entries[next]?.path === path ? entries[next++] : undefined;
    const finding = getEntryFinding(entry, options.allowSymlinks);
    if (finding) {
      add({ path: file.path, ...finding, ...(finding.code === 'MISSING_FILE' && options.hint ? { message: `${finding.message}: ${options.hint}` } : {}) });
      continue;
    }
    check.jobs.push({ path, root: target.realRoot, linkRoot: options.linkRoot, expectedSize: file.size, followSymlinks: options.allowSymlinks, inspect: true, ...toChunkJob(file) });
    check.files.push(file);
  }
  while (next < entries.length) extra(entries[next++] as WalkEntry);
  for (const path of check.hidden) check.jobs.push({ path, root: target.realRoot, followSymlinks: false, inspect: true });
  return check;
}

/**
 * A file with chunk digests is checked by them, not by its whole-file digest: spread over every
 * hashing thread when the format locked says its inspection needs only its first bytes (the
 * lockfile's say is a hint; the bytes decide), else read in order by one thread.
 */
function toChunkJob(file: FileEntry): Pick<HashJob, 'chunks'> {
  if (!file.chunks) return {};
  const spread = file.format === undefined || SETTLED_BY_START.has(file.format);
  return { chunks: { size: file.chunks.size, whole: false, ...(spread ? { spread } : {}) } };
}

/**
 * A kept archive is checked by its own bytes: the members' digests were derived from exactly
 * those, so one archive digest stands for them all (an extracted copy is checked with --artifact).
 */
export function checkArchive(name: string, artifact: FileArtifact, path: string, archive: { sha256: string; size: number }): ArtifactCheck {
  const check: ArtifactCheck = newCheck(name, artifact, path);
  const rootDigest = computeRootDigest(artifact.files);
  if (rootDigest !== artifact.digest) {
    check.findings.push(toFinding({ artifact: name, code: 'ROOT_DIGEST_MISMATCH', message: 'the lockfile digest does not match its own file list (edited by hand?)', expected: artifact.digest, actual: rootDigest }));
  }
  let target: LocalTarget;
  try {
    target = resolveLocalTarget(path);
  } catch (error) {
    if (!isAiscError(error)) throw error;
    check.findings.push(toFinding({ artifact: name, code: 'ARTIFACT_MISSING', message: `${error.message}: run aisc fetch ${name}, or pass --artifact ${name}=DIR for an extracted copy` }));
    return check;
  }
  if (target.layout !== 'file' || target.fileName === undefined) {
    check.findings.push(toFinding({ artifact: name, code: 'LAYOUT_CHANGED', message: 'expected the archive file, got a folder (pass --artifact NAME=DIR for an extracted copy)', expected: 'file', actual: 'directory' }));
    return check;
  }
  check.jobs.push({ path: target.fileName, root: target.realRoot, expectedSize: archive.size, followSymlinks: false, inspect: true });
  check.files.push({ path: target.fileName, size: archive.size, sha256: archive.sha256 });
  return check;
}

/** The one finding of an artifact this machine has no copy of. */
export function checkNowhere(name: string, artifact: FileArtifact, hint: string): ArtifactCheck {
  return { ...newCheck(name, artifact, ''), findings: [toFinding({ artifact: name, code: 'ARTIFACT_MISSING', message: hint })] };
}

function newCheck(name: string, artifact: FileArtifact, root: string): ArtifactCheck {
  return { name, artifact, root, findings: [], jobs: [], files: [], hidden: [], content: [], formats: new Set() };
}

function getEntryFinding(entry: WalkEntry | undefined, allowSymlinks: boolean): Pick<Finding, 'code' | 'message'> | undefined {
  if (!entry) return { code: 'MISSING_FILE', message: 'locked but not found' };
  switch (entry.type) {
    case 'file':
      return undefined;
    case 'folder':
      return { code: 'NOT_A_FILE', message: 'expected a file, got a folder' };
    case 'symlink':
      if (!allowSymlinks) return { code: 'SYMLINK_REFUSED', message: 'is now a symlink; pass --allow-symlinks to follow links that stay inside the artifact' };
      if (entry.target === 'file-inside') return undefined;
      if (entry.target === 'outside') return { code: 'SYMLINK_OUTSIDE_ROOT', message: 'is now a symlink that leaves the artifact root' };
      return { code: 'NOT_A_FILE', message: `is now a symlink to ${entry.target === 'folder' ? 'a folder' : 'nothing'}` };
    case 'other':
      return { code: 'NOT_A_FILE', message: 'expected a regular file, got something else (a folder, FIFO, socket or device)' };
    case 'unreadable':
      return { code: 'UNREADABLE_FILE', message: 'cannot list it' };
    case 'invalid-name':
      return { code: 'MISSING_FILE', message: 'locked but not found' };
    default: {
      const never: never = entry.type;
      return never;
    }
  }
}

function describeExtra(type: WalkEntry['type']): string {
  if (type === 'file') return '';
  if (type === 'symlink') return ' (a symlink)';
  if (type === 'invalid-name') return ' (its name is not valid UTF-8)';
  return ' (a special file)';
}

/**
 * Compares what a worker read for the check's `k`-th job with what is locked, and re-derives what
 * the file is from those same bytes: a format other than the one locked is FORMAT_CHANGED; what
 * the format gate must judge is kept for when the policy's allowlist is known.
 */
export function checkDigest(check: ArtifactCheck, k: number, result: AnyHashResult): void {
  const file = check.files[k];
  if (!file) {
    const hidden = check.hidden[k - check.files.length];
    if (hidden !== undefined && result.ok && result.format) keepContent(check, hidden, result.inspection ?? { format: result.format }, true);
    return;
  }
  if (result.ok && result.format) {
    const inspection = result.inspection ?? { format: result.format };
    if (file.format !== undefined && file.format !== inspection.format) {
      check.findings.push(toFinding({ artifact: check.name, path: file.path, code: 'FORMAT_CHANGED', message: `locked as ${file.format}, its bytes are ${inspection.format} now`, expected: file.format, actual: inspection.format }));
    }
    keepContent(check, file.path, inspection, false);
  }
  if (!result.ok) {
    check.findings.push(toFinding({ artifact: check.name, path: file.path, code: result.code, message: result.message, expected: result.code === 'SIZE_MISMATCH' ? file.size : undefined, actual: result.size }));
  } else if ('sha256' in result) {
    if (result.sha256 !== file.sha256) check.findings.push(toFinding({ artifact: check.name, path: file.path, code: 'DIGEST_MISMATCH', message: 'content differs from the lockfile', expected: file.sha256, actual: result.sha256 }));
  } else {
    // Only the chunks were hashed: they must be exactly the locked ones (the whole digest was not computed).
    const mismatch = file.chunks && result.chunks.length === file.chunks.sha256.length ? getChunkMismatch(file.size, file.chunks, result.chunks) : { message: 'its chunks could not be compared with the lockfile', expected: '', actual: '' };
    if (mismatch) check.findings.push(toFinding({ artifact: check.name, path: file.path, code: 'DIGEST_MISMATCH', message: `content differs from the lockfile: ${mismatch.message}`, expected: mismatch.expected, actual: mismatch.actual }));
  }
}

function keepContent(check: ArtifactCheck, path: string, inspection: Inspection, hidden: boolean): void {
  for (const format of getDeniableFormats(inspection)) if (!hidden && WEIGHT_FORMATS.has(format as never)) check.formats.add(format);
  // Judged with aisc's allowlist alone first: only what may be unsafe waits for the policy's.
  if (judgeContent(path, inspection).length > 0) check.content.push({ path, inspection, hidden });
}

/** The format gate, with the pickle imports the policy allows for this artifact. */
export function judgeCheckContent(check: ArtifactCheck, allowed: ReadonlySet<string>): void {
  for (const { path, inspection, hidden } of check.content) {
    for (const finding of judgeContent({ artifact: check.name, path }, inspection, allowed)) {
      check.findings.push(hidden ? toFinding({ ...finding, message: `${finding.message} (left out by the artifact's ignore globs, but the format gate reads every file)` }) : finding);
    }
  }
  check.content = [];
}

/** A signature bundle is small: past this, the file at its path is not taken for it. */
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

/**
 * Whether the file at `path` is the recorded bundle: the very file the lockfile keeps it at (its
 * bytes are the signature check's to judge), or a regular file (reached through links only inside
 * `roots`: an HF snapshot's links into its blobs/) of at most 16 MiB whose SHA-256 is `sha256`.
 */
function isRecordedBundle(path: string, roots: readonly string[], sha256: string, bundleFile: string | undefined): boolean {
  try {
    const real = realpathSync(path);
    if (!roots.some((root) => real.startsWith(`${root}/`))) return false;
    if (bundleFile !== undefined && resolve(bundleFile) === resolve(path)) return true;
    const stats = statSync(real);
    if (!stats.isFile() || stats.size > MAX_BUNDLE_BYTES) return false;
    return createHash('sha256').update(readFileSync(real)).digest('hex') === sha256;
  } catch {
    return false;
  }
}
