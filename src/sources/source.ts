import type { HubTreeEntry } from './hf-tree-cache.js';
import type { Inspection } from '../formats/inspection.js';
import type { Layout, Source } from '../lockfile/types.js';

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

/** Files on this machine: hashed on the worker pool, never through a stream. */
export interface OnDisk {
  /** Real path the files are read under. */
  realRoot: string;
  /** Real path symlinks may resolve into (an HF cache repo's blobs/); default realRoot. */
  linkRoot?: string;
  followSymlinks: boolean;
  /** Filled by list(): files the user's --ignore leaves out. Not locked, but the format gate still reads them. */
  hidden?: string[];
}

/** A source resolved to something pinned, ready to list and read. */
export interface ResolvedSource {
  /** What the lockfile records: enough to fetch the same bytes again. */
  source: Source;
  layout: Layout;
  /** The artifact name when --name is not given. */
  name: string;
  /** Set for sources on disk; then `open` is not used. */
  onDisk?: OnDisk;
  /** Every file of the artifact (refusing what cannot be recorded safely). */
  list(): Promise<ListedFile[]>;
  /** The bytes of one listed file whose digest the listing does not know. */
  open?(file: ListedFile): Promise<AsyncIterable<Buffer>>;
  /** Bytes [start, end) of a file not downloaded (a safetensors header), at most end - start of them. */
  readRange?(file: ListedFile, start: number, end: number): Promise<Buffer>;
  /** Whether the artifact follows links inside itself (a folder locked with --allow-symlinks, links inside an archive). */
  followsLinks?: boolean;
  close?(): Promise<void>;
}

/**
 * One origin of artifacts (a folder or file, an HF cache snapshot, a Hub repo, an https URL, an
 * archive): its `origin` is known from the spec alone, so the policy's `sources` are checked
 * before any disk or network work; `resolve` pins it.
 */
export interface ArtifactSource {
  /** As the user wrote it. */
  readonly spec: string;
  /** What the policy's `sources` judge: a path relative to the lockfile, a URL, hf://org/name. */
  readonly origin: string;
  resolve(): Promise<ResolvedSource>;
}
