import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPrestartJobs, hasMuchToHash, isPackageLockOnly, wantsSmallHeap } from '../../src/cli/jobs.js';
import { makeTempDir } from '../helpers/temp.js';

describe('what bin/aisc.js decides before loading the CLI', () => {
  it('tells a lock of package-lock.json files only, skipping the values of flags', () => {
    expect(isPackageLockOnly(['package-lock.json'])).toBe(true);
    expect(isPackageLockOnly(['package-lock.json', '--registry', 'http://127.0.0.1:4873/', '--lockfile', 'deploy/aisc.lock.json'])).toBe(true);
    expect(isPackageLockOnly(['--force', 'app/npm-shrinkwrap.json', '--policy=p.yaml'])).toBe(true);
    expect(isPackageLockOnly(['package-lock.json', 'models/tiny'])).toBe(false);
    expect(isPackageLockOnly(['--kind', 'model', 'models/package-lock.json.bak'])).toBe(false);
    expect(isPackageLockOnly(['--registry', 'package-lock.json'])).toBe(false);
    expect(isPackageLockOnly([])).toBe(false);
  });

  it('boots hash workers early only for a lock that hashes files', () => {
    expect(getPrestartJobs(['lock', 'models/tiny', '--kind', 'model'])).toEqual({});
    expect(getPrestartJobs(['lock', 'models/tiny', '--jobs', '2'])).toEqual({ jobs: 2 });
    expect(getPrestartJobs(['lock', 'package-lock.json', '--registry', 'http://127.0.0.1:4873/'])).toBeUndefined();
    expect(getPrestartJobs(['verify', '--lockfile', 'no/such/aisc.lock.json'])).toBeUndefined();
  });

  it('boots them early for a verify whose lockfile locks more than the main thread hashes alone, never with --cache', () => {
    const dir = makeTempDir();
    const lockfile = (name: string, sizes: number[], more = ''): string => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ lockfileVersion: 1, artifacts: { m: { files: sizes.map((size, i) => ({ path: `f${i}`, size, sha256: '0'.repeat(64) })) } } }, null, 2) + more);
      return path;
    };
    const big = lockfile('big.json', [2 ** 31]);
    const small = lockfile('small.json', [1024, 2048]);
    const many = lockfile('many.json', Array.from({ length: 65 }, () => 10));
    const manifest = lockfile('manifest.json', [], '\n"manifest"');
    expect(getPrestartJobs(['verify', '--lockfile', big])).toEqual({});
    expect(getPrestartJobs(['verify', `--lockfile=${big}`, '--jobs', '3'])).toEqual({ jobs: 3 });
    expect([small, many, manifest].map((path) => hasMuchToHash(['--lockfile', path]))).toEqual([false, true, true]);
    expect(hasMuchToHash(['--lockfile', big, '--cache', join(dir, 'cache')])).toBe(false);
    expect(hasMuchToHash(['--lockfile', join(dir, 'missing.json')])).toBe(false);
  });

  it('keeps the small heap for many files and for lock, not for a verify of a few big files (it slows worker boot)', () => {
    const dir = makeTempDir();
    const lockfile = (name: string, count: number, more = ''): string => {
      const path = join(dir, name);
      const files = Array.from({ length: count }, (_, i) => ({ path: `f${i}`, size: 2 ** 30, sha256: '0'.repeat(64) }));
      writeFileSync(path, JSON.stringify({ lockfileVersion: 1, artifacts: { m: { files } } }) + more);
      return path;
    };
    expect(wantsSmallHeap(['verify', '--lockfile', lockfile('few.json', 2)])).toBe(false);
    expect(wantsSmallHeap(['verify', `--lockfile=${lockfile('thousand.json', 1000)}`])).toBe(false);
    expect(wantsSmallHeap(['verify', '--lockfile', lockfile('many.json', 1001)])).toBe(true);
    expect(wantsSmallHeap(['verify', '--lockfile', lockfile('manifest.json', 1, '\n"manifest"')])).toBe(true);
    expect(wantsSmallHeap(['verify', '--lockfile', join(dir, 'missing.json')])).toBe(true);
    expect(wantsSmallHeap(['lock', 'models/tiny', '--kind', 'model'])).toBe(true);
    expect(wantsSmallHeap(['lock', 'package-lock.json'])).toBe(false);
    expect(wantsSmallHeap(['diff', 'a.json', 'b.json'])).toBe(true);
  });

  it('does not wait on a FIFO named as the lockfile (the verify refuses it)', () => {
    const fifo = join(makeTempDir(), 'aisc.lock.json');
    execFileSync('mkfifo', [fifo]);
    expect(hasMuchToHash(['--lockfile', fifo])).toBe(false);
    expect(wantsSmallHeap(['verify', '--lockfile', fifo])).toBe(true);
  });
});
