import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { distFile } from '../built.js';
import { AiscError } from '../errors.js';
import { toSharedFormat } from '../formats/inspection.js';
import { getSpreadParts, SpreadJoin, toPartJob } from './spread.js';
import type { ReadBuffers } from './hash-file.js';
import { ChunkDigests } from './chunk-digests.js';
import type { AnyHashResult, HashJob, HashResult, HashTask, HashTaskResult, LentBuffer, ReturnedBuffer } from './types.js';

/** Each worker's two read buffers: big sequential reads, reused for every file. */
export const READ_BUFFER_BYTES = 4 * 1024 * 1024;
/** Files smaller than this travel in batches so 10,000 tiny files are not 10,000 round trips. */
const SMALL_FILE_BYTES = 1024 * 1024;
const BATCH_BYTES = 8 * 1024 * 1024;
const BATCH_FILES = 256;
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
/** A worker's heap holds only small result objects (read buffers live outside it): keep it small. */
// Inspection keeps bounded state (a pickle memo of up to a million entries, a GGUF header of up to 64 MiB).
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 256 };

export interface ProgressSource {
  bytesDone(): number;
}

interface PlannedTask {
  id: number;
  indexes: number[];
  /** One chunk of a job spread over the threads (then `indexes` is that one job). */
  chunk?: number;
}

/**
 * Threads that hash files: this one and `jobs - 1` workers, started as soon as the pool is made so
 * that they boot while the caller lists files (this thread needs no boot, and its reads go to
 * libuv's threads so it keeps answering the workers while it hashes). Big files go first and alone (longest first keeps every core busy to the
 * end); small files go in batches; a file whose chunks are checked on their own (verify) goes as
 * its chunks, each to whichever thread is free, so one big file keeps every core busy.
 */
export class HashPool implements ProgressSource {
  private workers: Worker[] = [];
  private readonly counters: Float64Array[] = [];
  private readonly count: number;
  /** Bytes hashed on this thread. */
  private inlineBytes = 0;
  /** This thread's two read buffers, made the first time it hashes big work. */
  private buffers: ReadBuffers | undefined;
  private busy = false;

  /** `start: false`: the workers boot only when work too big for this thread arrives. */
  constructor(options: { jobs?: number; start?: boolean } = {}) {
    this.count = Math.max(1, options.jobs ?? availableParallelism());
    if (options.start !== false) this.startWorkers();
  }

