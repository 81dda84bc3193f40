import type { Inspection } from '../formats/inspection.js';
import type { HubTreeEntry } from './hf-tree-cache.js';

/** One file as an origin lists it: a size, and whatever digest the origin already knows. */
export interface ListedFile {
  /** Relative to the artifact, '/'-separated; a single-file artifact's base name. */
  path: string;
  size: number;
  /** Known without reading the bytes (a Hub LFS oid, a member hashed while the archive streamed). */
  sha256?: string;
  /** The git blob SHA-1 the origin lists (a Hub file outside LFS): the bytes are checked against it. */
  gitOid?: string;
  /** A symlink on disk (followed inside the artifact). */
  link?: true;
  /** What the bytes hashed while listing are (archive members, downloads), inspected as they streamed. */
  inspection?: Inspection;
  /** A Hub tree entry as huggingface_hub keeps it in trees/<commit>.json (see hf-tree-cache.ts). */
  hub?: HubTreeEntry;
}
