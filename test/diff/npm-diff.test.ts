import { describe, expect, it } from 'vitest';
import { diffLockfiles } from '../../src/diff/diff.js';
import type { Lockfile, NpmArtifact } from '../../src/lockfile/types.js';
import { evaluateApprovals } from '../../src/policy/gate.js';
import { getNpmRequirements } from '../../src/policy/npm-rules.js';
import type { LoadedPolicy } from '../../src/policy/types.js';

const NPMJS = 'https://registry.npmjs.org/';

function pkg(name: string, version: string, extra: Partial<NpmArtifact> = {}): [string, NpmArtifact] {
  return [
    `npm:${name}@${version}`,
    {
      kind: 'npm',
      package: name,
      version,
      source: { type: 'npm', packageLock: 'package-lock.json', from: 'registry', registry: NPMJS },
      integrity: `sha512-${Buffer.from(`${name}@${version}`).toString('base64')}`,
      registrySignature: { status: 'verified', keyid: 'SHA256:k' },
      ...extra,
    },
  ];
}

const lockfile = (...entries: [string, NpmArtifact][]): Lockfile => ({ lockfileVersion: 1, artifacts: new Map(entries) });
const classes = (base: Lockfile, next: Lockfile): string[] => diffLockfiles(base, next).changes.map((c) => `${c.class} ${c.artifact ?? ''}: ${c.summary}`);

describe('diff: npm packages in reviewer terms', () => {
  it('classes version moves by semver, pairing versions of the same package', () => {
    const base = lockfile(pkg('a', '1.2.3'), pkg('b', '1.2.3'), pkg('c', '1.2.3'), pkg('d', '2.0.0'), pkg('e', '1.0.0-beta.1'), pkg('f', '1.0.0'), pkg('gone', '1.0.0'));
    const next = lockfile(pkg('a', '2.0.0'), pkg('b', '1.3.0'), pkg('c', '1.2.4'), pkg('d', '1.9.9'), pkg('e', '1.0.0-beta.2'), pkg('f', '1.0.0'), pkg('f', '2.0.0'), pkg('new', '0.1.0', { dev: true }));
    expect(classes(base, next)).toEqual([
      'npm-major a: a 1.2.3 → 2.0.0',
      'npm-minor b: b 1.2.3 → 1.3.0',
      'npm-patch c: c 1.2.3 → 1.2.4',
      'npm-downgrade d: d 2.0.0 → 1.9.9',
      'npm-prerelease e: e 1.0.0-beta.1 → 1.0.0-beta.2',
      'npm-added f: added f@2.0.0',
      'npm-removed gone: removed gone@1.0.0',
      'npm-added new: added new@0.1.0 (dev)',
    ]);
  });

  it('names other bytes under the same version, another source, a new install script and a lost signature or provenance', () => {
    const base = lockfile(
      pkg('same', '1.0.0'),
      pkg('moved', '1.0.0'),
      pkg('scripted', '1.0.0'),
      pkg('vouched', '1.0.0', { provenance: { predicateType: 'p', repository: 'https://github.com/o/r', builder: 'b', identity: 'i', issuer: 'x' } }),
    );
    const [, same] = pkg('same', '1.0.0');
    const [, moved] = pkg('moved', '1.0.0');
    const next = lockfile(
      ['npm:same@1.0.0', { ...same, integrity: 'sha512-other' }],
      ['npm:moved@1.0.0', { ...moved, source: { ...moved.source, from: 'remote', resolved: 'https://evil.example/moved.tgz' } }],
      pkg('scripted', '1.1.0', { hasInstallScript: true }),
      pkg('vouched', '1.0.0', { registrySignature: { status: 'unsigned', reason: 'r' } }),
    );
    expect(classes(base, next)).toEqual([
      'npm-source-changed moved: moved@1.0.0: source https://registry.npmjs.org/ → https://evil.example/moved.tgz',
      'npm-integrity-changed same: same@1.0.0: other bytes under the same version (integrity sha512-c2FtZUAxLjAuMA== → sha512-other)',
      'npm-install-script-added scripted: scripted 1.0.0 → 1.1.0: now runs an install script',
      'npm-minor scripted: scripted 1.0.0 → 1.1.0',
      'signer-changed vouched: vouched@1.0.0: registry-signed, built from https://github.com/o/r → unsigned, no provenance',
    ]);
  });

  it('requires a registry signature by default only from the registry that signs every version', () => {
    const [, fromNpmjs] = pkg('a', '1.0.0');
    const [, fromMirror] = pkg('a', '1.0.0', { source: { type: 'npm', packageLock: 'p', from: 'registry', registry: 'https://mirror.example/' } });
    expect(getNpmRequirements(undefined, fromNpmjs).registrySignature).toBe(true);
    expect(getNpmRequirements(undefined, fromMirror).registrySignature).toBe(false);
  });

  it('feeds the approval gate: a major bump of a matched package needs its reviewers, a patch does not', () => {
    const policy: LoadedPolicy = {
      policy: { version: 1, reviewers: new Map([['ana', { key: 'k.pub', groups: ['maintainers'] }]]), approvals: [{ on: ['npm-major', 'npm-install-script-added'], match: { kind: 'npm', name: '@sigstore/*' }, require: { count: 1, from: ['maintainers'] } }] },
      where: 'p',
      digest: 'd',
      keys: new Map(),
      anchors: new Map(),
    };
    const base = lockfile(pkg('@sigstore/verify', '3.1.0'), pkg('@sigstore/core', '3.0.0'), pkg('semver', '6.3.1'));
    const next = lockfile(pkg('@sigstore/verify', '4.0.0'), pkg('@sigstore/core', '3.0.1', { hasInstallScript: true }), pkg('semver', '7.0.0'));
    const findings = evaluateApprovals(diffLockfiles(base, next).changes, policy, [], new Date());
    expect(findings.map((f) => `${f.message.slice(0, f.message.indexOf(' needs '))}: ${f.artifact ?? ''}`)).toEqual(['npm-install-script-added on @sigstore/core: @sigstore/core', 'npm-major on @sigstore/verify: @sigstore/verify']);
  });
});
