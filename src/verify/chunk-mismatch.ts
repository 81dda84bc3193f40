import { describeByteRange, getChunkRange } from '../lockfile/chunks.js';
import type { FileChunks } from '../lockfile/types.js';

/** Byte ranges shown in one finding; the rest are counted. */
const SHOWN_RANGES = 3;

export interface ChunkMismatch {
  /** `bytes 1073741824–1140850687 differ (chunk 17 of 32)`. */
  message: string;
  /** The first differing chunk's locked and actual digests. */
  expected: string;
  actual: string;
}

/**
 * Which of a file's chunks hash to other digests than the locked ones, said as the byte ranges
 * that differ (neighbouring chunks joined into one range), or undefined when all match.
 */
export function getChunkMismatch(size: number, locked: FileChunks, actual: readonly string[]): ChunkMismatch | undefined {
  const ranges: { start: number; end: number }[] = [];
  let first: number | undefined;
  let count = 0;
  locked.sha256.forEach((digest, index) => {
    if (actual[index] === digest) return;
    first ??= index;
    count++;
    const range = getChunkRange(index, locked.size, size);
    const last = ranges[ranges.length - 1];
    if (last && last.end === range.start) last.end = range.end;
    else ranges.push(range);
  });
  if (first === undefined) return undefined;
  const shown = ranges.slice(0, SHOWN_RANGES).map((range) => describeByteRange(range.start, range.end).replace(/^bytes /, ''));
  const more = ranges.length > SHOWN_RANGES ? ` and ${ranges.length - SHOWN_RANGES} more range${ranges.length - SHOWN_RANGES === 1 ? '' : 's'}` : '';
  const which = count === 1 ? `chunk ${first + 1} of ${locked.sha256.length}` : `${count} of ${locked.sha256.length} chunks`;
  return { message: `bytes ${shown.join(', ')}${more} differ (${which})`, expected: locked.sha256[first] ?? '', actual: actual[first] ?? '' };
}
