export const LOCKFILE_VERSION = 1;

export const ARTIFACT_KINDS = ['model', 'adapter', 'tokenizer', 'dataset'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export type Layout = 'directory' | 'file';

export interface LocalSource {
  type: 'local';
  /** Relative to the lockfile's folder, '/'-separated; absolute when the artifact lives elsewhere. */
  path: string;
}

export type Source = LocalSource;

export interface FileEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface FormatFacts {
  weights?: string[];
  tensors?: number;
  parameters?: number;
  dtypes?: string[];
}

/** Who signed an artifact, as verified at lock time; verify requires the same signer again. */
export type RecordedSigner =
  | { kind: 'keyless'; identity: string; issuer: string }
  | { kind: 'key'; keyFingerprint: string; publicKey: string }
  | { kind: 'certificate'; subject: string; certificateFingerprint: string; anchors: string[] };

export interface ArtifactSignature {
  /** The bundle, relative to the lockfile's folder. */
  bundle: string;
  bundleSha256: string;
  format: 'model-signing' | 'message-signature' | 'dsse';
  signer: RecordedSigner;
  /** A custom trusted root used at lock time (relative to the lockfile's folder). */
  trustedRoot?: string;
}

export interface Artifact {
  kind: ArtifactKind;
  layout: Layout;
  source: Source;
  files: FileEntry[];
  digest: string;
  ignore?: string[];
  dependsOn?: string[];
  format?: FormatFacts;
  signature?: ArtifactSignature;
}

export interface Lockfile {
  lockfileVersion: typeof LOCKFILE_VERSION;
  artifacts: Record<string, Artifact>;
}

export function emptyLockfile(): Lockfile {
  return { lockfileVersion: LOCKFILE_VERSION, artifacts: {} };
}
