import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ValidApproval } from '../../src/policy/approval.js';
import { parseDuration } from '../../src/policy/approval.js';
import { evaluateRules, getRequiredSigners } from '../../src/policy/evaluate.js';
import { evaluateApprovals } from '../../src/policy/gate.js';
import { loadPolicy, parsePolicy } from '../../src/policy/read.js';
import type { LoadedPolicy, PolicyApproval, PolicyReviewer } from '../../src/policy/types.js';
import { makeTempDir } from '../helpers/temp.js';

describe('parsePolicy', () => {
  it('reads YAML and JSON alike, and the presets', async () => {
    const yaml = await parsePolicy('version: 1\nrules:\n  - require: { denyFormats: [pickle] }\n', 'p.yaml');
    const json = await parsePolicy('{"version": 1, "rules": [{"require": {"denyFormats": ["pickle"]}}]}', 'p.json');
    expect(yaml).toEqual(json);
    const { readFileSync } = await import('node:fs');
    for (const preset of ['baseline', 'strict']) {
      await expect(parsePolicy(readFileSync(new URL(`../../policies/${preset}.yaml`, import.meta.url), 'utf8'), `${preset}.yaml`)).resolves.toMatchObject({ version: 1 });
    }
  });

  it.each([
    ['a duplicate YAML key', 'version: 1\nversion: 1\n'],
    ['an unknown version', 'version: 2\n'],
    ['a signer with both a key and an identity', 'version: 1\nsigners:\n  x: { key: k.pub, identity: a, issuer: b }\n'],
    ['an identity without an issuer', 'version: 1\nsigners:\n  x: { identity: a }\n'],
    ['a bad identity regexp', 'version: 1\nsigners:\n  x: { identityRegexp: "(", issuer: b }\n'],
    ['an approval count below zero', 'version: 1\nreviewers: { a: { key: k.pub, groups: [g] } }\napprovals:\n  - on: [weights-changed]\n    require: { count: -1, from: [g] }\n'],
    ['a bad maxAge', 'version: 1\nmaxAge: 30 days\n'],
    ['an empty file', ''],
  ])('rejects %s', async (_name, text) => {
    await expect(parsePolicy(text, 'aisc.policy.yaml')).rejects.toMatchObject({ code: 'POLICY_INVALID' });
  });
});

describe('parsePolicy refuses hostile YAML with a coded line, never a crash', () => {
  const aliasBomb = (): string => {
    let text = 'version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]\n`;
    return text;
  };
  // Before: the alias bomb was INTERNAL (exit 3), deep nesting said "Maximum call stack size
  // exceeded", and !!binary became a Buffer that the schema then complained about.
  it.each([
    ['an alias bomb', aliasBomb(), /YAML aliases expand too far \(more than 100 uses\)/],
    ['nesting 5,000 deep', `version: 1\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, /nesting deeper than 64 levels$/],
    ['nesting 100 deep', `version: 1\nx: ${'['.repeat(100)}${']'.repeat(100)}\n`, /line 2: nesting deeper than 64 levels$/],
    ['a !!binary tag', 'version: 1\nrules: !!binary aGVsbG8=\n', /line 2: YAML tag !!binary is not allowed/],
    ['a !!set tag', 'version: 1\nsigners: !!set { a }\n', /line 2: YAML tag !!set is not allowed/],
    ['a custom tag', 'version: 1\nrules: [ !evil { require: {} } ]\n', /line 2: YAML tag !evil is not allowed/],
    ['JSON nested too deep', `{"version": 1, "x": ${'['.repeat(100)}${']'.repeat(100)}}`, /nesting deeper than 64/],
  ])('%s', async (name, text, message) => {
    const where = name.startsWith('JSON') ? 'p.json' : 'p.yaml';
    await expect(parsePolicy(text, where)).rejects.toMatchObject({ code: 'POLICY_INVALID', message: expect.stringMatching(message) as unknown });
  });

  it('says one relevant line for a value that fits none of a oneOf', async () => {
    const error = await parsePolicy('version: 1\nrules:\n  - match: { name: 5 }\n    require: { denyFormats: [pickle] }\n', 'p.yaml').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POLICY_INVALID', message: 'p.yaml: /rules/0/match/name: must be a string or an array', problems: [] });
  });

  // Before: a signer named "a\nb\nc" was echoed as `/signers/a`, `b`, `c: expected …` over three lines.
  it.each([
    ['a multi-line signer name', 'version: 1\nsigners:\n  "a\\nb\\nc": { issuer: x }\n', 'p.yaml: /signers/"a\\nb\\nc": expected one of identity or identityRegexp (or a key)'],
    ['a multi-line reviewer name with an unknown key', 'version: 1\nreviewers:\n  "p\\rq": { key: k.pub, groups: [g], bogus: 1 }\n', 'p.yaml: /reviewers/"p\\rq": unknown property "bogus"'],
    ['a line separator in a rule key', 'version: 1\nrules:\n  - { "x\\Ly": 1 }\n', 'p.yaml: /rules/0: unknown property "x\\u2028y"'],
    ['a multi-line identity regexp', 'version: 1\nsigners:\n  s: { identityRegexp: "(\\n", issuer: x }\n', 'p.yaml: /signers/s/identityRegexp: Invalid regular expression: /(\\n/u: Unterminated group'],
    ['a 100,000-character signer name', `{"version": 1, "signers": {"${'n'.repeat(100_000)}": {"issuer": "x"}}}`, `p.json: /signers/"${'n'.repeat(64)}…": expected one of identity or identityRegexp (or a key)`],
  ])('says %s in one line per problem', async (_name, text, expected) => {
    const error = await parsePolicy(text, text.startsWith('{') ? 'p.json' : 'p.yaml').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POLICY_INVALID' });
    const lines = [(error as Error).message, ...(error as { problems: string[] }).problems];
    for (const line of lines) {
      expect([...line].filter((char) => char < ' ' || (char >= '\u007f' && char <= '\u009f') || char === '\u2028' || char === '\u2029')).toEqual([]);
      expect(line.length).toBeLessThanOrEqual(400);
    }
    expect(lines).toContain(expected);
  });

  it('gives read errors policy codes, not lockfile ones', async () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, 'folder.yaml'));
    writeFileSync(join(dir, 'big.yaml'), `version: 1\n#${'x'.repeat(1024 * 1024)}\n`);
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from([0x76, 0x65, 0x72, 0x3a, 0x20, 0xe9, 0x0a]));
    for (const name of ['folder.yaml', 'big.yaml', 'latin1.yaml']) await expect(loadPolicy(join(dir, name))).rejects.toMatchObject({ code: 'POLICY_INVALID' });
    await expect(loadPolicy(join(dir, 'none.yaml'))).rejects.toMatchObject({ code: 'POLICY_NOT_FOUND' });
  });
});

