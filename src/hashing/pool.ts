import type { Worker } from 'node:worker_threads';
import { AiscError } from '../errors.js';
import type { ReadBuffers } from './hash-file.js';
import { planTasks, runTasks, type PlannedTask } from './run-tasks.js';
import { getSpreadParts } from './spread.js';
import { getThreadCount, spawnHashWorkers, takePrestartedWorkers, type HashWorker } from './spawn-workers.js';
import type { AnyHashResult, HashJob, HashResult } from './types.js';

/** Work this small is hashed on the calling thread when no worker is up: booting one costs more. */
const INLINE_MAX_BYTES = 8 * 1024 * 1024;
const INLINE_MAX_FILES = 64;
const INLINE_BUFFER_BYTES = 1024 * 1024;
/**
 * This thread's reads when it hashes beside the workers, each followed by a turn of the event
 * loop. Measured on two 1 GiB files (perf, CPU of the whole process, medians of 3): 256 KiB reads
 * here 2,018 ms, of which 310 ms copying from the page cache; 1 MiB here 2,073-2,300 ms (430-460
 * copying); on libuv's threads, 1 MiB 2,124 ms (383), 256 KiB 2,068-2,173 ms (315-320).
 */
const HERE_BUFFER_BYTES = 256 * 1024;

function isSmallWork(sizes: readonly number[]): boolean {
  return sizes.length <= INLINE_MAX_FILES && sizes.reduce((sum, size) => sum + size, 0) <= INLINE_MAX_BYTES;
}
export interface ProgressSource {
  bytesDone(): number;
}

/**
 * Threads that hash files: this one and `jobs - 1` workers, started as soon as the pool is made so
 * that they boot while the caller lists files (this thread needs no boot, and turns its event loop
 * every few MiB so it keeps answering the workers while it hashes). Big files go first and
 * alone (longest first keeps every core busy to the end); small files go in batches; a file whose
 * chunks are checked on their own (verify) goes as its chunks, each to whichever thread is free,
 * so one big file keeps every core busy.
 */
export class HashPool implements ProgressSource {
  private workers: Worker[] = [];
  private readonly counters: Float64Array[] = [];
  private readonly count: number;
  /** Bytes hashed on this thread. */
  private inlineBytes = 0;
  /** This thread's read buffer (twice: reads here are not double-buffered), made the first time it hashes beside the workers. */
  private buffers: ReadBuffers | undefined;
  private busy = false;

  /**
   * `start: false`: the workers boot only when work too big for this thread arrives. `workers`:
   * ones already booting (prestarted), `jobs - 1` of them.
   */
  constructor(options: { jobs?: number; start?: boolean; workers?: HashWorker[] } = {}) {
    this.count = getThreadCount(options.jobs);
    if (options.workers) this.adopt(options.workers);
    else if (options.start !== false) this.startWorkers();
  }

  private startWorkers(): void {
    // This thread is the count's last.
    if (this.workers.length === 0 && this.count > 1) this.adopt(spawnHashWorkers(this.count - 1));
  }

  private adopt(workers: HashWorker[]): void {
    this.workers = workers.map(({ worker }) => worker);
    this.counters.push(...workers.map(({ counter }) => counter));
  }

  get size(): number {
    return this.count;
  }

  bytesDone(): number {
    return this.counters.reduce((sum, counter) => sum + (counter[0] ?? 0), this.inlineBytes);
  }

  /** Results in the order of `jobs`. `sizes` (default: each job's expectedSize) guide the plan. */
  async hash(jobs: readonly HashJob[], sizes: readonly number[] = jobs.map((job) => job.expectedSize ?? 0)): Promise<HashResult[]> {
    const results = new Array<HashResult>(jobs.length);
    await this.hashEach(jobs, (index, result) => (results[index] = result), sizes);
    return results;
  }

