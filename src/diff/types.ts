import type { FileRole } from '../formats/classify.js';
import type { ChangeClass } from '../policy/types.js';

export interface FileChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
  /** weights, tokenizer, config, data or other: what the file is, for a reviewer. */
  role: FileRole;
  /** Sizes and digests before and after, where there is a before or an after. */
  before?: { size: number; sha256: string };
  after?: { size: number; sha256: string };
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
