import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { errnoCode } from '../errors.js';
import { tempPathFor } from '../io/atomic-write.js';
import { makeFolderSync } from '../io/make-folder.js';

/**
 * The thread that writes a lock's npm evidence files (see EvidenceWriter). Plain synchronous file
 * calls, one after another: on the main thread each promise-based open, write, fsync and close of
 * 1,500 files cost a turn of an event loop already busy parsing the registry's answers.
 */
export interface EvidenceWorkerData {
  folder: string;
}

export type EvidenceMessage = { type: 'write'; files: { digest: string; text: string }[] } | { type: 'commit' } | { type: 'discard' };
export type EvidenceReply = { type: 'committed' } | { type: 'discarded' } | { type: 'failed'; message: string };

const { folder } = workerData as EvidenceWorkerData;
let made: string | undefined;
let present: Set<string> | undefined;
/** Temp file → final name, for the writes done so far. */
const staged = new Map<string, string>();
let failure: string | undefined;

parentPort?.on('message', (message: EvidenceMessage) => {
  if (message.type === 'write') for (const file of message.files) write(file.digest, file.text);
  else if (message.type === 'commit') parentPort?.postMessage(commit());
  else parentPort?.postMessage(discard());
});

function write(digest: string, text: string): void {
  if (failure !== undefined) return;
  const path = join(folder, `${digest}.json`);
  let temp: string | undefined;
  try {
    if (!present) {
      made = makeFolderSync(folder);
      present = new Set(readdirSync(folder));
    }
    // Already there with the very bytes (evidence is shared across re-locks): kept as it is.
    if (present.has(`${digest}.json`) && readIfFile(path) === text) return;
    temp = tempPathFor(join(folder, 'evidence'));
    const fd = openSync(temp, 'wx', 0o644);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    staged.set(temp, path);
  } catch (error) {
    if (temp) unlinkQuietly(temp);
    failure = `${path}: ${errnoCode(error) ?? String(error)}`;
  }
}

function commit(): EvidenceReply {
  if (failure !== undefined) return { type: 'failed', message: failure };
  try {
    for (const [temp, path] of staged) renameSync(temp, path);
    staged.clear();
    // One fsync of the folder, so every rename survives a crash (best effort where refused).
    if (present) syncFolderQuietly(folder);
    return { type: 'committed' };
  } catch (error) {
    return { type: 'failed', message: `${folder}: ${errnoCode(error) ?? String(error)}` };
  }
}

function discard(): EvidenceReply {
  for (const temp of staged.keys()) unlinkQuietly(temp);
  staged.clear();
  // mkdir -p reports the top folder it made: remove from the evidence folder up to it, if empty.
  for (let at = folder; made !== undefined && at.length >= made.length; at = dirname(at)) {
    try {
      rmdirSync(at);
    } catch {
      break;
    }
  }
  return { type: 'discarded' };
}

function readIfFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function syncFolderQuietly(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on a folder; the renames are still atomic
  }
}
