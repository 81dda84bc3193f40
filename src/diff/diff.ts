import { createHash } from 'node:crypto';
import { getFileRole, type FileRole } from '../formats/classify.js';
import { compareCodePoints, toCanonicalJson } from '../lockfile/canonical-json.js';
import { getChunkListDigest } from '../lockfile/chunks.js';
import { describeRecordedSigner } from '../lockfile/signer.js';
import type { ArtifactSignature, FileArtifact, FileEntry, Lockfile, NpmArtifact, RecordedSigner } from '../lockfile/types.js';
import { toRecorded } from '../sources/index.js';
import { diffNpmArtifacts } from './npm-diff.js';
import type { Change, ChangeClass, FileChange, FileState, LockfileDiff } from './types.js';

const ROLE_CLASS: Record<FileRole, ChangeClass> = {
  weights: 'weights-changed',
  tokenizer: 'tokenizer-changed',
  // Config files (config.json, generation_config.json…) can change what code a model runs:
  // they count as files-changed, the class a policy guarding files already names.
  config: 'files-changed',
  data: 'files-changed',
  other: 'files-changed',
};

const same = (a: unknown, b: unknown): boolean => toCanonicalJson(a ?? null) === toCanonicalJson(b ?? null);

/**
 * What changed between two lockfiles, in reviewer terms: artifacts added, removed or renamed (the
 * same digest under another name); per artifact, weight / tokenizer / config / other files added,
 * removed or modified, and source, signer, kind and dependency changes. Pure and deterministic.
 */
export function diffLockfiles(base: Lockfile, next: Lockfile, options: { policyChanged?: { from: string; to: string } } = {}): LockfileDiff {
  const [baseFiles, baseNpm] = partition(base);
  const [nextFiles, nextNpm] = partition(next);
  const changes: Change[] = diffNpmArtifacts(baseNpm, nextNpm);
  const added = [...nextFiles.keys()].filter((name) => !baseFiles.has(name));
  const removed = [...baseFiles.keys()].filter((name) => !nextFiles.has(name));
  for (const name of added) {
    const artifact = nextFiles.get(name) as FileArtifact;
    const content = getContentKey(artifact);
    const from = removed.find((old) => baseFiles.get(old)?.kind === artifact.kind && getContentKey(baseFiles.get(old) as FileArtifact) === content);
    if (from) {
      removed.splice(removed.indexOf(from), 1);
      changes.push({ class: 'artifact-renamed', artifact: name, kind: artifact.kind, summary: `renamed from ${from} (same ${artifact.files.length} files)`, from, to: name });
    } else {
      changes.push({ class: 'artifact-added', artifact: name, kind: artifact.kind, summary: `added: ${artifact.kind}, ${artifact.files.length} files, digest ${artifact.digest.slice(0, 12)}`, to: artifact.digest });
    }
  }
  for (const name of removed) {
    const artifact = baseFiles.get(name) as FileArtifact;
    changes.push({ class: 'artifact-removed', artifact: name, kind: artifact.kind, summary: `removed: ${artifact.kind}, ${artifact.files.length} files`, from: artifact.digest });
  }
  for (const [name, after] of nextFiles) {
    const before = baseFiles.get(name);
    if (before) changes.push(...diffArtifact(name, before, after));
  }
  if (options.policyChanged) {
    changes.push({ class: 'policy-changed', summary: `policy digest ${options.policyChanged.from.slice(0, 12)} → ${options.policyChanged.to.slice(0, 12)}`, ...options.policyChanged });
  }
  changes.sort((a, b) => compareCodePoints(a.artifact ?? '', b.artifact ?? '') || compareCodePoints(a.class, b.class));
  return { changes, changeDigest: getChangeDigest(changes) };
}

/** File artifacts by name, and npm packages (diffed by package name, not by name@version). */
function partition(lockfile: Lockfile): [Map<string, FileArtifact>, NpmArtifact[]] {
  const files = new Map<string, FileArtifact>();
  const npm: NpmArtifact[] = [];
  for (const [name, artifact] of lockfile.artifacts) {
    if (artifact.kind === 'npm') npm.push(artifact);
    else files.set(name, artifact);
  }
  return [files, npm];
}

export function getChangeDigest(changes: readonly Change[]): string {
  return createHash('sha256').update(toCanonicalJson(changes)).digest('hex');
}