describe('loadPolicy', () => {
  it('loads the key files it names, and its digest changes when a key file does', async () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, 'keys'));
    const write = (): void => writeFileSync(join(dir, 'keys', 'a.pub'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    write();
    writeFileSync(join(dir, 'p.yaml'), 'version: 1\nreviewers:\n  a: { key: keys/a.pub, groups: [g] }\n');
    const first = await loadPolicy(join(dir, 'p.yaml'));
    expect(first.keys.get('keys/a.pub')?.asymmetricKeyType).toBe('ed25519');
    write();
    expect((await loadPolicy(join(dir, 'p.yaml'))).digest).not.toBe(first.digest);
  });
});

describe('publisher signers: a private CA, and rules matched by source', () => {
  it('loads a certificateChain signer (part of the digest), and refuses mixed or half-given forms', async () => {
    const dir = makeTempDir();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-subj', '/CN=vendor-ca', '-days', '1'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'p.yaml'), 'version: 1\nsigners:\n  vendor: { certificateChain: ca.pem, subject: CN=publisher }\nrules:\n  - match: { source: hf://vendor/ }\n    require: { signedBy: [vendor] }\n');
    const loaded = await loadPolicy(join(dir, 'p.yaml'));
    expect(loaded.anchors.get('ca.pem')?.[0]?.subject).toBe('CN=vendor-ca');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-subj', '/CN=vendor-ca', '-days', '1'], { stdio: 'ignore' });
    expect((await loadPolicy(join(dir, 'p.yaml'))).digest).not.toBe(loaded.digest);
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
    await expect(loadPolicy(join(dir, 'p.yaml'))).rejects.toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining('certificateChain "ca.pem" (relative to the policy): expected PEM certificates, got none') as unknown });
    await expect(parsePolicy('version: 1\nsigners:\n  v: { certificateChain: ca.pem, key: k.pub }\n', 'p.yaml')).rejects.toMatchObject({ message: expect.stringContaining('expected one of a key, a certificateChain or a keyless identity, got a key and a certificateChain') as unknown });
    await expect(parsePolicy('version: 1\nsigners:\n  v: { key: k.pub, subject: CN=x }\n', 'p.yaml')).rejects.toMatchObject({ message: expect.stringContaining('/signers/v/subject: goes with a certificateChain') as unknown });
    // An approval matches artifacts, not where they came from: source is a rule's word only.
    await expect(parsePolicy('version: 1\napprovals:\n  - on: [weights-changed]\n    match: { source: hf://vendor/ }\n    require: { count: 1, from: [x] }\n', 'p.yaml')).rejects.toMatchObject({ code: 'POLICY_INVALID' });
  });

  it('a rule matched by source applies to artifacts locked from under it, on whole segments, and to nothing else', () => {
    const policy: LoadedPolicy = {
      policy: { version: 1, signers: new Map([['vendor', { key: 'k.pub' }]]), rules: [{ match: { source: 'hf://vendor/' }, require: { signedBy: ['vendor'] } }] },
      where: 'p',
      digest: 'd',
      keys: new Map(),
      anchors: new Map(),
    };
    const artifact = (repo: string) => ({ kind: 'model' as const, layout: 'directory' as const, source: { type: 'huggingface' as const, repo, repoType: 'model' as const, revision: 'a'.repeat(40), ref: 'main' }, files: [], digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
    const lockfile = { lockfileVersion: 1 as const, artifacts: new Map([['ok', artifact('vendor/model')], ['evil', artifact('vendor-evil/model')]]) };
    expect(evaluateRules(policy, lockfile).map((f) => [f.artifact, f.code])).toEqual([['ok', 'POLICY_UNSIGNED']]);
    expect(getRequiredSigners(policy, { name: 'ok', kind: 'model', origin: 'hf://vendor/model' }).map((s) => s.name)).toEqual(['vendor']);
    expect(getRequiredSigners(policy, { name: 'x', kind: 'model', origin: 'hf://vendor-evil/model' })).toEqual([]);
  });
});

describe('evaluateApprovals', () => {
  const policy = ({ reviewers, ...rest }: { reviewers: Record<string, PolicyReviewer>; approvals: PolicyApproval[] }): LoadedPolicy => ({
    policy: { version: 1, ...rest, reviewers: new Map(Object.entries(reviewers)) },
    where: 'p',
    digest: 'd',
    keys: new Map(),
    anchors: new Map(),
  });
  const now = new Date('2026-06-01T00:00:00Z');
  const approval = (reviewer: string, daysAgo = 0): ValidApproval => ({ file: `${reviewer}.json`, reviewer, approvedAt: new Date(now.getTime() - daysAgo * 86_400_000).toISOString() });
  const change = { class: 'weights-changed' as const, artifact: 'm', kind: 'model', summary: '' };
  const loaded = policy({
    reviewers: { a: { key: 'k', groups: ['sec'] }, b: { key: 'k', groups: ['sec'] }, c: { key: 'k', groups: ['ops'] } },
    approvals: [{ on: ['weights-changed'], match: { kind: 'model' }, maxAge: '7d', require: { count: 2, from: ['sec'] } }],
  });

  it('counts distinct reviewers of the named groups, within maxAge', () => {
    expect(evaluateApprovals([change], loaded, [approval('a'), approval('a'), approval('c')], now)).toMatchObject([{ code: 'APPROVALS_MISSING', artifact: 'm', rule: 1, expected: '2 from sec', actual: 'a' }]);
    expect(evaluateApprovals([change], loaded, [approval('a'), approval('b', 8)], now)).toMatchObject([{ actual: 'a' }]);
    expect(evaluateApprovals([change], loaded, [approval('a'), approval('b', 6)], now)).toEqual([]);
  });

  it('only applies rules to the changes and artifacts they match', () => {
    expect(evaluateApprovals([{ ...change, kind: 'dataset' }], loaded, [], now)).toEqual([]);
    expect(evaluateApprovals([{ ...change, class: 'files-changed' }], loaded, [], now)).toEqual([]);
  });

  it('reviews a rename as strictly as the removal and addition it amounts to, under either name', () => {
    const renameRule = policy({
      reviewers: { a: { key: 'k', groups: ['sec'] } },
      approvals: [{ on: ['artifact-removed'], match: { name: 'eval-*' }, require: { count: 1, from: ['sec'] } }],
    });
    const renamed = { class: 'artifact-renamed' as const, artifact: 'prod-set', kind: 'dataset', from: 'eval-set', to: 'prod-set', summary: '' };
    expect(evaluateApprovals([renamed], renameRule, [], now)).toMatchObject([{ artifact: 'prod-set', expected: '1 from sec', actual: 'none', message: expect.stringMatching(/^artifact-renamed on prod-set needs 1 approval /) as unknown }]);
    expect(evaluateApprovals([renamed], renameRule, [approval('a')], now)).toEqual([]);
  });

  it('parses durations', () => {
    expect(parseDuration('12h')).toBe(12 * 3600_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('x')).toBeUndefined();
  });
});
