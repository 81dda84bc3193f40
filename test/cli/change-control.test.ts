import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, runAisc, runGit } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

/** The policy from the change-control issue, as written there. */
const POLICY = `version: 1
signers:
  release-ci: { identity: "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main", issuer: "https://token.actions.githubusercontent.com" }
  ml-team: { key: keys/ml-team.pub }
reviewers:
  alice: { key: keys/alice.pub, groups: [ml-security] }
  bob:   { key: keys/bob.pub,   groups: [ml-security] }
  carol: { key: keys/carol.pub, groups: [policy-admins] }
rules:
  - match: { kind: [model, adapter] }
    require: { signedBy: [release-ci, ml-team] }
  - match: { kind: dataset, name: "eval-*" }
    require: { sources: ["./data/"] }
approvals:
  - on: [artifact-added, artifact-removed, weights-changed, tokenizer-changed, signer-changed, source-changed, files-changed]
    match: { kind: [model, adapter, tokenizer, dataset] }
    require: { count: 2, from: [ml-security] }
  - on: [policy-changed]
    require: { count: 1, from: [policy-admins] }
`;

interface Report {
  ok: boolean;
  gate?: { findings: { code: string; artifact?: string; message: string; expected: string; actual: string }[]; approvals: { reviewer: string }[]; ignored: { reason: string }[] };
  artifacts: { name: string; findings: { code: string }[] }[];
}

