import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A fresh folder for this test, removed when it finishes. The removal is asynchronous, so the
 * test worker keeps answering vitest meanwhile. `cleanupTimeout` 0 lets it take however long it
 * takes (300,000 files on a busy disk: a timeout there would only fail a test that passed).
 */
export function makeTempDir(prefix = 'aisc-test-', cleanupTimeout?: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }), cleanupTimeout);
  return dir;
}
