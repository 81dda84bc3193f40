import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toFinding } from '../../src/findings.js';
import { placeVerifyFindings } from '../../src/report/locate.js';
import { useColor } from '../../src/report/style.js';
import { renderVerifyHuman } from '../../src/report/verify-report.js';
import type { VerifyReport } from '../../src/verify/findings.js';
import { makeTempDir } from '../helpers/temp.js';

const PACKAGE_LOCK = `{
  "name": "app",
  "lockfileVersion": 3,
  "packages": {
    "": { "name": "app" },
    "node_modules/@scope/pkg": {
      "version": "1.0.0"
    },
    "node_modules/left-pad": {
      "version": "1.3.0"
    }
  }
}
`;

function npmReport(): VerifyReport {
  const finding = toFinding({ code: 'NPM_INTEGRITY_CHANGED', artifact: 'npm:left-pad@1.3.0', message: 'package-lock.json records other integrity', expected: 'sha512-a', actual: 'sha512-b' });
  const scoped = toFinding({ code: 'NPM_VERSION_CHANGED', artifact: 'npm:@scope/pkg@1.0.0', message: 'now 1.0.1' });
  const added = toFinding({ code: 'NPM_PACKAGE_ADDED', artifact: 'npm:evil@6.6.6', message: 'not locked' });
  return {
    ok: false,
    lockfile: 'deploy/aisc.lock.json',
    artifacts: [
      { name: 'npm:@scope/pkg@1.0.0', kind: 'npm', root: '../package-lock.json', ok: false, files: 0, bytes: 0, findings: [scoped] },
      { name: 'npm:left-pad@1.3.0', kind: 'npm', root: '../package-lock.json', ok: false, files: 0, bytes: 0, findings: [finding] },
    ],
    packageLocks: [{ path: '../package-lock.json', packages: 2, ok: false, findings: [added] }],
    summary: { artifacts: 2, files: 0, bytes: 0, npmPackages: 2, findings: 3 },
  };
}

describe('placeVerifyFindings', () => {
  it("puts an npm finding at the package's entry in package-lock.json, found from the lockfile's folder", () => {
    const repo = makeTempDir();
    mkdirSync(join(repo, 'deploy'));
    writeFileSync(join(repo, 'package-lock.json'), PACKAGE_LOCK);
    writeFileSync(join(repo, 'deploy', 'aisc.lock.json'), '{}\n');
    const { located } = placeVerifyFindings(npmReport(), repo, repo);
    expect(located.map(({ finding, location }) => `${finding.code} ${location?.file ?? ''}:${location?.line ?? ''}`)).toEqual([
      'NPM_VERSION_CHANGED package-lock.json:6',
      'NPM_INTEGRITY_CHANGED package-lock.json:9',
      // A package that is not in package-lock.json at all: its first line.
      'NPM_PACKAGE_ADDED package-lock.json:1',
    ]);
  });

  it('falls back to the lockfile when package-lock.json is outside the repository', () => {
    const outside = makeTempDir();
    const repo = join(outside, 'repo');
    mkdirSync(join(repo, 'deploy'), { recursive: true });
    writeFileSync(join(outside, 'package-lock.json'), PACKAGE_LOCK);
    writeFileSync(join(repo, 'deploy', 'aisc.lock.json'), '{}\n');
    const base = npmReport();
    const report: VerifyReport = {
      ...base,
      lockfile: 'aisc.lock.json',
      artifacts: base.artifacts.map((artifact) => ({ ...artifact, root: '../../package-lock.json' })),
      packageLocks: base.packageLocks?.map((packageLock) => ({ ...packageLock, path: '../../package-lock.json' })),
    };
    const { located } = placeVerifyFindings(report, join(repo, 'deploy'), repo);
    expect(located.map(({ location }) => location)).toEqual([1, 2, 3].map(() => ({ file: 'deploy/aisc.lock.json', line: 1 })));
  });
});

describe('colour', () => {
  it('only on a terminal, never with NO_COLOR or TERM=dumb', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('paints the status words only when asked', () => {
    expect(renderVerifyHuman(npmReport(), true)).toContain('\x1b[31mFAIL\x1b[39m');
    expect(renderVerifyHuman(npmReport(), false)).not.toContain('\x1b[');
  });
});
