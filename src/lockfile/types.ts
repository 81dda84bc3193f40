export const LOCKFILE_VERSION = 1;

/** Kinds whose artifacts are files on disk, hashed file by file. */
export const ARTIFACT_KINDS = ['model', 'adapter', 'tokenizer', 'dataset'] as const;
export type FileArtifactKind = (typeof ARTIFACT_KINDS)[number];
export type ArtifactKind = FileArtifactKind | 'npm';

export type Layout = 'directory' | 'file';

export interface LocalSource {
  type: 'local';
  /** Relative to the lockfile's folder, '/'-separated; absolute when the artifact lives elsewhere. */
  path: string;
}

/** A Hugging Face Hub repository, pinned to one commit. */
export interface HubSource {
  type: 'huggingface';
  /** org/name */
  repo: string;
  repoType: 'model' | 'dataset';
  /** The 40-hex commit everything was listed at. */
  revision: string;
  /** What was asked for: a branch, tag, refs/pr/N or the commit itself. */
  ref: string;
  /** The Hub endpoint, when not https://huggingface.co. */
  endpoint?: string;
  /** The --include / --exclude globs the file list was chosen with. */
  include?: string[];
  exclude?: string[];
}

/** One file downloaded from an https URL. */
export interface UrlSource {
  type: 'url';
  url: string;
  /** The server's ETag when it was locked (informational: the SHA-256 is what is checked). */
  etag?: string;
  /** Where the file is kept, relative to the lockfile's folder ('/'-separated) or absolute. */
  path?: string;
}

/** A .tar / .tar.gz whose members are the artifact's files, from a path or a URL. */
export interface ArchiveSource {
  type: 'archive';
  /** Where the archive is kept, relative to the lockfile's folder, or absolute. */
  path?: string;
  url?: string;
  etag?: string;
  /** The archive's own SHA-256 and size: the members' digests are derived from these bytes. */
  sha256: string;
  size: number;
  compression: 'none' | 'gzip';
}

/**
 * An OCI artifact (a CNCF ModelPack or KitOps ModelKit) in a registry, pinned to its manifest's
 * digest: a tag is only what was asked for.
 */
export interface OciSource {
  type: 'oci';
  /** host[:port] as the user named it (docker.io for Docker Hub). */
  registry: string;
  /** The repository path, lower-case segments: org/model. */
  repository: string;
  /** sha256:… of the image manifest the files were listed from. */
  digest: string;
  /** The tag asked for, when it was one (informational: the digest is what is fetched). */
  tag?: string;
  /** The manifest's media type (OCI or Docker v2). */
  mediaType: string;
  /** The manifest's artifactType, or its config's media type when it has none. */
  artifactType?: string;
  /** When the tag named an index: its digest and the platform chosen from it. */
  index?: string;
  platform?: string;
  /** Where fetch lays the files out and verify finds them, relative to the lockfile's folder or absolute (default: the aisc OCI cache). */
  path?: string;
}

export type Source = LocalSource | HubSource | UrlSource | ArchiveSource | OciSource;

/** What a file is, told from its bytes alone (never from its name). */
export const CONTENT_FORMATS = ['safetensors', 'gguf', 'pytorch-zip', 'pytorch-legacy', 'pickle', 'numpy', 'zip', 'tar', 'gzip', 'json', 'text', 'unknown'] as const;
export type ContentFormat = (typeof CONTENT_FORMATS)[number];

/**
 * The SHA-256 of each `size`-byte piece of a big file (the last may be short), in order: verify
 * checks these on every hashing thread at once instead of the whole-file digest, which stays the
 * file's identity. Pinned by the lockfile like the digest itself.
 */
export interface FileChunks {
  /** Bytes a chunk: a power of two from 1 MiB to 4 GiB. */
  size: number;
  sha256: string[];
}

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
  /** Set for files of at least two chunks when they were locked (lockfile.md: "Chunk digests"). */
  chunks?: FileChunks;
  /** What the file is, told from its bytes when it was locked (absent when they were not read). */
  format?: ContentFormat;
  /**
   * `false` when lock did not read all of its bytes (a Hub LFS file, hashed from the Hub's listing;
   * of a safetensors one only the header): the content gate first judges it at fetch and verify.
   * Absent when every byte was inspected.
   */
  inspected?: false;
}

export interface FormatFacts {
  weights?: string[];
  tensors?: number;
  parameters?: number;
  dtypes?: string[];
  /** GGUF `general.architecture` (several joined by ", "). */
  architecture?: string;
  /** GGUF quantization, by llama.cpp's name. */
  quantization?: string;
}

