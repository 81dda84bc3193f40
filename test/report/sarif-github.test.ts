import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { Log, Result } from 'sarif';
import { describe, expect, it } from 'vitest';
import { FINDING_CODES } from '../../src/findings.js';
import { runAisc, runGit } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { evilPickle } from '../helpers/pickles.js';
import { makeTempDir } from '../helpers/temp.js';
import { readInline, splitTableRow } from '../helpers/commonmark.js';

/** The OASIS SARIF 2.1.0 schema (errata 01, rtm.5), as Microsoft's SARIF tooling ships it. */
const SARIF_SCHEMA = JSON.parse(readFileSync(new URL('../../node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json', import.meta.url), 'utf8')) as object;

function validateSarif(text: string): Log {
  // The schema's language-tag pattern uses a class JavaScript's unicode mode rejects; the rest is checked as written.
  const ajv = new Ajv.default({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats.default(ajv);
  const validate = ajv.compile(SARIF_SCHEMA);
  const log = JSON.parse(text) as Log;
  expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
  return log;
}

const EXTRA = 'odd,name:1%.txt';

/** A git repository with a locked model, then three changes: one edited, one deleted, one added. */
function tamperedRepo(): string {
  const dir = makeTempDir();
  runGit(dir, 'init', '-q', '-b', 'main');
  makeModel(dir);
  expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
  writeFileSync(join(dir, 'tiny', 'config.json'), '{"hidden_size": 17}\n');
  rmSync(join(dir, 'tiny', 'tokenizer.json'));
  writeFileSync(join(dir, 'tiny', EXTRA), 'x');
  return dir;
}

/** The 1-based line of the artifact's entry in the canonical lockfile. */
const entryLine = (dir: string, name: string): number => readFileSync(join(dir, 'aisc.lock.json'), 'utf8').split('\n').indexOf(`    "${name}": {`) + 1;

const where = (result: Result): string => {
  const location = result.locations?.[0]?.physicalLocation;
  return `${result.ruleId ?? ''} ${location?.artifactLocation?.uri ?? ''}:${location?.region?.startLine ?? ''}`;
};

describe('verify --format sarif', () => {
  it('is valid SARIF 2.1.0 with a rule per code and each result located in the repository', () => {
    const dir = tamperedRepo();
    const result = runAisc(['verify', '--format', 'sarif'], dir);
    expect(result.status).toBe(1);
    const log = validateSarif(result.stdout);
    // The validator can fail: a result with a level SARIF does not have.
    expect(() => validateSarif(result.stdout.replace('"level": "error"', '"level": "fatal"'))).toThrow();
    const run = log.runs[0];
    const rules = run?.tool.driver.rules ?? [];
    expect(rules.map((rule) => rule.id)).toEqual(FINDING_CODES);
    for (const rule of rules) {
      expect(rule.shortDescription?.text).toBeTruthy();
      expect(rule.fullDescription?.text).toBeTruthy();
      expect(rule.help?.text).toBeTruthy();
      expect(Number(rule.properties?.['security-severity'])).toBeGreaterThan(0);
    }
    const line = entryLine(dir, 'tiny');
    expect(line).toBeGreaterThan(1);
    expect((run?.results ?? []).map(where).sort()).toEqual(['DIGEST_MISMATCH tiny/config.json:1', `EXTRA_FILE tiny/${encodeURIComponent(EXTRA)}:1`, `MISSING_FILE aisc.lock.json:${line}`].sort());
    for (const item of run?.results ?? []) {
      expect(item.level).toBe('error');
      expect(run?.tool.driver.rules?.[item.ruleIndex ?? -1]?.id).toBe(item.ruleId);
      expect(item.locations?.[0]?.physicalLocation?.artifactLocation?.uriBaseId).toBe('%SRCROOT%');
      expect(item.partialFingerprints?.['aiscFinding/v1']).toMatch(/^[0-9a-f]{32}$/);
    }
    const digest = run?.results?.find((r) => r.ruleId === 'DIGEST_MISMATCH');
    expect(digest?.message.text).toMatch(/^tiny: config\.json: .*\(expected [0-9a-f]{64}, got [0-9a-f]{64}\)$/);
  });

  it('says the same from a subfolder and on a second run, so code scanning tracks the same alerts', () => {
    const dir = tamperedRepo();
    const fromRoot = runAisc(['verify', '--format', 'sarif'], dir);
    mkdirSync(join(dir, 'ci'));
    const fromSub = runAisc(['verify', '--format', 'sarif', '--lockfile', '../aisc.lock.json'], join(dir, 'ci'));
    const key = (text: string): string[] => (JSON.parse(text) as Log).runs[0]?.results?.map((r) => `${where(r)} ${r.partialFingerprints?.['aiscFinding/v1'] ?? ''}`) ?? [];
    expect(key(fromSub.stdout)).toEqual(key(fromRoot.stdout));
    expect(runAisc(['verify', '--format', 'sarif'], dir).stdout).toBe(fromRoot.stdout);
  });

  it('--sarif FILE writes the same log beside any --format, replacing the file whole', () => {
    const dir = tamperedRepo();
    const sarif = runAisc(['verify', '--format', 'sarif'], dir).stdout;
    writeFileSync(join(dir, 'old.sarif'), 'stale');
    const result = runAisc(['verify', '--sarif', 'old.sarif'], dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL');
    expect(readFileSync(join(dir, 'old.sarif'), 'utf8')).toBe(sarif);
    expect(runAisc(['verify', '--sarif', 'no/such/folder/x.sarif'], dir).status).toBe(2);
  });

  it('places a change that lacks approvals at the artifact in the lockfile', () => {
    const dir = makeTempDir();
    runGit(dir, 'init', '-q', '-b', 'main');
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys', 'alice.pub'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(
      join(dir, 'aisc.policy.yaml'),
      'version: 1\nreviewers:\n  alice: { key: keys/alice.pub, groups: [ml-security] }\napprovals:\n  - on: [weights-changed]\n    require: { count: 1, from: [ml-security] }\n',
    );
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    runGit(dir, 'add', '-A');
    runGit(dir, 'commit', '-q', '-m', 'base');
    writeFileSync(join(dir, 'tiny', 'model-00002-of-00002.safetensors'), readFileSync(join(dir, 'tiny', 'model-00001-of-00002.safetensors')));
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);

    const result = runAisc(['verify', '--base', 'git:main', '--format', 'sarif'], dir);
    expect(result.status).toBe(1);
    const results = validateSarif(result.stdout).runs[0]?.results ?? [];
    expect(results.map(where)).toEqual([`APPROVALS_MISSING aisc.lock.json:${entryLine(dir, 'tiny')}`]);
    expect(results[0]?.message.text).toMatch(/^tiny: .*\(expected 1 from ml-security, got none\) \[policy rule 1\]$/);

    const github = runAisc(['verify', '--base', 'git:main', '--format', 'github'], dir);
    expect(github.stdout.split('\n')[0]).toMatch(new RegExp(`^::error file=aisc\\.lock\\.json,line=${entryLine(dir, 'tiny')},title=APPROVALS_MISSING%3A Change lacks approvals::tiny: `));
  });
});

describe('verify --format github', () => {
  it('prints one escaped workflow command per finding and appends a summary to GITHUB_STEP_SUMMARY', () => {
    const dir = tamperedRepo();
    const summaryFile = join(dir, 'summary.md');
    writeFileSync(summaryFile, '## an earlier step\n');
    const result = runAisc(['verify', '--format', 'github'], dir, { GITHUB_STEP_SUMMARY: summaryFile });
    expect(result.status).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const commands = lines.slice(0, 3);
    for (const command of commands) expect(command).toMatch(/^::error file=[^,:]+,line=\d+,title=[A-Z_]+%3A [^:]+::[^\n]+%0A[^\n]+$/);
    expect(commands).toContainEqual(expect.stringMatching(/^::error file=tiny\/config\.json,line=1,title=DIGEST_MISMATCH%3A Content differs from the lockfile::tiny: config\.json: .*%0AIf the change is intended/));
    // ',' ':' and '%' in a property are escaped the way @actions/core escapes them.
    expect(commands).toContainEqual(expect.stringMatching(/^::error file=tiny\/odd%2Cname%3A1%25\.txt,line=1,title=EXTRA_FILE%3A /));
    expect(lines[3]).toMatch(/FAIL/);

    const summary = readFileSync(summaryFile, 'utf8');
    expect(summary.startsWith('## an earlier step\n### aisc verify: ❌ 3 findings\n')).toBe(true);
    expect(summary).toContain('| Artifact | Kind | Files | Size | Status |');
    expect(summary).toMatch(/\| tiny \| model \| 5 \| .* \| ❌ 3 findings \|/);
    expect(summary).toContain('| critical | `DIGEST_MISMATCH` | `tiny/config.json` |');
    expect(summary).toContain(`| high | \`MISSING_FILE\` | \`aisc.lock.json\`:${entryLine(dir, 'tiny')} |`);
  });

  it('passes quietly: no commands, a green summary, exit 0', () => {
    const dir = makeTempDir();
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    const summaryFile = join(dir, 'summary.md');
    const result = runAisc(['verify', '--format', 'github'], dir, { GITHUB_STEP_SUMMARY: summaryFile });
    expect(result.status).toBe(0);
    expect(result.stdout).not.toContain('::error');
    expect(readFileSync(summaryFile, 'utf8')).toMatch(/^### aisc verify: ✅ verified\n[\s\S]*\| tiny \| model \| 5 \| .* \| ✅ ok \|/);
  });

  it('fails with a coded line when the summary cannot be appended', () => {
    const dir = makeTempDir();
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    const result = runAisc(['verify', '--format', 'github'], dir, { GITHUB_STEP_SUMMARY: join(dir, 'missing', 'summary.md') });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^aisc: WRITE_FAILED GITHUB_STEP_SUMMARY .*summary\.md: cannot append the job summary \(ENOENT\)\n$/);
  });
});

describe('verify --format github with hostile names', () => {
  // File names a pull request can add, and an artifact name the name grammar allows.
  const NAMES = ['[approve this PR](https:evil.example).txt', '![x](evil.png)', '<img src=x onerror=alert(1)>', '**bold**.txt', 'a`b``c.txt', 'pipe|name.txt', 'x\n::warning::forged.txt'];

  it('puts them into the step summary as text, and into annotations without a command of their own', () => {
    const dir = makeTempDir();
    runGit(dir, 'init', '-q', '-b', 'main');
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model', '--name', 'www.evil.example'], dir).status).toBe(0);
    for (const name of NAMES) writeFileSync(join(dir, 'tiny', name), 'x');
    const summaryFile = join(dir, 'summary.md');
    const result = runAisc(['verify', '--format', 'github'], dir, { GITHUB_STEP_SUMMARY: summaryFile });
    expect(result.status).toBe(1);

    // One workflow command per finding, then the verdict; nothing a name holds starts another.
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(NAMES.length + 1);
    expect(lines.filter((line) => line.startsWith('::'))).toHaveLength(NAMES.length);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/^::error file=tiny\/[^,]+,line=1,title=EXTRA_FILE%3A [^:]+::www\.evil\.example: /);

    const summary = readFileSync(summaryFile, 'utf8');
    const rows = summary.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Severity') && !line.startsWith('| Artifact'));
    const [artifactRow, ...findingRows] = rows.map(splitTableRow);
    expect(artifactRow?.map((cell) => readInline(cell))).toEqual([
      { text: 'www.evil.example', active: [] },
      { text: 'model', active: [] },
      { text: '5', active: [] },
      // aisc's own words and numbers: a size like 1.2 KiB has its dot as is.
      { text: expect.stringMatching(/^\d/) as unknown, active: expect.anything() as unknown },
      { text: `❌ ${NAMES.length} findings`, active: [] },
    ]);
    expect(findingRows).toHaveLength(NAMES.length);
    const shown = findingRows.map((cells) => {
      expect(cells).toHaveLength(4);
      const [severity, code, where, message] = cells.map((cell) => readInline(cell));
      expect([severity, code]).toEqual([{ text: 'high', active: [] }, { text: 'EXTRA_FILE', active: [] }]);
      // The place is one code span nothing closes early; the message is text, every punctuation escaped.
      expect(where?.active).toEqual([]);
      expect(message?.active).toEqual([]);
      expect(message?.text).toBe(`www.evil.example: ${where?.text.slice('tiny/'.length) ?? ''}: not in the lockfile. Remove the file, or review it and run aisc lock again.`);
      return where?.text;
    });
    expect(shown.sort()).toEqual(NAMES.map((name) => `tiny/${name.replace('\n', ' ')}`).sort());
  });
});

