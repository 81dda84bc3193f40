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

export interface Artifact {
  kind: ArtifactKind;
  layout: Layout;
  source: Source;
  files: FileEntry[];
  digest: string;
  ignore?: string[];
  dependsOn?: string[];
  format?: FormatFacts;
}

export interface Lockfile {
  lockfileVersion: typeof LOCKFILE_VERSION;
  artifacts: Record<string, Artifact>;
}

export function emptyLockfile(): Lockfile {
  return { lockfileVersion: LOCKFILE_VERSION, artifacts: {} };
}
