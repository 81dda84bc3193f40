import { parentPort, workerData } from 'node:worker_threads';
import { hashFile, type ReadBuffers } from './hash-file.js';
import type { AnyHashResult, HashTask, HashTaskResult } from './types.js';

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

// The pool sends the next task before this one is done (no wait for its answer between tasks):
// they run one at a time, in order, over the one pair of buffers.
const queue: HashTask[] = [];
let running = false;

parentPort?.on('message', (task: HashTask) => {
  queue.push(task);
  if (!running) void drain();
});

async function drain(): Promise<void> {
  running = true;
  for (let task = queue.shift(); task; task = queue.shift()) {
    const results: AnyHashResult[] = [];
    for (const job of task.jobs) results.push(await hashFile(job, buffers, onBytes, task.overlap));
    flush();
    const reply: HashTaskResult = { id: task.id, results };
    parentPort?.postMessage(reply);
  }
  running = false;
}