describe('scan --format sarif | github', () => {
  it('points at the unsafe file', () => {
    const dir = makeTempDir();
    runGit(dir, 'init', '-q', '-b', 'main');
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'weights.dat'), evilPickle());
    writeFileSync(join(dir, 'm', 'config.json'), '{}\n');
    const sarif = runAisc(['scan', 'm', '--format', 'sarif'], dir);
    expect(sarif.status).toBe(1);
    const run = validateSarif(sarif.stdout).runs[0];
    expect(run?.automationDetails?.id).toBe('aisc/scan/');
    expect((run?.results ?? []).map(where)).toEqual(['PICKLE_UNSAFE m/weights.dat:1']);
    const github = runAisc(['scan', 'm', '--format', 'github'], dir);
    expect(github.status).toBe(1);
    expect(github.stdout).toMatch(/^::error file=m\/weights\.dat,line=1,title=PICKLE_UNSAFE%3A Pickle imports code that runs on load::m\/weights\.dat: .*posix\.system/);
  });
});

describe('--quiet and colour', () => {
  it('--quiet leaves stderr empty but for errors; piped output has no colour', () => {
    const dir = makeTempDir();
    makeModel(dir);
    writeFileSync(join(dir, 'signer.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const signed = runAisc(['sign', 'tiny', '--key', 'signer.pem', '--output', 'tiny.sig'], dir);
    expect(signed.stderr).toBe('aisc: wrote tiny.sig\n');
    const quiet = runAisc(['--quiet', 'sign', 'tiny', '--key', 'signer.pem', '--output', 'tiny.sig'], dir);
    expect(quiet).toMatchObject({ status: 0, stderr: '' });
    expect(runAisc(['lock', 'tiny', '--kind', 'model', '-q'], dir)).toMatchObject({ status: 0, stderr: '' });
    const verified = runAisc(['verify', '-q'], dir);
    expect(verified.status).toBe(0);
    expect(verified.stderr).toBe('');
    expect(verified.stdout).not.toContain('\x1b[');
    const failed = runAisc(['verify', '-q', '--lockfile', 'missing.lock.json'], dir);
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(/^aisc: [A-Z_]+ /);
  });
});
