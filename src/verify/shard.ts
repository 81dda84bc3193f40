import { createHash } from 'node:crypto';
import { AiscError } from '../errors.js';
import type { FileArtifact } from '../lockfile/types.js';
import { toRecorded } from '../sources/index.js';
import type { ArtifactCheck } from './check-artifact.js';

/** `--shard I/N`: part I (1-based) of N. */
export interface Shard {
  index: number;
  count: number;
}

export const MAX_SHARDS = 10_000;

export function parseShard(value: string): Shard {
  const match = /^(\d{1,5})\/(\d{1,5})$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new AiscError('SHARD_INVALID', `--shard: expected I/N with 1 <= I <= N <= ${MAX_SHARDS} (part I of N, counted from 1), got ${JSON.stringify(value)}`);
  }
  return { index, count };
}

/**
 * Which part each item goes to: the largest first, each to the part with the fewest bytes so far
 * (ties to the lowest part), items of equal size in `keys` order. Every process that reads the
 * same lockfile computes the same parts, so N machines verify disjoint parts that cover it all.
 */
export function assignShards(sizes: readonly number[], keys: readonly string[], count: number): Uint32Array {
  const order = sizes.map((_, i) => i).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0) || compare(keys[a] ?? '', keys[b] ?? ''));
  const assigned = new Uint32Array(sizes.length);
  // A min-heap of parts by (load, part).
  const heap = Array.from({ length: count }, (_, part) => ({ load: 0, part }));
  const less = (x: { load: number; part: number }, y: { load: number; part: number }): boolean => x.load < y.load || (x.load === y.load && x.part < y.part);
  for (const item of order) {
    const top = heap[0];
    if (!top) break;
    assigned[item] = top.part + 1;
    top.load += sizes[item] ?? 0;
    // Sift the grown part down.
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < heap.length && less(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && less(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === at) break;
      [heap[at], heap[smallest]] = [heap[smallest]!, heap[at]!];
      at = smallest;
    }
  }
  return assigned;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What the split divides, from the lockfile alone: each locked file (key `artifact\0path`), and
 * an artifact kept as an archive as one unit of all its files (key `artifact\0`: verify reads the
 * archive whole). Sizes are the locked ones. Every machine, and the merge, computes the same units.
 */
export interface ShardUnits {
  keys: string[];
  sizes: number[];
  /** Locked files in each unit. */
  counts: number[];
}

export function toShardUnits(artifacts: Iterable<readonly [string, FileArtifact]>): ShardUnits {
  const units: ShardUnits = { keys: [], sizes: [], counts: [] };
  for (const [name, artifact] of artifacts) {
    if (isWholeArchive(artifact)) {
      units.keys.push(`${name}\0`);
      units.sizes.push(artifact.files.reduce((sum, file) => sum + file.size, 0));
      units.counts.push(artifact.files.length);
      continue;
    }
    for (const file of artifact.files) {
      units.keys.push(`${name}\0${file.path}`);
      units.sizes.push(file.size);
      units.counts.push(1);
    }
  }
  return units;
}

/** The unit a locked file of an artifact belongs to. */
export function toUnitKey(name: string, artifact: FileArtifact, path: string): string {
  return isWholeArchive(artifact) ? `${name}\0` : `${name}\0${path}`;
}

/** What a part owns under a split: its locked files, their bytes, and the SHA-256 of its units' keys in lockfile order. */
export interface ShardShare {
  files: number;
  bytes: number;
  filesSha256: string;
}

export function describeShare(units: ShardUnits, assigned: Uint32Array, index: number): ShardShare {
  const hash = createHash('sha256');
  let files = 0;
  let bytes = 0;
  units.keys.forEach((key, u) => {
    if (assigned[u] !== index) return;
    files += units.counts[u] ?? 0;
    bytes += units.sizes[u] ?? 0;
    hash.update(key).update('\n');
  });
  return { files, bytes, filesSha256: hash.digest('hex') };
}

/** A kept archive is verified by its own bytes (one read for all its files), unless --artifact points at an extracted copy. */
function isWholeArchive(artifact: FileArtifact): boolean {
  return toRecorded(artifact.source).verifiedWhole === true;
}

/** This part's share of the lockfile's files: which part owns each unit, and the lightest part. */
export interface Split {
  units: ShardUnits;
  assigned: Uint32Array;
  /** Where files the ignore globs leave out are read: where a unit of no bytes would go, every machine alike. */
  lightest: number;
  share: ShardShare;
}

/** The split every part and `aisc report merge` compute from the lockfile alone. */
export function splitLockfile(artifacts: readonly [string, FileArtifact][], shard: Shard): Split {
  const units = toShardUnits(artifacts);
  const assigned = assignShards(units.sizes, units.keys, shard.count);
  const loads = new Array<number>(shard.count).fill(0);
  assigned.forEach((part, u) => (loads[part - 1] = (loads[part - 1] ?? 0) + (units.sizes[u] ?? 0)));
  const lightest = loads.indexOf(Math.min(...loads)) + 1;
  return { units, assigned, lightest, share: describeShare(units, assigned, shard.index) };
}

/** The part of each job, in the order of the checks' jobs: its locked file's unit's, or the lightest part for a file the ignore globs leave out. */
export function toJobParts(checks: readonly ArtifactCheck[], split: Split): Uint32Array {
  const unitOf = new Map(split.units.keys.map((key, u) => [key, u]));
  const parts = new Uint32Array(checks.reduce((sum, check) => sum + check.jobs.length, 0));
  let i = 0;
  for (const check of checks) {
    check.jobs.forEach((_, k) => {
      const file = check.files[k];
      const unit = file ? unitOf.get(toUnitKey(check.name, check.artifact, file.path)) : undefined;
      parts[i++] = unit === undefined ? split.lightest : (split.assigned[unit] ?? split.lightest);
    });
  }
  return parts;
}
