import type { FileArtifact, FileArtifactKind, Layout, Source } from '../lockfile/types.js';
import type { AttachedSignatures, ListedFile } from './listing.js';
import type { Network } from './network.js';
import type { ContentGate, RestorePlan } from './restore.js';

export type { AttachedSignatures, FoundSignature, ListedFile } from './listing.js';

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
  /** Whether the artifact follows links inside itself (a folder locked with --allow-symlinks, links inside an archive): recorded when a listed file is one. */
  followsLinks?: boolean;
  /** The --ignore globs are part of what is locked (a folder on disk: verify applies them again). */
  recordsIgnore?: boolean;
  /** The artifact's kind when the origin says it (a Hub dataset repo). */
  kind?: FileArtifactKind;
  /** Puts what was staged while listing (a download kept with --path) in place: the lock is being recorded. */
  commit?(): Promise<void>;
  /** Drops what was staged: the lock failed, and what was there before stays. */
  discard?(): Promise<void>;
  /** The signatures published beside the pinned artifact (cosign's in an OCI registry), found but not judged: lock verifies them. */
  attachedSignatures?(): Promise<AttachedSignatures>;
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
  /** --ignore applies (a folder on disk); elsewhere it would silently do nothing, so it is refused. */
  readonly takesIgnore?: boolean;
  /** --path applies: a download kept on disk (an https file or archive). */
  readonly keepsDownload?: boolean;
  /** --include/--exclude apply (a Hub repo's files). */
  readonly selects?: boolean;
  /** --platform applies (an OCI tag may name an index of platforms). */
  readonly choosesPlatform?: boolean;
  /** Where its bytes are kept instead of --path (said when --path is given). */
  readonly keptIn?: string;
  resolve(): Promise<ResolvedSource>;
}

/** Where verify finds a locked artifact's bytes on this machine (offline: nothing is fetched). */
export type LocalCopy =
  /** Its files under `root`; links may lead only into `linkRoot` (an HF cache repo's blobs/), and are then the layout's own. */
  | { mode: 'files'; root: string; linkRoot?: string; hint?: string; selected?: (path: string) => boolean }
  /** The archive itself: its bytes must hash to the locked archive digest. */
  | { mode: 'archive'; path: string; sha256: string; size: number }
  /** Nowhere known: `--artifact NAME=PATH` must say. */
  | { mode: 'none'; hint: string };

/** How a copy mounted elsewhere (`--artifact NAME=PATH`) is read: what is not content there, and which files belong. */
export interface MountedCopy {
  skip?: (path: string) => boolean;
  selected?: (path: string) => boolean;
}

/** The same origin at another revision, as `aisc diff`'s revision-changed class shows it. */
export interface RevisionChange {
  summary: string;
  from: Record<string, string>;
  to: Record<string, string>;
}

/** What an SBOM says of where an artifact comes from. */
export interface SbomFacts {
  version?: string;
  purl?: string;
  references: { type: 'distribution' | 'model-card'; url: string; hashes?: { alg: 'SHA-256'; content: string }[] }[];
}

/**
 * A recorded source and everything the commands after `lock` do with it: what the policy's
 * `sources` judge, where verify finds the bytes, how fetch restores them, how diff and the SBOM
 * describe it. Built by the registry from the lockfile's entry.
 */
export interface RecordedSource {
  readonly source: Source;
  /** A path relative to the lockfile, a URL, or hf://[datasets/]org/name: what the policy's `sources` match. */
  readonly origin: string;
  /** The origin and its pin (a Hub commit and ref): what a reviewer reads. */
  describe(): string;
  /** Named by the user as a path on this machine (lock then says nothing of where it came from). */
  readonly onDisk: boolean;
  locate(name: string, artifact: FileArtifact, lockfile: string, env: NodeJS.ProcessEnv): LocalCopy;
  /** verify reads it as one unit wherever it is kept (a kept archive: one read stands for all its files). */
  readonly verifiedWhole?: boolean;
  mounted(): MountedCopy;
  /** What a detached signature over the origin signs (an OCI manifest digest): verify checks its signature against this, not the files. */
  readonly signedDigest?: string;
  /** Why fetch cannot bring the bytes back (a folder on disk, a download not kept); absent when it can. */
  readonly unfetchable?: string;
  /** How fetch brings the bytes back. */
  restore(context: RestoreContext): Promise<RestorePlan>;
  /** The same origin at another revision (diff's own class), when `after` is one. */
  compare(after: Source): RevisionChange | undefined;
  sbom(artifact: FileArtifact): SbomFacts;
}

/** What fetch gives a source to restore one artifact with. */
export interface RestoreContext {
  name: string;
  artifact: FileArtifact;
  lockfile: string;
  env: NodeJS.ProcessEnv;
  network: Network;
  gate: ContentGate;
  /** Told what fetch did on its own that a user should know (a bad partial download discarded). */
  onNote?: (message: string) => void;
  /** --oci-layout DIR: a source that can also lay its blobs out as an OCI image layout does. */
  ociLayout?: string;
}
