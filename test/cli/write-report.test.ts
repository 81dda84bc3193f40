import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeReport, type CliContext } from '../../src/cli/context.js';
import { toFinding } from '../../src/findings.js';
import { VERIFY_RENDERERS, type Placement } from '../../src/report/index.js';
import type { VerifyReport } from '../../src/verify/findings.js';
import { makeTempDir } from '../helpers/temp.js';

const finding = toFinding({ code: 'MISSING_FILE', artifact: 'tiny', path: 'config.json', message: 'locked but not found' });
const report: VerifyReport = {
  ok: false,
  lockfile: 'aisc.lock.json',
  artifacts: [{ name: 'tiny', kind: 'model', root: 'tiny', ok: false, files: 1, bytes: 3, findings: [finding] }],
  summary: { artifacts: 1, files: 1, bytes: 3, npmPackages: 0, findings: 1 },
};

function capture(env: Record<string, string> = {}): { context: CliContext; stdout: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { context: { stdout, stderr: process.stderr, exitCode: 0, env }, stdout: () => text };
}

describe('writeReport', () => {
  it('decides where findings point once, before rendering, and only for the formats that point into the repository', async () => {
    const dir = makeTempDir();
    const placement: Placement = { repoRoot: '/nowhere/repo', located: [{ finding, location: { file: 'deploy/aisc.lock.json', line: 7 } }] };
    let calls = 0;
    const place = (): Placement => {
      calls++;
      return placement;
    };
    const { context, stdout } = capture({ GITHUB_STEP_SUMMARY: join(dir, 'summary.md') });
    await writeReport(context, VERIFY_RENDERERS, report, { format: 'github', sarif: join(dir, 'out.sarif') }, place);
    expect(calls).toBe(1);
    // Both renderers took the placement as given: the line and the root are the placement's, read from nothing else.
    expect(stdout()).toMatch(/^::error file=deploy\/aisc\.lock\.json,line=7,title=MISSING_FILE%3A /);
    const sarif = JSON.parse(readFileSync(join(dir, 'out.sarif'), 'utf8')) as { runs: { originalUriBaseIds: { '%SRCROOT%': { uri: string } }; results: { locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[] };
    expect(sarif.runs[0]?.originalUriBaseIds['%SRCROOT%'].uri).toBe('file:///nowhere/repo/');
    expect(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.region.startLine).toBe(7);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('`deploy/aisc.lock.json`:7');

    await writeReport(capture().context, VERIFY_RENDERERS, report, { format: 'human' }, place);
    await writeReport(capture().context, VERIFY_RENDERERS, report, { format: 'json' }, place);
    expect(calls).toBe(1);
    await writeReport(capture().context, VERIFY_RENDERERS, report, { format: 'sarif' }, place);
    expect(calls).toBe(2);
  });
});