function setup(): { dir: string; run: (...args: string[]) => ReturnType<typeof runAisc>; verify: () => { status: number | null; report: Report }; git: (...args: string[]) => string } {
  const dir = makeTempDir();
  const git = (...args: string[]): string => runGit(dir, ...args);
  git('init', '-q', '-b', 'main');
  mkdirSync(join(dir, 'keys'));
  mkdirSync(join(dir, 'private'));
  for (const name of ['ml-team', 'alice', 'bob', 'carol', 'mallory']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'private', `${name}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    if (name !== 'mallory') writeFileSync(join(dir, 'keys', `${name}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  writeFileSync(join(dir, 'aisc.policy.yaml'), POLICY);
  const run = (...args: string[]): ReturnType<typeof runAisc> => runAisc(args, dir);
  const verify = (): { status: number | null; report: Report } => {
    const result = run('verify', '--base', 'git:main', '--format', 'json');
    expect(result.stderr).toBe('');
    return { status: result.status, report: JSON.parse(result.stdout) as Report };
  };
  return { dir, run, verify, git };
}

function signAndLock(run: (...args: string[]) => ReturnType<typeof runAisc>): void {
  expect(run('sign', 'tiny', '--key', 'private/ml-team.pem', '--output', 'signatures/tiny.sig').status).toBe(0);
  const locked = run('lock', 'tiny', '--kind', 'model', '--signature', 'signatures/tiny.sig', '--key', 'keys/ml-team.pub');
  expect(locked.status, locked.stderr).toBe(0);
}

/** Each unmet approval rule as class:artifact:approved/required (the class opens the message; expected is "N from GROUPS", actual who approved). */
const missing = (report: Report): string[] =>
  (report.gate?.findings ?? []).map((f) => `${/^[a-z-]+/.exec(f.message)?.[0] ?? ''}:${f.artifact ?? ''}:${f.actual === 'none' ? 0 : f.actual.split(', ').length}/${parseInt(f.expected, 10)}`).sort();

describe('change control end to end, in a git repository', () => {
  it('requires exactly the approvals the base policy names, from distinct registered reviewers', () => {
    const { dir, run, verify, git } = setup();
    makeModel(dir);
    mkdirSync(join(dir, 'signatures'));
    signAndLock(run);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'eval-set.jsonl'), '{"q": 1}\n');
    expect(run('lock', 'data/eval-set.jsonl', '--kind', 'dataset', '--name', 'eval-set').status).toBe(0);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    expect(verify()).toMatchObject({ status: 0, report: { ok: true } });

    // The weights change.
    const shard = join(dir, 'tiny', 'model-00001-of-00002.safetensors');
    const bytes = readFileSync(shard);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    writeFileSync(shard, bytes);
    signAndLock(run);
    const diff = run('diff', '--base', 'git:main', '--format', 'markdown');
    expect(diff.stdout).toContain('| `weights-changed` | tiny | model |');
    let result = verify();
    expect(result.status).toBe(1);
    expect(missing(result.report)).toEqual(['weights-changed:tiny:0/2']);

    expect(run('approve', '--base', 'git:main', '--key', 'private/alice.pem', '--reviewer', 'alice').status).toBe(0);
    expect(missing(verify().report)).toEqual(['weights-changed:tiny:1/2']);
    expect(run('approve', '--base', 'git:main', '--key', 'private/alice.pem', '--reviewer', 'alice', '--comment', 'again').status).toBe(0);
    expect(missing(verify().report)).toEqual(['weights-changed:tiny:1/2']);

    // Mallory's key, claiming to be bob: aisc approve refuses, so forge it with the library's own pieces.
    const refused = run('approve', '--base', 'git:main', '--key', 'private/mallory.pem', '--reviewer', 'bob');
    expect(errorLines(refused)[0]).toMatch(/^aisc: USAGE --key: not the key the base policy registers for bob/);
    forgeApproval(dir, 'bob', 'private/mallory.pem');
    result = verify();
    expect(missing(result.report)).toEqual(['weights-changed:tiny:1/2']);
    expect(result.report.gate?.ignored.map((i) => i.reason)).toEqual([expect.stringContaining("not signed by bob's registered key")]);
    // A garbled approval is not quietly skipped: the gate stops with a coded line.
    writeFileSync(join(dir, '.aisc', 'approvals', 'garbled.json'), '{"mediaType": ');
    const garbled = run('verify', '--base', 'git:main');
    expect(garbled.status).toBe(2);
    expect(errorLines(garbled)[0]).toMatch(/^aisc: APPROVAL_INVALID .*garbled\.json: /);
    execFileSync('rm', [join(dir, '.aisc', 'approvals', 'garbled.json')]);

    expect(run('approve', '--base', 'git:main', '--key', 'private/bob.pem', '--reviewer', 'bob').status).toBe(0);
    result = verify();
    expect(result).toMatchObject({ status: 0, report: { ok: true } });
    expect([...new Set(result.report.gate?.approvals.map((a) => a.reviewer))].sort()).toEqual(['alice', 'bob']);

    // Those approvals, carried onto a further change, count for nothing.
    writeFileSync(join(dir, 'tiny', 'tokenizer.json'), '{"model": {"type": "Unigram"}}\n');
    signAndLock(run);
    result = verify();
    expect(result.status).toBe(1);
    expect(missing(result.report)).toEqual(['tokenizer-changed:tiny:0/2', 'weights-changed:tiny:0/2']);

    // Lowering the count to 0 in the same change: judged by the base policy, and itself a change.
    writeFileSync(join(dir, 'aisc.policy.yaml'), POLICY.replace('require: { count: 2, from: [ml-security] }', 'require: { count: 0, from: [ml-security] }'));
    result = verify();
    expect(missing(result.report)).toEqual(['policy-changed::0/1', 'tokenizer-changed:tiny:0/2', 'weights-changed:tiny:0/2']);
    expect(run('approve', '--base', 'git:main', '--key', 'private/carol.pem', '--reviewer', 'carol').status).toBe(0);
    expect(missing(verify().report)).toEqual(['tokenizer-changed:tiny:0/2', 'weights-changed:tiny:0/2']);
    expect(run('approve', '--base', 'git:main', '--key', 'private/alice.pem', '--reviewer', 'alice').status).toBe(0);
    expect(run('approve', '--base', 'git:main', '--key', 'private/bob.pem', '--reviewer', 'bob').status).toBe(0);
    expect(verify()).toMatchObject({ status: 0, report: { ok: true } });
  });

  it('applies rules at lock (unless --force) and at verify, naming the artifact and the rule', () => {
    const { dir, run } = setup();
    makeModel(dir);
    const refused = run('lock', 'tiny', '--kind', 'model');
    expect(refused.status).toBe(1);
    expect(errorLines(refused)[0]).toMatch(/^aisc: POLICY_VIOLATION tiny: rule 1 \(kind model\|adapter\): requires a signature by release-ci or ml-team/);
    expect(run('lock', 'tiny', '--kind', 'model', '--force').status).toBe(0);
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'eval-x.jsonl'), '{}\n');
    expect(run('lock', 'elsewhere/eval-x.jsonl', '--kind', 'dataset', '--name', 'eval-x', '--force').status).toBe(0);
    const result = run('verify', '--format', 'json');
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.artifacts.flatMap((a) => a.findings.map((f) => `${a.name}:${f.code}`)).sort()).toEqual(['eval-x:POLICY_SOURCE', 'tiny:POLICY_UNSIGNED']);
  });

  it('rejects a policy with typos, listing every problem, and bad bases', () => {
    const { dir, run } = setup();
    writeFileSync(join(dir, 'aisc.lock.json'), '{"lockfileVersion": 1, "artifacts": {}}\n');
    writeFileSync(join(dir, 'aisc.policy.yaml'), POLICY.replace('signedBy: [release-ci, ml-team]', 'signedBy: [release-ci, ml-teem]').replace('on: [policy-changed]', 'on: [policy-change]').replace('from: [policy-admins]', 'from: [policy-admin]').replace('version: 1', 'version: 1\nmaxage: 3d'));
    const result = run('verify');
    expect(result.status).toBe(2);
    const lines = errorLines(result);
    expect(lines.filter((line) => !line.startsWith('aisc: POLICY_INVALID aisc.policy.yaml: '))).toEqual([]);
    expect(lines.join('\n')).toMatch(/unknown property "maxage"/);
    expect(lines.join('\n')).toMatch(/policy-change/);
    expect(lines.join('\n')).toMatch(/unknown signer "ml-teem"/);
    expect(lines.join('\n')).toMatch(/unknown group or reviewer "policy-admin"/);
    writeFileSync(join(dir, 'aisc.policy.yaml'), POLICY);
    expect(errorLines(run('verify', '--base', 'git:no-such-branch'))[0]).toMatch(/^aisc: BASE_INVALID git:no-such-branch: no such commit/);
    writeFileSync(join(dir, 'old.lock.json'), '{"lockfileVersion": 1,');
    expect(errorLines(run('verify', '--base', 'old.lock.json'))[0]).toMatch(/^aisc: BASE_INVALID base lockfile old\.lock\.json: /);
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules: [\n');
    expect(errorLines(run('verify'))[0]).toMatch(/^aisc: POLICY_INVALID aisc\.policy\.yaml: line /);
  });
});

/** An approval signed with a key the policy does not register for the reviewer it names. */
function forgeApproval(dir: string, reviewer: string, keyPath: string): void {
  const script = `
    const { loadChangeSet } = await import(${JSON.stringify(new URL('../../dist/policy/change-set.js', import.meta.url).href)});
    const { toApprovalPayload } = await import(${JSON.stringify(new URL('../../dist/policy/approval.js', import.meta.url).href)});
    const { readPrivateKey, toDsseBundle } = await import(${JSON.stringify(new URL('../../dist/signing/sign.js', import.meta.url).href)});
    const changeSet = await loadChangeSet({ base: 'git:main', lockfile: 'aisc.lock.json', policy: 'aisc.policy.yaml' });
    const bundle = toDsseBundle(toApprovalPayload(changeSet, ${JSON.stringify(reviewer)}, new Date()), await readPrivateKey(${JSON.stringify(keyPath)}));
    (await import('node:fs')).writeFileSync('.aisc/approvals/forged-${reviewer}.json', JSON.stringify(bundle));
  `;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
}
