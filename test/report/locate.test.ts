import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toFinding } from '../../src/findings.js';
import { placeVerifyFindings } from '../../src/report/locate.js';
import { useColor } from '../../src/report/style.js';
import { renderVerifyHuman } from '../../src/report/verify-report.js';
import type { VerifiedSources, VerifyReport } from '../../src/verify/findings.js';
import { verifyLockfileWithSources } from '../../src/verify/verify-lockfile.js';
import { getVerifyPlacement } from '../../src/report/workspace.js';
import { runAisc } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
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

/** What verify read: the package-lock.json as checked (no file on disk is read to place a finding). */
const sources = (path: string): VerifiedSources => ({ lockfile: '{}\n', packageLocks: new Map([[path, PACKAGE_LOCK]]) });

describe('placeVerifyFindings', () => {
  it("puts an npm finding at the package's entry in package-lock.json, found from the lockfile's folder", () => {
    // A folder that does not exist: the lines come from the text verify read, not from disk.
    const repo = join(makeTempDir(), 'gone');
    const { located } = placeVerifyFindings(npmReport(), sources('../package-lock.json'), { cwd: repo, repoRoot: repo, files: new Set() });
    expect(located.map(({ finding, location }) => `${finding.code} ${location?.file ?? ''}:${location?.line ?? ''}`)).toEqual([
      'NPM_VERSION_CHANGED package-lock.json:6',
      'NPM_INTEGRITY_CHANGED package-lock.json:9',
      // A package that is not in package-lock.json at all: its first line.
      'NPM_PACKAGE_ADDED package-lock.json:1',
    ]);
    // What a package-lock.json on disk says now does not move them.
    mkdirSync(repo);
    writeFileSync(join(repo, 'package-lock.json'), `\n\n\n${PACKAGE_LOCK}`);
    expect(placeVerifyFindings(npmReport(), sources('../package-lock.json'), { cwd: repo, repoRoot: repo, files: new Set() }).located.map((l) => l.location?.line)).toEqual([6, 9, 1]);
  });

  it('puts a file finding at the file only when the workspace says it is still there, else at the artifact in the lockfile as verified', () => {
    const repo = makeTempDir();
    const finding = toFinding({ code: 'DIGEST_MISMATCH', artifact: 'tiny', path: 'config.json', message: 'differs' });
    const report: VerifyReport = { ok: false, lockfile: 'aisc.lock.json', artifacts: [{ name: 'tiny', kind: 'model', root: 'models/tiny', ok: false, files: 1, bytes: 1, findings: [finding] }], summary: { artifacts: 1, files: 1, bytes: 1, npmPackages: 0, findings: 1 } };
    const lockfile = '{\n  "artifacts": {\n    "other": {\n    },\n    "tiny": {\n    }\n  }\n}\n';
    const verified = { lockfile, packageLocks: new Map<string, string>() };
    const there = placeVerifyFindings(report, verified, { cwd: repo, repoRoot: repo, files: new Set([join(repo, 'models', 'tiny', 'config.json')]) });
    expect(there.located.map((l) => l.location)).toEqual([{ file: 'models/tiny/config.json', line: 1 }]);
    const gone = placeVerifyFindings(report, verified, { cwd: repo, repoRoot: repo, files: new Set() });
    expect(gone.located.map((l) => l.location)).toEqual([{ file: 'aisc.lock.json', line: 5 }]);
  });

  it('falls back to the lockfile when package-lock.json is outside the repository', () => {
    const outside = makeTempDir();
    const repo = join(outside, 'repo');
    const base = npmReport();
    const report: VerifyReport = {
      ...base,
      lockfile: 'aisc.lock.json',
      artifacts: base.artifacts.map((artifact) => ({ ...artifact, root: '../../package-lock.json' })),
      packageLocks: base.packageLocks?.map((packageLock) => ({ ...packageLock, path: '../../package-lock.json' })),
    };
    const { located } = placeVerifyFindings(report, sources('../../package-lock.json'), { cwd: join(repo, 'deploy'), repoRoot: repo, files: new Set() });
    expect(located.map(({ location }) => location)).toEqual([1, 2, 3].map(() => ({ file: 'deploy/aisc.lock.json', line: 1 })));
  });
});

describe('getVerifyPlacement', () => {
  it('points into the lockfile verify read, not the one on disk when it renders', async () => {
    const dir = makeTempDir();
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    rmSync(join(dir, 'tiny', 'config.json'));
    const lockfile = join(dir, 'aisc.lock.json');
    const { report, sources } = await verifyLockfileWithSources({ lockfile, policy: join(dir, 'no-policy.yaml') });
    const verifiedLine = readFileSync(lockfile, 'utf8').split('\n').indexOf('    "tiny": {') + 1;
    expect(verifiedLine).toBeGreaterThan(1);
    // Another lockfile in its place by the time the report is rendered: ten lines longer at the top.
    writeFileSync(lockfile, `${'\n'.repeat(10)}${readFileSync(lockfile, 'utf8')}`);
    const placement = getVerifyPlacement(report, sources, dir);
    expect(placement.located.map((l) => `${l.finding.code} ${l.location?.file ?? ''}:${l.location?.line ?? 0}`)).toEqual([`MISSING_FILE ${relative(placement.repoRoot, lockfile)}:${verifiedLine}`]);
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