  /**
   * Hands each result to `onResult` as its batch comes back, in no particular order, and keeps
   * none: a million files need not hold a million result objects at once. Every job gets exactly
   * one result; one a worker never answered is UNREADABLE_FILE.
   */
  async hashEach(jobs: readonly HashJob[], onResult: (index: number, result: HashResult) => void, sizes?: readonly number[]): Promise<void> {
    if (jobs.some((job) => job.chunks?.whole === false)) throw new AiscError('INTERNAL', 'HashPool.hashEach: a job asks for chunk digests alone (use hashEachChunked)');
    // Every job asks for the whole-file digest, so every ok result carries it.
    await this.hashEachChunked(jobs, onResult as (index: number, result: AnyHashResult) => void, sizes);
  }

  /** As hashEach, for jobs that may ask for chunk digests alone (verify): their results have no whole-file digest. */
  async hashEachChunked(jobs: readonly HashJob[], onResult: (index: number, result: AnyHashResult) => void, sizes: readonly number[] = jobs.map((job) => job.expectedSize ?? 0)): Promise<void> {
    if (this.busy) throw new AiscError('INTERNAL', 'HashPool.hash is already running');
    this.busy = true;
    try {
      const answered = new Uint8Array(jobs.length);
      const report = (index: number, result: AnyHashResult): void => {
        answered[index] = 1;
        onResult(index, result);
      };
      if (this.workers.length === 0 && isSmallWork(sizes)) {
        await this.runInline(jobs, report);
      } else {
        this.startWorkers();
        const tasks = planTasks(sizes, (i) => getSpreadParts(jobs[i] as HashJob, sizes[i] ?? 0));
        if (tasks.length > 0) await this.run(jobs, tasks, report);
      }
      answered.forEach((done, i) => {
        if (!done) onResult(i, { ok: false, code: 'UNREADABLE_FILE', message: `not hashed: ${jobs[i]?.path ?? '?'}` });
      });
    } finally {
      this.busy = false;
    }
  }

  /** A few small files (an incremental verify, a one-file lockfile): hashed here, sooner than a worker boots. */
  private async runInline(jobs: readonly HashJob[], report: (index: number, result: AnyHashResult) => void): Promise<void> {
    const { hashFile } = await import('./hash-file.js');
    const buffer = Buffer.allocUnsafe(INLINE_BUFFER_BYTES);
    const buffers = [buffer, buffer] as const;
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      if (job) report(i, await hashFile(job, buffers, (n) => (this.inlineBytes += n)));
    }
  }

  private run(jobs: readonly HashJob[], tasks: PlannedTask[], report: (index: number, result: AnyHashResult) => void): Promise<void> {
    return runTasks({ jobs, tasks, workers: this.workers, report, hashHere: (job) => this.hashHere(job) });
  }

  /** One job on this thread, beside the workers: a turn of the event loop every few MiB, to answer them. */
  private async hashHere(job: HashJob): Promise<AnyHashResult> {
    const { hashFile } = await import('./hash-file.js');
    // One buffer: reads here are not double-buffered.
    if (!this.buffers) {
      const buffer = Buffer.allocUnsafe(HERE_BUFFER_BYTES);
      this.buffers = [buffer, buffer];
    }
    return hashFile(job, this.buffers, (n) => (this.inlineBytes += n), 'yield');
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** A pool with the workers bin/aisc.js prestarted when they are as many as asked for, else a new one. */
export function acquireHashPool(options: { jobs?: number } = {}): HashPool {
  const workers = takePrestartedWorkers(getThreadCount(options.jobs));
  if (workers) return new HashPool({ ...options, workers });
  // Not prestarted: the workers boot when there is enough to hash, which a cached verify may not have.
  return new HashPool({ ...options, start: false });
}

/** Hashes on a pool of its own: for callers with nothing to overlap with the workers' boot. */
export async function hashFiles(jobs: readonly HashJob[], options: { jobs?: number } = {}): Promise<HashResult[]> {
  const pool = new HashPool(options);
  try {
    return await pool.hash(jobs);
  } finally {
    await pool.close();
  }
}
