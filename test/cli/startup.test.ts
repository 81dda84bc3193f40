import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AISC_BIN, runAisc } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { findOldNode } from '../helpers/old-node.js';
import { makeTempDir } from '../helpers/temp.js';

const PROBE = fileURLToPath(new URL('../helpers/load-probe.js', import.meta.url));

function probe(args: string[], cwd: string): { status: number | null; workers: number; packages: string[]; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', PROBE, AISC_BIN, ...args], { cwd, encoding: 'utf8' });
  const line = result.stderr.split('\n').find((l) => l.startsWith('probe: ')) ?? 'probe: {}';
  return { status: result.status, stderr: result.stderr, ...(JSON.parse(line.slice('probe: '.length)) as { workers: number; packages: string[] }) };
}

const NETWORK_OR_SIGSTORE = /^(undici|@sigstore\/|sigstore|make-fetch-happen|tuf-js|@tufjs\/)/;

describe('startup: load only what the command needs', () => {
  it('locks and verifies a local model without loading network or Sigstore modules', () => {
    const dir = makeTempDir();
    makeModel(dir);
    const lock = probe(['lock', 'tiny', '--kind', 'model'], dir);
    expect(lock.status).toBe(0);
    expect(lock.packages.filter((p) => NETWORK_OR_SIGSTORE.test(p))).toEqual([]);
    const verify = probe(['verify'], dir);
    expect(verify.status).toBe(0);
    expect(verify.packages.filter((p) => NETWORK_OR_SIGSTORE.test(p))).toEqual([]);
    // A few small files are hashed on the main thread, sooner than a worker boots…
    expect(verify.workers).toBe(0);
    // …more than 8 MiB go to the workers.
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(9 * 1024 * 1024, 1));
    expect(runAisc(['lock', 'big.bin', '--kind', 'dataset'], dir).status).toBe(0);
    const big = probe(['verify'], dir);
    expect(big.status).toBe(0);
    expect(big.workers).toBeGreaterThan(0);
  });

  // Before: `aisc lock --help` booted the hash pool, and `--jobs 300` started 300 workers (17 s,
  // 2.9 GB) before its usage error.
  it.each([
    [['--help']],
    [['lock', '--help']],
    [['verify', '-h']],
    [['verify', '--jobs', '300']],
    [['lock', 'x', '--jobs=0']],
    [['verify', '--jobs', 'many']],
  ])('starts no hash worker for %j', (args) => {
    const result = probe(args, makeTempDir());
    expect(result.workers).toBe(0);
    expect(result.packages.filter((p) => NETWORK_OR_SIGSTORE.test(p))).toEqual([]);
    if (args.some((a) => a.startsWith('--jobs'))) {
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^aisc: USAGE .*--jobs.*expected a whole number from 1 to \d+/m);
    } else {
      expect(result.status).toBe(0);
    }
  });

  it('keeps bin/aisc.js and package.json engines in step, and the shebang free of env -S', () => {
    const bin = readFileSync(AISC_BIN, 'utf8');
    const engines = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(bin.split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(bin).toContain(`const engines = '${engines}';`);
    expect(bin).not.toMatch(/^import /m);
  });
});

const oldNode = findOldNode();

describe.skipIf(oldNode === undefined)('an older Node', () => {
  // Before: `aisc lock` on Node 20 died in undici with a raw stack trace, exit 1.
  it.each([[['--version']], [['lock', '.']], [['verify']]])('gets one coded line and exit 2 for %j', (args) => {
    const result = spawnSync(oldNode ?? 'node', [AISC_BIN, ...args], { cwd: makeTempDir(), encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^aisc: NODE_UNSUPPORTED aisc needs Node\.js >= 22\.22\.2 \(\^22\.22\.2 \|\| \^24\.15\.0 \|\| >=26\.0\.0\), this is 2?\d\.\d+\.\d+\n$/);
  });
});

it('runs under the supported Node', () => {
  expect(runAisc(['--version'], makeTempDir()).stdout).toBe('0.1.0\n');
});
