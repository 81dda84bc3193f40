import type { Inspection } from '../formats/inspection.js';
import type { FileChunks } from '../lockfile/types.js';

/** One file as an origin lists it: a size, and whatever digest the origin already knows. */
export interface ListedFile {
  /** Relative to the artifact, '/'-separated; a single-file artifact's base name. */
  path: string;
  size: number;
  /** Known without reading the bytes (a Hub LFS oid, a member hashed while the archive streamed). */
  sha256?: string;
  /** Chunk digests hashed with `sha256`, from the same bytes (a file downloaded while listing). */
  chunks?: FileChunks;
  /** The git blob SHA-1 the origin lists (a Hub file outside LFS): the bytes are checked against it. */
  gitOid?: string;
  /** A symlink on disk (followed inside the artifact). */
  link?: true;
  /** What the bytes hashed while listing are (archive members, downloads), inspected as they streamed. */
  inspection?: Inspection;
  /** A Hub tree entry as huggingface_hub keeps it in trees/<commit>.json (see hf-tree-cache.ts). */
  hub?: HubTreeEntry;
}

/** One signature attached to an artifact where it is published (a cosign signature in a registry), as found. */
export interface FoundSignature {
  /** Where it was found, for messages: `referrer sha256:…` or `tag sha256-….sig`. */
  where: string;
  /** A Sigstore bundle; absent for a legacy `.sig` signature, which is `payload` and `signature`. */
  bundle?: Buffer;
  /** The simplesigning payload a legacy `.sig` signature signs. */
  payload?: Buffer;
  /** A legacy `.sig` signature's raw signature bytes (from its annotation). */
  signature?: Buffer;
}

/** Every signature found attached to a pinned artifact, and where the source looked. */
export interface AttachedSignatures {
  /** What they must sign: the pinned digest (an OCI manifest's). */
  subject: string;
  spec: string;
  found: FoundSignature[];
  looked: string[];
}

/** One file of the listing, as the Hub's /tree answer gives it (huggingface_hub's TreeCacheEntry). */
export interface HubTreeEntry {
  size: number;
  /** The git blob SHA-1: of the bytes, or of the LFS pointer for an LFS file. */
  blobId: string;
  lfsSha256?: string;
  lfsSize?: number;
  xetHash?: string;
}
