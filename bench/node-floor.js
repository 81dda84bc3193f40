// The Node floor: a minimal Node.js program that hashes the same bytes as `aisc verify` — every
// file in 64 MiB ranges, SHA-256 by Node's crypto (OpenSSL), 256 KiB reads, this thread and one
// worker per other core taking ranges from a shared counter — and does nothing else: no lockfile,
// no checks, no CLI, no report. bench/hash.js runs it beside aisc and model_signing, so a target
// below this row is below what Node itself reached on the machine (a measure, not a proven bound).
//
//   node bench/node-floor.js FOLDER
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const RANGE_BYTES = 64 * 1024 * 1024;
const READ_BYTES = 256 * 1024;

function listRanges(dir) {
  const ranges = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const size = statSync(path).size;
    for (let start = 0; start < size || start === 0; start += RANGE_BYTES) ranges.push([path, start, Math.min(size, start + RANGE_BYTES)]);
  }
  return ranges;
}

/** Takes ranges until none are left; returns how many this thread hashed. */
function hashRanges(ranges, next) {
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let done = 0;
  for (let i = Atomics.add(next, 0, 1); i < ranges.length; i = Atomics.add(next, 0, 1)) {
    const [path, start, end] = ranges[i];
    const fd = openSync(path, 'r');
    const hash = createHash('sha256');
    for (let at = start; at < end; ) {
      const n = readSync(fd, buffer, 0, Math.min(READ_BYTES, end - at), at);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      at += n;
    }
    closeSync(fd);
    hash.digest();
    done++;
  }
  return done;
}

if (isMainThread) {
  const ranges = listRanges(process.argv[2]);
  const next = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: availableParallelism() - 1 }, () => new Worker(new URL(import.meta.url), { workerData: { ranges, next } }));
  const theirs = workers.map((worker) => new Promise((resolve) => worker.once('message', resolve)));
  const mine = hashRanges(ranges, next);
  const all = [mine, ...(await Promise.all(theirs))];
  process.stdout.write(`${all.reduce((sum, n) => sum + n, 0)} ranges hashed (${all.join(' + ')})\n`);
} else {
  parentPort.postMessage(hashRanges(workerData.ranges, workerData.next));
}
