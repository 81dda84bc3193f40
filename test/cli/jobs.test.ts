import { describe, expect, it } from 'vitest';
import { getPrestartJobs, isPackageLockOnly } from '../../src/cli/jobs.js';

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
    expect(getPrestartJobs(['verify'])).toBeUndefined();
  });
});
