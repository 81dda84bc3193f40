import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findOldNode } from '../helpers/old-node.js';
import { makeTempDir } from '../helpers/temp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** npm's own npx script (npx-cli.js), to run on a Node of the test's choosing. */
function findNpxCli(): string {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(folder, 'npx');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error('npx is not on PATH');
}

/** A checkout as npx finds it: package.json (its engines replaced if asked), the project's .npmrc if asked, bin/, and dist/ and node_modules/ linked if asked. */
function makeCheckout(options: { npmrc: boolean; installed: boolean; engines?: string }): string {
  const dir = join(makeTempDir(), 'aisc');
  mkdirSync(dir);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  if (options.engines !== undefined) manifest.engines = { node: options.engines };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  if (options.npmrc) cpSync(join(ROOT, '.npmrc'), join(dir, '.npmrc'));
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  if (options.installed) for (const folder of ['dist', 'node_modules']) symlinkSync(join(ROOT, folder), join(dir, folder));
  return dir;
}

/**
 * `npx aisc …` in `checkout` as a user's shell runs it: on `node`, with none of the npm_* variables
 * `npm test` sets, and a fresh npm cache, so npx installs the checkout into its cache as it does the
 * first time (where it checks engines).
 */
function npx(node: string, checkout: string, args: string[], path = process.env.PATH ?? ''): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const result = spawnSync(node, [findNpxCli(), 'aisc', ...args], {
    cwd: checkout,
    encoding: 'utf8',
    env: { ...env, PATH: path, npm_config_cache: join(makeTempDir(), 'npm-cache'), npm_config_update_notifier: 'false' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npx aisc in a checkout prints aisc’s output only', () => {
  // Before: on a Node older than aisc's engines, npm printed ten `npm warn EBADENGINE` lines about
  // aisc itself before aisc's output (npx runs on the machine's Node, aisc on the project's).
  // Engines no Node meets stand in for "newer than the Node npm runs on", on any machine.
  it('has npm warn about engines without the project .npmrc, and not with it', () => {
    const bare = npx(process.execPath, makeCheckout({ npmrc: false, installed: true, engines: '>=99' }), ['--version']);
    expect(bare.stdout).toBe('0.1.0\n');
    expect(bare.stderr).toMatch(/^npm warn EBADENGINE Unsupported engine/m);
    const quiet = npx(process.execPath, makeCheckout({ npmrc: true, installed: true, engines: '>=99' }), ['--version']);
    expect(quiet).toEqual({ status: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('still shows aisc’s own errors and exit code', () => {
    const result = npx(process.execPath, makeCheckout({ npmrc: true, installed: true, engines: '>=99' }), ['verify']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^aisc: LOCKFILE_NOT_FOUND aisc\.lock\.json: no such file[^\n]*\n$/);
  });
});

const oldNode = findOldNode();

describe.skipIf(oldNode === undefined)('npx aisc on an older Node', () => {
  // A checkout whose project-local Node is missing: aisc runs on the machine's Node and says so.
  it('gets aisc’s own NODE_UNSUPPORTED line and exit 2, nothing from npm', () => {
    const path = [dirname(oldNode ?? ''), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);
    const result = npx(oldNode ?? 'node', makeCheckout({ npmrc: true, installed: false }), ['lock', '.'], path);
    expect(result).toEqual({ status: 2, stdout: '', stderr: expect.stringMatching(/^aisc: NODE_UNSUPPORTED aisc needs Node\.js >= 22\.22\.2 \(.*\), this is \d+\.\d+\.\d+\n$/) as unknown });
  });
});
