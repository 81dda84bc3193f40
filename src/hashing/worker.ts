import { parentPort, workerData } from 'node:worker_threads';
import { hashFile, type ChunkHelper, type ReadBuffers } from './hash-file.js';
import type { AnyHashResult, HashTask, HashTaskResult, LentBuffer, ReturnedBuffer } from './types.js';

interface WorkerData {
  bufferSize: number;
  /** This worker's own byte counter, read by the pool for progress: no message per chunk. */
  progress: SharedArrayBuffer;
}

const FLUSH_BYTES = 4 * 1024 * 1024;
const { bufferSize, progress } = workerData as WorkerData;
const done = new Float64Array(progress);
const buffers: ReadBuffers = [Buffer.allocUnsafe(bufferSize), Buffer.allocUnsafe(bufferSize)];
let pending = 0;

function onBytes(n: number): void {
  pending += n;
  if (pending >= FLUSH_BYTES) flush();
}

// Single writer per counter, and the reader only shows progress: plain stores are enough.
function flush(): void {
  done[0] = (done[0] ?? 0) + pending;
  pending = 0;
}

/** Buffers lent to the main thread for a helped task (made on the first one): enough in flight to keep both threads hashing. */
const LENT_BUFFERS = 4;
const LENT_BUFFER_BYTES = 2 * 1024 * 1024;
let free: Buffer[] | undefined;
let waiting: ((buffer: Buffer) => void) | undefined;

function toHelper(id: number): ChunkHelper {
  free ??= Array.from({ length: LENT_BUFFERS }, () => Buffer.from(new ArrayBuffer(LENT_BUFFER_BYTES)));
  return {
    take: () => {
      const buffer = free?.pop();
      return buffer ? Promise.resolve(buffer) : new Promise((resolve) => (waiting = resolve));
    },
    lend: (buffer, length) => {
      const lent = buffer.buffer as ArrayBuffer;
      parentPort?.postMessage({ id, lent, length } satisfies LentBuffer, [lent]);
    },
    keep: (buffer) => void free?.push(buffer),
  };
}

function onReturned(message: ReturnedBuffer): void {
  const buffer = Buffer.from(message.returned);
  const wake = waiting;
  waiting = undefined;
  if (wake) wake(buffer);
  else free?.push(buffer);
}

// The pool sends the next task before this one is done (no wait for its answer between tasks):
// they run one at a time, in order, over the one pair of buffers.
const queue: HashTask[] = [];
let running = false;

parentPort?.on('message', (message: HashTask | ReturnedBuffer) => {
  if ('returned' in message) return onReturned(message);
  queue.push(message);
  if (!running) void drain();
});

async function drain(): Promise<void> {
  running = true;
  for (let task = queue.shift(); task; task = queue.shift()) {
    const results: AnyHashResult[] = [];
    const helper = task.helped ? toHelper(task.id) : undefined;
    for (const job of task.jobs) results.push(await hashFile(job, buffers, onBytes, task.overlap, helper));
    flush();
    const reply: HashTaskResult = { id: task.id, results };
    parentPort?.postMessage(reply);
  }
  running = false;
}
