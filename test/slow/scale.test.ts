import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAisc } from '../helpers/cli.js';
import { makeDataset } from '../helpers/dataset.js';
import { makeTempDir } from '../helpers/temp.js';

// `npm run test:slow`: minutes of file-system work, so not in `npm test` (CI runs both).
describe('artifacts with many files keep their file list in a manifest, at scale', () => {
  // Before: 300,000 files wrote a 49 MB lockfile at 585 MB RSS that later commands refused.
  it('locks and verifies 300,000 files within 256 MB', () => {
    // Removing 300,000 files may take minutes on a busy disk: no timeout on the cleanup.
    const dir = makeTempDir('aisc-test-', 0);
    makeDataset(dir, 300_000);
    const env = { AISC_REPORT_RSS: '1' };
    const rss = (stderr: string): number => Number(/peak RSS (\d+) KiB/.exec(stderr)?.[1] ?? Infinity);
    const locked = runAisc(['lock', 'data', '--kind', 'dataset'], dir, env);
    expect(locked.status, locked.stderr).toBe(0);
    expect(readFileSync(join(dir, 'aisc.lock.json')).length).toBeLessThan(1024);
    const verified = runAisc(['verify'], dir, env);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('verified 1 artifact, 300000 files');
    expect({ lock: rss(locked.stderr) <= 256 * 1024, verify: rss(verified.stderr) <= 256 * 1024, locked: rss(locked.stderr), verified: rss(verified.stderr) }).toMatchObject({ lock: true, verify: true });
    expect(existsSync(join(dir, '.aisc', 'manifests'))).toBe(true);
  }, 600_000);
});
