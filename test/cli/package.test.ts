import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface LockEntry {
  dev?: boolean;
  [key: string]: unknown;
}

/**
 * A scratch project that depends on the packed tarball, with a package-lock pinning aisc's own
 * production dependencies at the versions this repository locks: `npm ci --offline` then installs
 * it from npm's cache (filled by this repository's own `npm ci`), as a user's project would.
 */
function installPacked(): string {
  const packs = makeTempDir();
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', packs], { cwd: ROOT, stdio: 'ignore' });
  const [tarball = ''] = readdirSync(packs).filter((name) => name.endsWith('.tgz'));
  const path = join(packs, tarball);
  const own = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const root = own.packages[''] ?? {};
  const project = makeTempDir();
  const dependencies = { aisc: `file:${path}` };
  const packages: Record<string, unknown> = {
    '': { name: 'scratch', version: '1.0.0', dependencies },
    'node_modules/aisc': {
      version: root.version,
      resolved: `file:${path}`,
      integrity: `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const [at, entry] of Object.entries(own.packages)) if (at !== '' && !entry.dev) packages[at] = entry;
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, dependencies }));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
  const installed = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: project, encoding: 'utf8' });
  if (installed.status !== 0) throw new Error(`npm ci --offline in the scratch project failed:\n${installed.stderr}`);
  return project;
}

describe('the published package, installed into another project', () => {
  it('locks and verifies there on Node 22, and tells an older Node plainly', () => {
    const project = installPacked();
    const bin = join(project, 'node_modules', '.bin', 'aisc');
    const run = (node: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } => spawnSync(node, [bin, ...args], { cwd: project, encoding: 'utf8' });
    makeModel(project, 'model');
    expect(run(process.execPath, 'init').status).toBe(0);
    const locked = run(process.execPath, 'lock', 'model', '--kind', 'model');
    expect(locked.stderr).toBe('');
    expect(locked.stdout).toMatch(/^locked model \(model\): 5 files/);
    const verified = run(process.execPath, 'verify');
    expect(verified.stdout).toMatch(/^verified 1 artifact, 5 files, .*: all match aisc\.lock\.json$/m);
    expect(verified.status).toBe(0);
    // The machine's own Node (20 on these machines; CI checks this message there).
    const system = spawnSync('node', ['--version'], { encoding: 'utf8', env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
    if (Number(system.stdout.slice(1).split('.')[0]) < 22) {
      const old = spawnSync('node', [bin, 'lock', 'model'], { cwd: project, encoding: 'utf8', env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
      expect({ status: old.status, stderr: old.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(/^aisc: NODE_UNSUPPORTED aisc needs Node\.js >= 22\.22\.2 .*, this is \d+\.\d+\.\d+\n$/) as unknown });
    }
  }, 120_000);
});
