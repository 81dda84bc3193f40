import type { Worker } from 'node:worker_threads';
import { AiscError } from '../errors.js';
import { toSharedFormat } from '../formats/inspection.js';
import { ChunkDigests } from './chunk-digests.js';
import { getSpreadParts, SpreadJoin, toPartJob } from './spread.js';
import type { AnyHashResult, HashJob, HashTask, HashTaskResult, LentBuffer, ReturnedBuffer } from './types.js';

/** Files smaller than this travel in batches so 10,000 tiny files are not 10,000 round trips. */
const SMALL_FILE_BYTES = 1024 * 1024;
const BATCH_BYTES = 8 * 1024 * 1024;
const BATCH_FILES = 256;
/**
 * A worker gets a second task queued behind its first only while the first is at most this big (a
 * 64 MiB chunk, a batch of small files): that spares the idle round trip between short tasks,
 * while two whole big files queued at one worker would leave the other threads idle (measured: the
 * scan benchmark's 1 GiB + 1 GiB + 512 MiB on two threads took 1.39 s instead of 1.05 s).
 */
const AHEAD_MAX_BYTES = 128 * 1024 * 1024;

/** Work for one thread: a batch of jobs, or one chunk of a job spread over the threads. */
export interface PlannedTask {
  id: number;
  indexes: number[];
  /** One chunk of a job spread over the threads (then `indexes` is that one job). */
  chunk?: number;
}

export interface RunContext {
  jobs: readonly HashJob[];
  tasks: PlannedTask[];
  workers: readonly Worker[];
  report: (index: number, result: AnyHashResult) => void;
  /** Hashes one job on this thread, which takes tasks like a worker. */
  hashHere: (job: HashJob) => Promise<AnyHashResult>;
}

/**
 * Runs the tasks on the workers and on this thread, each result reported as it comes (a spread
 * file's once all its chunks are in). A worker keeps its next task queued while many are left;
 * the last task, one big file that wants its chunks beside its whole digest, lends its buffers to
 * this thread, which hashes the chunks.
 */
export function runTasks({ jobs, tasks, workers, report, hashHere }: RunContext): Promise<void> {
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
    const threads = workers.length + 1;
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
    /** Bytes of the tasks a worker has been sent and not answered. */
    const queued = new Map<Worker, number>();
    const taskBytes = (task: PlannedTask): number => {
      const first = jobs[task.indexes[0] ?? 0];
      if (task.chunk !== undefined) return first?.chunks?.size ?? 0;
      return task.indexes.reduce((sum, i) => sum + (jobs[i]?.expectedSize ?? 0), 0);
    };
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
        const count = sent.get(worker) ?? 0;
        if (count >= ahead || (count > 0 && (queued.get(worker) ?? 0) > AHEAD_MAX_BYTES)) return;
        const task = take();
        if (!task) return;
        active++;
        sent.set(worker, count + 1);
        queued.set(worker, (queued.get(worker) ?? 0) + taskBytes(task));
        // Only the last task, with a core idle, reads ahead on another thread.
        const overlap = next === tasks.length && active < threads;
        const helper = toHelp(task);
        if (helper) helping.set(task.id, helper);
        worker.postMessage({ id: task.id, overlap, jobs: toJobs(task), ...(helper ? { helped: true } : {}) } satisfies HashTask);
      }
    };
    /** This thread takes tasks as the workers do, answering them between its buffers. */
    const here = async (): Promise<void> => {
      for (let task = take(); task; task = take()) {
        active++;
        const results: AnyHashResult[] = [];
        for (const job of toJobs(task)) results.push(await hashHere(job));
        deliver(task, results);
      }
    };
    for (const worker of workers) {
      const onMessage = (reply: HashTaskResult | LentBuffer): void => {
        if ('lent' in reply) {
          // Hashed here, then given back to be read into again: never copied.
          helping.get(reply.id)?.update(Buffer.from(reply.lent, 0, reply.length));
          worker.postMessage({ returned: reply.lent } satisfies ReturnedBuffer, [reply.lent]);
          return;
        }
        sent.set(worker, (sent.get(worker) ?? 1) - 1);
        const answered = tasks[reply.id];
        if (answered) queued.set(worker, (queued.get(worker) ?? 0) - taskBytes(answered));
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
    for (const worker of workers) feed(worker);
    here().catch((error: unknown) => settle(new AiscError('INTERNAL', `hashing on the main thread failed: ${String(error)}`, { cause: error })));
  });
}

/**
 * Longest first: whole big files, then the chunks of spread files (each its own task, in order, so
 * a file's first chunk, which is inspected, starts first), then batches of small files.
 */
export function planTasks(sizes: readonly number[], spreadParts: (index: number) => number): PlannedTask[] {
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