function diffArtifact(name: string, before: FileArtifact, after: FileArtifact): Change[] {
  const changes: Change[] = [];
  const base = { artifact: name, kind: after.kind };
  if (before.kind !== after.kind) {
    // Rules and approvals select by kind: a model relabelled a dataset must not slip out of the
    // rules for models. It is reviewed as what it is: one artifact of the old kind gone, one of
    // the new kind come.
    changes.push({ artifact: name, kind: before.kind, class: 'artifact-removed', summary: `kind ${before.kind} → ${after.kind}: no longer a ${before.kind}`, from: before.kind });
    changes.push({ ...base, class: 'artifact-added', summary: `kind ${before.kind} → ${after.kind}: now a ${after.kind}`, to: after.kind });
  }
  // The same origin at another revision is its own class (a Hub commit, with both commits' pages).
  const was = toRecorded(before.source);
  const revision = was.compare(after.source);
  if (revision) changes.push({ ...base, class: 'revision-changed', ...revision });
  else if (!same(before.source, after.source)) changes.push({ ...base, class: 'source-changed', summary: `source ${was.describe()} → ${toRecorded(after.source).describe()}`, from: before.source, to: after.source });
  if (!same(before.dependsOn, after.dependsOn)) changes.push({ ...base, class: 'dependency-changed', summary: `depends on ${list(before.dependsOn)} → ${list(after.dependsOn)}`, from: before.dependsOn ?? [], to: after.dependsOn ?? [] });
  if (before.signature && !after.signature) {
    // Losing the signer is a signer change (to nobody), the class policies guard signers with.
    changes.push({ ...base, class: 'signer-changed', summary: `signature removed: was signed by ${describeRecordedSigner(before.signature.signer)}, now unsigned`, from: before.signature.signer, to: null });
  } else if (after.signature && !same(before.signature?.signer, after.signature.signer)) {
    changes.push({ ...base, class: 'signer-changed', summary: describeSignerChange(before.signature?.signer, after.signature.signer), from: before.signature?.signer ?? null, to: after.signature.signer });
  } else if (before.signature && after.signature && before.signature.path !== after.signature.path) {
    // The same signer, its bundle found elsewhere in the artifact: what verify leaves out of it moved.
    // (A new bundle by the same signer over changed files is those files' change, shown as such.)
    changes.push({ ...base, class: 'signer-changed', summary: `signature by ${describeRecordedSigner(after.signature.signer)}: its bundle is now found as ${describePath(after.signature)} (was ${describePath(before.signature)})`, from: before.signature.path ?? null, to: after.signature.path ?? null });
  }
  const byRole = new Map<ChangeClass, FileChange[]>();
  const push = (path: string, change: FileChange): void => {
    const cls = ROLE_CLASS[getFileRole(path)];
    byRole.set(cls, [...(byRole.get(cls) ?? []), change]);
  };
  const old = new Map(before.files.map((f) => [f.path, f]));
  for (const file of after.files) {
    const previous = old.get(file.path);
    old.delete(file.path);
    if (!previous) push(file.path, { path: file.path, change: 'added', role: getFileRole(file.path), after: toFileState(file) });
    else {
      const [was, now] = [toFileState(previous), toFileState(file)];
      // Chunk digests that appear, go or differ under the same SHA-256 change what verify accepts.
      if (was.sha256 !== now.sha256 || was.size !== now.size || was.chunks !== now.chunks) push(file.path, { path: file.path, change: 'modified', role: getFileRole(file.path), before: was, after: now });
    }
  }
  for (const file of old.values()) push(file.path, { path: file.path, change: 'removed', role: getFileRole(file.path), before: toFileState(file) });
  if (!same(before.ignore, after.ignore)) {
    changes.push({ ...base, class: 'files-changed', summary: `ignore globs ${list(before.ignore)} → ${list(after.ignore)}`, from: before.ignore ?? [], to: after.ignore ?? [] });
  }
  for (const [cls, files] of byRole) {
    files.sort((a, b) => compareCodePoints(a.path, b.path));
    const counts = (['added', 'removed', 'modified'] as const).map((c) => [c, files.filter((f) => f.change === c).length] as const).filter(([, n]) => n > 0);
    const config = files.filter((f) => f.role === 'config').map((f) => f.path);
    // Said in the summary a reviewer reads first: the SHA-256 stayed, what verify checks moved.
    const chunksOnly = files.filter((f) => f.change === 'modified' && f.before?.sha256 === f.after?.sha256 && f.before?.size === f.after?.size).map((f) => f.path);
    const note = `${config.length > 0 ? ` (config: ${config.join(', ')})` : ''}${chunksOnly.length > 0 ? ` (same SHA-256, other chunk digests: ${chunksOnly.join(', ')})` : ''}`;
    changes.push({ ...base, class: cls, summary: `${cls.replace('-changed', '')}: ${counts.map(([c, n]) => `${n} ${c}`).join(', ')}${note}`, files });
  }
  return changes;
}

/**
 * What a rename must keep: the root digest (every path and SHA-256) and every chunk list, which
 * the root digest does not cover. Chunk digests swapped under a rename are not "the same files".
 */
function getContentKey(artifact: FileArtifact): string {
  const chunks = artifact.files.filter((file) => file.chunks).map((file) => `${file.path}\0${getChunkListDigest(file.chunks as NonNullable<FileEntry['chunks']>)}`);
  return [artifact.digest, ...chunks].join('\n');
}

function toFileState(file: FileEntry): FileState {
  return { size: file.size, sha256: file.sha256, ...(file.chunks ? { chunks: getChunkListDigest(file.chunks) } : {}) };
}

function list(values: readonly string[] | undefined): string {
  return values && values.length > 0 ? values.join(', ') : 'nothing';
}

/** Who signed before and after, in words; a signer whose name is unchanged but whose key or CAs are not says so. */
function describeSignerChange(before: RecordedSigner | undefined, after: RecordedSigner): string {
  if (!before) return `now signed by ${describeRecordedSigner(after)} (was unsigned)`;
  const [was, now] = [describeRecordedSigner(before), describeRecordedSigner(after)];
  return was === now ? `signer: ${now}, with other recorded keys or CA certificates` : `signer: ${was} → ${now}`;
}

/** Where in the artifact a signature's bundle was found. */
function describePath(signature: ArtifactSignature): string {
  return signature.path === undefined ? 'outside the artifact' : signature.path;
}
