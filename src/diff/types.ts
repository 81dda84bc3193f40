import type { FileRole } from '../formats/classify.js';

export const CHANGE_CLASSES = [
  'artifact-added',
  'artifact-removed',
  'artifact-renamed',
  'weights-changed',
  'tokenizer-changed',
  'files-changed',
  'source-changed',
  'revision-changed',
  'signer-changed',
  'dependency-changed',
  'policy-changed',
  'npm-added',
  'npm-removed',
  'npm-major',
  'npm-minor',
  'npm-patch',
  'npm-prerelease',
  'npm-downgrade',
  'npm-integrity-changed',
  'npm-source-changed',
  'npm-install-script-added',
] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];

export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  /** weights, tokenizer, config, data or other: what the file is, for a reviewer. */
  role: FileRole;
  /** Sizes and digests before and after, where there is a before or an after. */
  before?: FileState;
  after?: FileState;
}

/**
 * A file as a change shows it. `chunks`, for a file with chunk digests, is their one digest
 * (getChunkListDigest): verify passes bytes that match them, so a chunk list that moves under an
 * unchanged SHA-256 is a change of content like any other, shown and approved as one.
 */
export interface FileState {
  size: number;
  sha256: string;
  chunks?: string;
}

/** One reviewable change. The list of them, as canonical JSON, is what an approval signs. */
export interface Change {
  class: ChangeClass;
  /** The artifact changed (absent for policy-changed). */
  artifact?: string;
  /** The artifact's kind (the new one, or the old one for a removal): approvals match on it. */
  kind?: string;
  /** One line for people. */
  summary: string;
  files?: FileChange[];
  from?: unknown;
  to?: unknown;
}

export interface LockfileDiff {
  changes: Change[];
  /** SHA-256 of the canonical JSON of `changes`. */
  changeDigest: string;
}
