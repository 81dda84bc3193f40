import { createHash } from 'node:crypto';
import { compareCodePoints } from './canonical-json.js';
import type { FileEntry } from './types.js';

/**
 * The OpenSSF Model Signing root digest: SHA-256 over the raw 32-byte file digests concatenated
 * in code-point order of their paths (what `model_signing digest` prints).
 */
export function computeRootDigest(files: readonly Pick<FileEntry, 'path' | 'sha256'>[]): string {
  const hash = createHash('sha256');
  // Hex straight into the hash: no Buffer per file on the heap (a million files make a million).
  for (const file of sortFiles(files)) hash.update(file.sha256, 'hex');
  return hash.digest('hex');
}

export function sortFiles<T extends { path: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => compareCodePoints(a.path, b.path));
}
