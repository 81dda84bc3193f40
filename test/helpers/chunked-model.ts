import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runAisc } from './cli.js';
import { makeTempDir } from './temp.js';

export const MiB = 1024 * 1024;
/** 1 MiB chunks: the smallest a lockfile may record, so test files stay small. */
export const CHUNKED = { AISC_CHUNK_BYTES: String(MiB) };
/** 13 chunks of 1 MiB, the last one short: more than verify hashes on its own thread. */
export const SIZE = 12 * MiB + 12_345;

export interface LockedFile {
  path: string;
  size: number;
  sha256: string;
  format?: string;
  chunks?: { size: number; sha256: string[] };
}
export type Lock = { lockfileVersion: number; artifacts: Record<string, { files: LockedFile[]; digest: string }> };

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
export const chunkDigests = (data: Buffer, size = MiB): string[] => Array.from({ length: Math.ceil(data.length / size) }, (_, k) => sha256(data.subarray(k * size, (k + 1) * size)));
export const readLock = (dir: string, name = 'aisc.lock.json'): Lock => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Lock;
export const weightsOf = (lock: Lock): LockedFile | undefined => lock.artifacts.model?.files.find((file) => file.path === 'weights.bin');

/** A model folder whose weights span 13 chunks of 1 MiB, locked (with chunk digests unless `env` says otherwise). */
export function lockedModel(env: Record<string, string> = CHUNKED): { dir: string; weights: Buffer; file: string } {
  const dir = makeTempDir();
  mkdirSync(join(dir, 'model'));
  const weights = randomBytes(SIZE);
  const file = join(dir, 'model', 'weights.bin');
  writeFileSync(file, weights);
  writeFileSync(join(dir, 'model', 'config.json'), '{"hidden_size": 16}\n');
  const locked = runAisc(['lock', 'model', '--kind', 'model'], dir, env);
  expect(locked.stderr).toBe('');
  expect(locked.status).toBe(0);
  return { dir, weights, file };
}
