import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AiscError } from '../errors.js';
import type { FileArtifactKind } from '../lockfile/types.js';
import type { BundleFile } from '../signing/bundle.js';
import type { ListedFile, ResolvedSource } from '../sources/index.js';
import { readListedFile } from './hash-remote.js';

/** Where publishers put an OpenSSF Model Signing bundle: model_signing's default name, at the model's root. */
export const MODEL_SIGNATURE = 'model.sig';
/** Beside a single file: what `cosign sign-blob --bundle` and `aisc sign` name it. */
export const FILE_SIGNATURE_SUFFIX = '.sigstore.json';

/** One artifact as lock plans it, before its bundle is looked for (plan.ts's Planned adds the bundle found). */
export interface PlannedArtifact {
  name: string;
  kind: FileArtifactKind;
  spec: string;
  resolved: ResolvedSource;
  files: ListedFile[];
}

/** A bundle found for one planned artifact, not yet read. */
export interface LocatedBundle {
  /** Inside the artifact (a folder's model.sig): not one of its files. */
  path?: string;
  /** On this machine. */
  disk?: string;
  /** Listed by a remote origin: read from it, checked against the listing. */
  listed?: ListedFile;
  /** The entry taken out of the artifact's file list, to put back if the bundle is not to be checked. */
  taken?: ListedFile;
  /** Its bytes, once read. */
  file?: BundleFile;
  /** How to name it in messages. */
  where: string;
}

/**
 * Where the publisher's bundle is for one planned artifact, taken out of its file list (a bundle
 * is not a file of the model it signs, as model_signing leaves it out): `--signature` (a path on
 * disk, or inside a remote artifact), else model.sig at a folder's root, else FILE.sigstore.json
 * beside a single file. Undefined when there is none.
 */
export function locateBundle(plan: Pick<PlannedArtifact, 'spec' | 'resolved' | 'files'>, given: string | undefined): LocatedBundle | undefined {
  const disk = plan.resolved.onDisk;
  if (disk) {
    if (given !== undefined) return takeInside(plan, resolve(given), given);
    if (plan.resolved.layout === 'file') {
      const beside = `${plan.spec}${FILE_SIGNATURE_SUFFIX}`;
      return isFileOrLink(beside) ? { disk: beside, where: beside } : undefined;
    }
    const inside = join(disk.realRoot, MODEL_SIGNATURE);
    return isFileOrLink(inside) ? takeInside(plan, inside, join(plan.spec, MODEL_SIGNATURE)) : undefined;
  }
  if (plan.resolved.layout === 'file') {
    // A downloaded file has no inside; its bundle is checked once it is kept on disk.
    if (given !== undefined) throw new AiscError('USAGE', `--signature: ${plan.spec} is one remote file; keep it with --path, then lock the kept file with --signature`);
    return undefined;
  }
  if (!plan.resolved.open) {
    // An archive's members are read once, as it streams: a bundle among them stays one of its files.
    if (given !== undefined) throw new AiscError('USAGE', `--signature: the files of ${plan.spec} cannot be read one by one; extract it and lock the folder with its bundle`);
    return undefined;
  }
  const path = given ?? MODEL_SIGNATURE;
  const index = plan.files.findIndex((file) => file.path === path);
  if (index < 0) {
    if (given === undefined) return undefined;
    throw new AiscError('SIGNATURE_MISSING', `--signature ${given}: ${plan.spec} has no such file (a remote artifact's bundle is named by its path inside it)`);
  }
  const [listed] = plan.files.splice(index, 1);
  return { path, listed, taken: listed, where: `${plan.spec}: ${path}` };
}

/** A bundle on disk; inside the artifact's folder it leaves the file list (and the format gate still reads it). */
function takeInside(plan: Pick<PlannedArtifact, 'resolved' | 'files'>, absolute: string, where: string): LocatedBundle {
  const disk = plan.resolved.onDisk;
  if (!disk || plan.resolved.layout !== 'directory') return { disk: absolute, where };
  let real: string;
  try {
    real = join(realpathSync(resolve(absolute, '..')), absolute.split(sep).pop() ?? '');
  } catch {
    return { disk: absolute, where };
  }
  const rel = relative(disk.realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { disk: absolute, where };
  const path = rel.split(sep).join('/');
  const index = plan.files.findIndex((file) => file.path === path);
  if (index < 0) return { path, disk: absolute, where };
  const [taken] = plan.files.splice(index, 1);
  (disk.hidden ??= []).push(path);
  return { path, disk: absolute, where, ...(taken ? { taken } : {}) };
}

/** A bundle that will not be checked is a file of the artifact like any other: back in its list. */
export function putBack(plan: Pick<PlannedArtifact, 'resolved' | 'files'>, located: LocatedBundle): void {
  if (!located.taken) return;
  plan.files.push(located.taken);
  const hidden = plan.resolved.onDisk?.hidden;
  const at = hidden?.indexOf(located.taken.path) ?? -1;
  if (hidden && at >= 0) hidden.splice(at, 1);
}

export function isFileOrLink(path: string): boolean {
  try {
    const stats = lstatSync(path);
    return stats.isFile() || stats.isSymbolicLink();
  } catch {
    return false;
  }
}

/** The bundle's bytes, read once (bounded): what is verified, hashed and kept is the same. */
export async function readLocated(plan: PlannedArtifact, located: LocatedBundle): Promise<BundleFile> {
  if (located.file) return located.file;
  const { MAX_BUNDLE_BYTES, readBundleFile } = await import('../signing/bundle.js');
  if (located.disk !== undefined) located.file = await readBundleFile(located.disk);
  else if (located.listed) located.file = { path: located.where, bytes: await readListedFile(plan.spec, plan.resolved, located.listed, MAX_BUNDLE_BYTES) };
  else throw new AiscError('INTERNAL', `${located.where}: neither on disk nor listed`);
  return located.file;
}