/** Who signed an artifact, as verified at lock time; verify requires the same signer again. */
export type RecordedSigner =
  | { kind: 'keyless'; identity: string; issuer: string }
  | { kind: 'key'; keyFingerprint: string; publicKey: string }
  | { kind: 'certificate'; subject: string; certificateFingerprint: string; anchors: string[] };

export interface ArtifactSignature {
  /** The bundle, relative to the lockfile's folder. */
  bundle: string;
  /** Where the publisher's bundle was found inside the artifact (model.sig): not one of its files. */
  path?: string;
  bundleSha256: string;
  format: 'model-signing' | 'message-signature' | 'dsse';
  signer: RecordedSigner;
  /** A custom trusted root used at lock time (relative to the lockfile's folder). */
  trustedRoot?: string;
}

/** A file list kept beside the lockfile (`.aisc/manifests/<sha256>.txt`), pinned by digest and size. */
export interface ManifestRef {
  sha256: string;
  /** How many files it lists. */
  files: number;
  /** Its length in bytes: it is read within exactly this. */
  bytes: number;
}

export interface FileArtifact {
  kind: FileArtifactKind;
  layout: Layout;
  source: Source;
  /**
   * In path order. For an artifact with a manifest, listed from it when the lockfile is read,
   * except by aisc lock (which only checks the pin and rewrites it untouched): then empty.
   */
  files: FileEntry[];
  /** Set when the file list lives in a manifest (more than MANIFEST_THRESHOLD files). */
  manifest?: ManifestRef;
  digest: string;
  ignore?: string[];
  /** Locked with --allow-symlinks over links inside the artifact: verify follows them too. */
  allowSymlinks?: true;
  dependsOn?: string[];
  format?: FormatFacts;
  signature?: ArtifactSignature;
}

/** Where an npm package comes from, as its package-lock.json says. */
export interface NpmSource {
  type: 'npm';
  /** The package-lock.json it was locked from, relative to the lockfile's folder. */
  packageLock: string;
  /** registry, or git / file / link / remote for packages that do not come from a registry. */
  from: 'registry' | 'git' | 'file' | 'link' | 'remote';
  /** The registry its metadata was checked against (registry packages). */
  registry?: string;
  /** package-lock.json's `resolved`, when it records one. */
  resolved?: string;
}

/**
 * The registry's ECDSA signature over name@version:integrity, as checked at lock time. `sig` is the
 * signature itself, which verify checks again offline; lockfiles written before it was recorded
 * here keep it in the package's evidence file instead.
 */
export type NpmRegistrySignature =
  | { status: 'verified'; keyid: string; sig?: string }
  | { status: 'unsigned'; reason: string };

/** Where and how the package was built, from its verified SLSA provenance. */
export interface NpmProvenance {
  predicateType: string;
  /** The source repository, e.g. https://github.com/sigstore/sigstore-js. */
  repository: string;
  commit?: string;
  /** The workflow file that built it, relative to the repository. */
  workflow?: string;
  ref?: string;
  builder: string;
  /** The certificate that signed it (Fulcio SAN and OIDC issuer). */
  identity: string;
  issuer: string;
}

export interface NpmArtifact {
  kind: 'npm';
  /** The real package name (an alias's target). */
  package: string;
  version: string;
  source: NpmSource;
  /** The SRI integrity package-lock.json pins (sha512-…); missing only for links and folders. */
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  hasInstallScript?: boolean;
  /** When the registry says this version was published. */
  publishedAt?: string;
  registrySignature?: NpmRegistrySignature;
  /** Verified provenance; absent when the package has none. */
  provenance?: NpmProvenance;
  /**
   * For a package with attestations: the evidence (its registry facts, signatures and the
   * attestation bundles as served), the sha256 of its file in .aisc/evidence/.
   */
  evidence?: string;
}

export type Artifact = FileArtifact | NpmArtifact;

export function isNpmArtifact(artifact: Artifact): artifact is NpmArtifact {
  return artifact.kind === 'npm';
}

export interface Lockfile {
  lockfileVersion: typeof LOCKFILE_VERSION;
  /** By name, in name order when written. A Map: names are data, never object keys. */
  artifacts: Map<string, Artifact>;
}

export function emptyLockfile(): Lockfile {
  return { lockfileVersion: LOCKFILE_VERSION, artifacts: new Map() };
}
