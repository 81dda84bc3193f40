import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** A fresh folder for this test, removed when it finishes (within `cleanupTimeout` ms: 300,000 files take a while on a slow disk). */
export function makeTempDir(prefix = 'aisc-test-', cleanupTimeout?: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }), cleanupTimeout);
  return dir;
}