  private startWorkers(): void {
    if (this.workers.length > 0 || this.count === 1) return;
    const url = distFile('hashing/worker.js');
    // Not imported at the top: a verify that hashes on this thread never loads worker_threads.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    // This thread is the count's last.
    this.workers = Array.from({ length: this.count - 1 }, () => {
      const progress = new SharedArrayBuffer(8);
      this.counters.push(new Float64Array(progress));
      const worker = new Worker(url, { workerData: { bufferSize: READ_BUFFER_BYTES, progress }, resourceLimits: WORKER_LIMITS });
      worker.unref();
      return worker;
    });
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
    const joins = new Map<number, SpreadJoin>();
    /** A chunk's result (undefined: skipped) joined into its job's; the job's result once all are in. */
    const join = (task: PlannedTask, result: AnyHashResult | undefined): void => {
      const index = task.indexes[0] ?? 0;
      const job = jobs[index] as HashJob;
      let spread = joins.get(index);
      if (!spread) joins.set(index, (spread = new SpreadJoin(job, getSpreadParts(job, job.expectedSize ?? 0))));
      const joined = spread.add(task.chunk ?? 0, result);
      if (!joined) return;
      joins.delete(index);
      report(index, joined);
    };
    return new Promise<void>((resolve, reject) => {
      let next = 0;
      let finished = 0;
      let active = 0;
      const threads = this.workers.length + 1;
      const cleanups: (() => void)[] = [];
      let settled = false;
      const settle = (error?: AiscError): void => {
        settled = true;
        cleanups.forEach((cleanup) => cleanup());
        if (error) reject(error);
        else resolve();
      };
      /** The next task; the chunks of a file one of whose chunks failed are not read (it has its verdict). */
      const take = (): PlannedTask | undefined => {
        if (settled) return undefined;
        let task = tasks[next++];
        while (task?.chunk !== undefined && joins.get(task.indexes[0] ?? 0)?.failed) {
          join(task, undefined);
          if (++finished === tasks.length) settle();
          task = tasks[next++];
        }
        return task;
      };
      const toJobs = (task: PlannedTask): HashJob[] => (task.chunk === undefined ? task.indexes.map((i) => jobs[i] as HashJob) : [toPartJob(jobs[task.indexes[0] ?? 0] as HashJob, task.chunk)]);
      const deliver = (task: PlannedTask | undefined, results: readonly AnyHashResult[]): void => {
        active--;
        task?.indexes.forEach((jobIndex, k) => {
          const result = results[k];
          if (result?.ok && result.format) result.format = toSharedFormat(result.format);
          if (task.chunk !== undefined) join(task, result);
          else if (result) report(jobIndex, result);
        });
        if (++finished === tasks.length) settle();
      };
      const sent = new Map<Worker, number>();
      /** The chunk digests this thread hashes for a worker's last task (lock of a big file), by task. */
      const helping = new Map<number, ChunkDigests>();
      /** The last task, one file that wants its chunks beside its whole digest: this thread will be free to hash those. */
      const toHelp = (task: PlannedTask): ChunkDigests | undefined => {
        const job = task.chunk === undefined && task.indexes.length === 1 && next === tasks.length ? jobs[task.indexes[0] ?? 0] : undefined;
        return job?.chunks?.whole === true && !job.range ? new ChunkDigests(job.chunks.size) : undefined;
      };
      /**
       * Keeps a worker's next task already with it while many are left (no idle round trip between
       * tasks); near the end one at a time, so no thread waits on a task queued at another.
       */
      const feed = (worker: Worker): void => {
        for (;;) {
          const ahead = tasks.length - next > 2 * threads ? 2 : 1;
          if ((sent.get(worker) ?? 0) >= ahead) return;
          const task = take();
          if (!task) return;
          active++;
          sent.set(worker, (sent.get(worker) ?? 0) + 1);
          // Only the last task, with a core idle, reads ahead on another thread.
          const overlap = next === tasks.length && active < threads;
          const helper = toHelp(task);
          if (helper) helping.set(task.id, helper);
          worker.postMessage({ id: task.id, overlap, jobs: toJobs(task), ...(helper ? { helped: true } : {}) } satisfies HashTask);
        }
      };
      /** This thread takes tasks as the workers do, with a turn of the event loop after each buffer to answer the workers. */
      const here = async (): Promise<void> => {
        const { hashFile } = await import('./hash-file.js');
        // One buffer: reads here are not double-buffered.
        const buffer = Buffer.allocUnsafe(HERE_BUFFER_BYTES);
        this.buffers ??= [buffer, buffer];
        const buffers = this.buffers;
        for (let task = take(); task; task = take()) {
          active++;
          const results: AnyHashResult[] = [];
          for (const job of toJobs(task)) results.push(await hashFile(job, buffers, (n) => (this.inlineBytes += n), 'yield'));
          deliver(task, results);
        }
      };
      for (const worker of this.workers) {
        const onMessage = (reply: HashTaskResult | LentBuffer): void => {
          if ('lent' in reply) {
            // Hashed here, then given back to be read into again: never copied.
            helping.get(reply.id)?.update(Buffer.from(reply.lent, 0, reply.length));
            worker.postMessage({ returned: reply.lent } satisfies ReturnedBuffer, [reply.lent]);
            return;
          }
          sent.set(worker, (sent.get(worker) ?? 1) - 1);
          const helper = helping.get(reply.id);
          helping.delete(reply.id);
          const [result] = reply.results;
          // Every lent buffer came before the answer (one port, in order): the chunks are complete.
          if (helper && result?.ok) result.chunks = helper.end();
          deliver(tasks[reply.id], reply.results);
          if (finished < tasks.length) feed(worker);
        };
        const onError = (error: Error): void => settle(new AiscError('INTERNAL', `hashing worker failed: ${error.message}`, { cause: error }));
        const onExit = (code: number): void => settle(new AiscError('INTERNAL', `hashing worker exited early with code ${code}`));
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        cleanups.push(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
        worker.ref();
        cleanups.push(() => worker.unref());
      }
      for (const worker of this.workers) feed(worker);
      here().catch((error: unknown) => settle(new AiscError('INTERNAL', `hashing on the main thread failed: ${String(error)}`, { cause: error })));
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

let prestarted: HashPool | undefined;

/**
 * Starts the pool before the CLI has even loaded (bin/aisc.js), so that the workers' boot (about
 * 60 ms for two) overlaps with loading and listing rather than delaying the first hash.
 */
export function prestartHashPool(jobs?: number): void {
  prestarted ??= new HashPool({ jobs });
}

/** The prestarted pool when it has the size asked for, else a new one. */
export function acquireHashPool(options: { jobs?: number } = {}): HashPool {
  const pool = prestarted;
  prestarted = undefined;
  if (pool && pool.size === Math.max(1, options.jobs ?? availableParallelism())) return pool;
  void pool?.close();
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

/**
 * Longest first: whole big files, then the chunks of spread files (each its own task, in order, so
 * a file's first chunk, which is inspected, starts first), then batches of small files.
 */
function planTasks(sizes: readonly number[], spreadParts: (index: number) => number): PlannedTask[] {
  const parts = sizes.map((_, i) => spreadParts(i));
  // A spread file's tasks are chunk-sized: they sort as the size of a chunk.
  const weight = (i: number): number => ((parts[i] ?? 0) > 0 ? Math.ceil((sizes[i] ?? 0) / (parts[i] ?? 1)) : (sizes[i] ?? 0));
  const order = sizes.map((_, i) => i).sort((a, b) => weight(b) - weight(a));
  const tasks: PlannedTask[] = [];
  let batch: number[] = [];
  let batchBytes = 0;
  for (const index of order) {
    const size = sizes[index] ?? 0;
    const count = parts[index] ?? 0;
    if (count > 0) {
      for (let chunk = 0; chunk < count; chunk++) tasks.push({ id: tasks.length, indexes: [index], chunk });
      continue;
    }
    if (size >= SMALL_FILE_BYTES) {
      tasks.push({ id: tasks.length, indexes: [index] });
      continue;
    }
    batch.push(index);
    batchBytes += size;
    if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
      tasks.push({ id: tasks.length, indexes: batch });
      batch = [];
      batchBytes = 0;
    }
  }
  if (batch.length > 0) tasks.push({ id: tasks.length, indexes: batch });
  return tasks;
}

