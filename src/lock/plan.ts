import { isAbsolute, relative, resolve, sep } from 'node:path';
import { AiscError } from '../errors.js';
import { inferKind } from '../formats/index.js';
import { getNameProblem } from '../lockfile/index.js';
import type { FileArtifactKind } from '../lockfile/types.js';
import type { ArtifactSource } from '../sources/index.js';
import { locateBundle, type LocatedBundle, type PlannedArtifact } from './bundle-location.js';

/** What `aisc lock` asks of one source before anything is hashed. */
export interface PlanOptions {
  kind?: FileArtifactKind;
  name?: string;
  /** --signature: the bundle's path on disk, or inside a remote artifact. */
  bundle?: string;
}

/** A source resolved to something pinned and listed, named, with its kind. */
export interface Planned extends PlannedArtifact {
  /** The publisher's signature bundle found with it, taken out of `files`. */
  bundle?: LocatedBundle;
}

/** resolve → list → name → kind: everything before the bytes are hashed. */
export async function planSource(source: ArtifactSource, options: PlanOptions): Promise<Planned> {
  const resolved = await source.resolve();
  const name = options.name ?? resolved.name;
  const problem = getNameProblem(name);
  if (problem) {
    if (options.name !== undefined) throw new AiscError('NAME_INVALID', `--name: expected an artifact name, got ${JSON.stringify(name)}, which ${problem}`);
    throw new AiscError('NAME_INVALID', `${source.spec}: its base name ${JSON.stringify(name)} is not an artifact name (it ${problem}); pass --name`);
  }
  const files = await resolved.list();
  // A publisher's bundle is not a file of the model it signs: out of the list before anything else looks at it.
  const bundle = locateBundle({ spec: source.spec, resolved, files }, options.bundle);
  if (files.length === 0) throw new AiscError('SOURCE_EMPTY', `${source.spec}: nothing to lock but its signature bundle`);
  const kind = options.kind ?? resolved.kind ?? inferKind(files.map((file) => file.path));
  if (!kind) throw new AiscError('KIND_REQUIRED', `${source.spec}: cannot tell what kind of artifact this is; pass --kind model|adapter|tokenizer|dataset`);
  return { name, kind, spec: source.spec, resolved, files, ...(bundle ? { bundle } : {}) };
}

/** A bundle kept inside the model folder is not part of what it signs: its path there, to ignore. */
export function getBundleInside(source: string | undefined, bundle: string | undefined): string[] {
  if (source === undefined || bundle === undefined || /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(source)) return [];
  const rel = relative(resolve(source), resolve(bundle));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return [];
  return [rel.split(sep).join('/')];
}
