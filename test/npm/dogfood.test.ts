import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Lockfile } from '../../src/lockfile/types.js';
import { parsePackageLock } from '../../src/npm/package-lock.js';
import { runAisc } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe("dogfood: lockfiles/aisc.lock.json locks aisc's own npm dependencies", () => {
  it('matches package-lock.json and its evidence verifies, offline (re-lock after changing dependencies)', () => {
    const result = runAisc(['verify', '--lockfile', 'lockfiles/aisc.lock.json', '--policy', 'lockfiles/aisc.policy.yaml'], ROOT);
    const installed = parsePackageLock(readFileSync(`${ROOT}package-lock.json`, 'utf8'), 'package-lock.json');
    expect(result.stdout, 'run: npx aisc lock package-lock.json --lockfile lockfiles/aisc.lock.json --policy lockfiles/aisc.policy.yaml').toContain(
      `ok   ../package-lock.json: ${installed.length} npm packages locked, all match and their evidence verifies`,
    );
    expect(result.status).toBe(0);
    const locked = JSON.parse(readFileSync(`${ROOT}lockfiles/aisc.lock.json`, 'utf8')) as Lockfile;
    expect(Object.keys(locked.artifacts).sort()).toEqual(installed.map((p) => `npm:${p.name}@${p.version}`).sort());
  });
});
