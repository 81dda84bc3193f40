import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../src/findings.js';
import { ContentInspector, judgeContent, type Inspection } from '../../src/formats/index.js';

/** test/fixtures/checkpoints: files made by torch.save and np.save (scripts/make-checkpoints.py). */
export const CHECKPOINTS = fileURLToPath(new URL('../fixtures/checkpoints/', import.meta.url));

/** Every file under `dir`, as paths relative to it with `/`, sorted. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();
}

const all = listFiles(CHECKPOINTS).filter((path) => path !== 'README.md');
export const BENIGN_CHECKPOINTS = all.filter((path) => !path.startsWith('malicious/'));
export const MALICIOUS_CHECKPOINTS = all.filter((path) => path.startsWith('malicious/'));

/** The inspection of `bytes` fed in pieces of `size` bytes, each a copy (the hash worker reuses its buffer). */
export function inspectInPieces(bytes: Buffer, name: string, size = bytes.length): Inspection {
  const inspector = new ContentInspector(bytes.length, name);
  for (let i = 0; i < bytes.length; i += Math.max(size, 1)) inspector.feed(Buffer.from(bytes.subarray(i, i + size)));
  return inspector.end();
}

/** The gate's verdict on a file's bytes under a name. */
export function judgeBytes(bytes: Buffer, name: string, size = bytes.length): Finding[] {
  return judgeContent(name, inspectInPieces(bytes, name, size));
}
