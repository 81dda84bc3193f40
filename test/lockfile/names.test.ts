import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getNameProblem } from '../../src/lockfile/names.js';
import { parseLockfile } from '../../src/lockfile/read.js';
import { toLockfileText } from '../../src/lockfile/write.js';
import type { FileArtifact, Lockfile } from '../../src/lockfile/types.js';
import { evaluateRules } from '../../src/policy/evaluate.js';
import { parsePolicy } from '../../src/policy/read.js';
import { diffLockfiles } from '../../src/diff/diff.js';

/** Names that are properties of every plain object: the ones that used to vanish or never verify. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'prototype'];

const sha = (c: string): string => c.repeat(64);
const artifact = (digest: string): FileArtifact => ({ kind: 'model', layout: 'directory', source: { type: 'local', path: 'm' }, files: [{ path: 'w.bin', size: 1, sha256: digest }], digest });

const nameChar = fc.constantFrom(...'abcXYZ019._-@/+:~_'.split(''));
const validName = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES),
  fc.tuple(fc.constantFrom('a', 'Z', '7', '@', '_'), fc.array(nameChar, { maxLength: 20 })).map(([first, rest]) => first + rest.join('')).filter((name) => getNameProblem(name) === undefined),
);

describe('artifact names', () => {
  it('accept names that collide with Object.prototype, and refuse what breaks the grammar', () => {
    for (const name of PROTOTYPE_NAMES) expect(getNameProblem(name)).toBeUndefined();
    for (const name of ['', '../x', 'a/../b', 'a//b', 'a/', '.hidden', '-flag', 'a b', 'a\u0000b', 'é', 'x'.repeat(513)]) expect(getNameProblem(name)).toBeDefined();
  });

  it('round-trip through the lockfile as data: every name comes back, with its own artifact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(validName, { minLength: 1, maxLength: 6 }), async (names) => {
        const lockfile: Lockfile = { lockfileVersion: 1, artifacts: new Map(names.map((name, i) => [name, artifact(sha('0123456789'[i % 10] ?? '0'))])) };
        const parsed = await parseLockfile(toLockfileText(lockfile), 'aisc.lock.json');
        expect([...parsed.artifacts.keys()].sort()).toEqual([...names].sort());
        for (const [name, value] of lockfile.artifacts) expect(parsed.artifacts.get(name)).toEqual(value);
        // Nothing reached a prototype: a fresh object still has none of these as own properties.
        expect(Object.getPrototypeOf({})).toBe(Object.prototype);
        expect(diffLockfiles(parsed, parsed).changes).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('are refused in a lockfile when they break the grammar', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }).filter((name) => getNameProblem(name) !== undefined), async (name) => {
        const text = JSON.stringify({ lockfileVersion: 1, artifacts: { [name]: artifact(sha('a')) } });
        await expect(parseLockfile(text, 'aisc.lock.json')).rejects.toMatchObject({ code: 'LOCKFILE_INVALID' });
      }),
      { numRuns: 200 },
    );
  });

  it('in a policy are data too: an unknown signer or reviewer named like a prototype property is unknown', async () => {
    for (const name of PROTOTYPE_NAMES) {
      await expect(parsePolicy(`version: 1\nrules:\n  - require: { signedBy: [${JSON.stringify(name)}] }\n`, 'p.yaml')).rejects.toMatchObject({ code: 'POLICY_INVALID' });
      await expect(parsePolicy(`version: 1\napprovals:\n  - on: [weights-changed]\n    require: { count: 1, from: [${JSON.stringify(name)}] }\n`, 'p.yaml')).rejects.toMatchObject({ code: 'POLICY_INVALID' });
    }
  });

  it('in a policy match signers by exact name, whatever the name', async () => {
    const signerName = fc.oneof(
      fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'),
      fc.tuple(fc.constantFrom('a', 'Z', '7'), fc.array(fc.constantFrom(...'bcXY09._-'.split('')), { maxLength: 20 })).map(([first, rest]) => first + rest.join('')),
    );
    await fc.assert(
      fc.asyncProperty(signerName, async (name) => {
        const policy = await parsePolicy(`version: 1\nsigners:\n  ${JSON.stringify(name)}: { identity: a@example.com, issuer: https://issuer.example }\nrules:\n  - require: { signedBy: [${JSON.stringify(name)}] }\n`, 'p.yaml');
        const signed: FileArtifact = { ...artifact(sha('b')), signature: { bundle: 'b.json', bundleSha256: sha('c'), format: 'message-signature', signer: { kind: 'keyless', identity: 'a@example.com', issuer: 'https://issuer.example' } } };
        const findings = evaluateRules({ policy, where: 'p.yaml', digest: 'd', keys: new Map(), anchors: new Map() }, { lockfileVersion: 1, artifacts: new Map([[name, signed]]) });
        expect(findings).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
