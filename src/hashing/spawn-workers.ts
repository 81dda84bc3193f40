import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { workerFile } from '../built.js';

// How hash workers are started, alone in a module that imports nothing else of aisc: bin/aisc.js
// loads it before the CLI (src/cli/prestart.ts), so the workers boot while the rest loads.

/** Each worker's two read buffers: big sequential reads, reused for every file. */
export const READ_BUFFER_BYTES = 4 * 1024 * 1024;
/** A worker's heap holds only small result objects (read buffers live outside it): keep it small. */
// Inspection keeps bounded state (a pickle memo of up to a million entries, a GGUF header of up to 64 MiB).
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 256 };

/** A booting or running hash worker, and its byte counter (read for progress: no message per chunk). */
export interface HashWorker {
  worker: Worker;
  counter: Float64Array;
}

/** The hashing threads `jobs` asks for (default: one per core), this one included. */
export function getThreadCount(jobs?: number): number {
  return Math.max(1, jobs ?? availableParallelism());
}

/** Starts `count` workers; they wait for tasks, and do not keep the process alive until given some. */
export function spawnHashWorkers(count: number): HashWorker[] {
  const url = workerFile('hashing/worker.js', 'hash-worker');
  // Not imported at the top: a verify that hashes on this thread never loads worker_threads.
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  return Array.from({ length: count }, () => {
    const progress = new SharedArrayBuffer(8);
    const worker = new Worker(url, { workerData: { bufferSize: READ_BUFFER_BYTES, progress }, resourceLimits: WORKER_LIMITS });
    worker.unref();
    return { worker, counter: new Float64Array(progress) };
  });
}

let prestarted: { threads: number; workers: HashWorker[] } | undefined;

/**
 * Starts the workers for `jobs` threads before the CLI has even loaded (bin/aisc.js), so that their
 * boot (about 45 ms each, in parallel) overlaps with loading and listing rather than delaying the
 * first hash. The pool made next takes them.
 */
export function prestartHashWorkers(jobs?: number): void {
  const threads = getThreadCount(jobs);
  prestarted ??= { threads, workers: spawnHashWorkers(threads - 1) };
}

/** The prestarted workers when they make `threads` with this one (each taken once), else none (any others stop). */
export function takePrestartedWorkers(threads: number): HashWorker[] | undefined {
  const taken = prestarted;
  prestarted = undefined;
  if (taken?.threads === threads) return taken.workers;
  for (const { worker } of taken?.workers ?? []) void worker.terminate();
  return undefined;
}
