import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AiscError } from '../../src/errors.js';
import { signFile, toDsseBundle } from '../../src/signing/sign.js';
import { getPublicGoodTrustedRoot } from '../../src/signing/trust.js';
import type { SignerPolicy } from '../../src/signing/verify-bundle.js';
import { verifyFileSignature } from '../../src/signing/verify-file.js';
import { errorLines, runAisc } from '../helpers/cli.js';
import { BEACON_IDENTITY, CONFORMANCE, GITHUB_ISSUER } from '../helpers/fixtures.js';
import { makeTempDir } from '../helpers/temp.js';

const keyPolicy = (key: KeyObject): SignerPolicy => ({ kind: 'key', key, trustedRoot: getPublicGoodTrustedRoot() });
const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

describe('message signatures over a file, key mode', () => {
  it.each([
    ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['Ed25519', () => generateKeyPairSync('ed25519')],
  ])('signs and verifies with %s, and refuses a changed file or another key', async (_name, generate) => {
    const { privateKey, publicKey } = generate();
    const dir = makeTempDir();
    const file = join(dir, 'weights.bin');
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024 + 5, 7));
    writeFileSync(join(dir, 'b.json'), JSON.stringify(await signFile(file, privateKey)));
    await expect(verifyFileSignature(file, join(dir, 'b.json'), keyPolicy(publicKey))).resolves.toMatchObject({ ok: true, signer: { kind: 'key' } });
    await expect(verifyFileSignature(file, join(dir, 'b.json'), keyPolicy(generate().publicKey))).resolves.toMatchObject({ ok: false, findings: [{ code: 'SIGNATURE_INVALID' }] });
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024 + 5, 8));
    await expect(verifyFileSignature(file, join(dir, 'b.json'), keyPolicy(publicKey))).resolves.toMatchObject({ ok: false, findings: [{ code: 'DIGEST_MISMATCH' }] });
  });

  it('verifies a DSSE statement whose subject is the file, and nothing else', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const dir = makeTempDir();
    writeFileSync(join(dir, 'data.jsonl'), '{"a": 1}\n');
    writeFileSync(join(dir, 'other.jsonl'), '{"a": 2}\n');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'data.jsonl', digest: { sha256: 'a2f3b0bf4c4a6cd5ff5b8b7e0fd05e0f3bf1a1ee3e6c2b0b87e0ee2e4a0d4d57' } }],
      predicateType: 'https://example.com/eval/v1',
      predicate: {},
    };
    const { createHash } = await import('node:crypto');
    statement.subject[0]!.digest.sha256 = createHash('sha256').update('{"a": 1}\n').digest('hex');
    writeFileSync(join(dir, 'b.json'), JSON.stringify(toDsseBundle(Buffer.from(JSON.stringify(statement)), privateKey)));
    await expect(verifyFileSignature(join(dir, 'data.jsonl'), join(dir, 'b.json'), keyPolicy(publicKey))).resolves.toMatchObject({ ok: true, content: 'dsse' });
    await expect(verifyFileSignature(join(dir, 'other.jsonl'), join(dir, 'b.json'), keyPolicy(publicKey))).resolves.toMatchObject({ ok: false, findings: [{ code: 'SUBJECT_MISMATCH' }] });
  });
});

describe('aisc sign / verify-signature: bad input, exit codes', () => {
  function setup(): { dir: string; run: (...args: string[]) => ReturnType<typeof runAisc> } {
    const dir = makeTempDir();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'key.pub'), `# release key, rotated 2026-01\n${pem(publicKey)}`);
    writeFileSync(join(dir, 'a.txt'), 'hello\n');
    return { dir, run: (...args) => runAisc(args, dir) };
  }

  it('signs with the CLI and verifies, tolerating text before -----BEGIN', () => {
    const { run } = setup();
    expect(run('sign', 'a.txt', '--key', 'key.pem').status).toBe(0);
    const verified = run('verify-signature', 'a.txt', '--bundle', 'a.txt.sigstore.json', '--key', 'key.pub', '--format', 'json');
    expect(verified.status).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, content: 'message-signature', signer: { kind: 'key' } });
  });

  it.each([
    ['a truncated bundle', (b: string) => b.slice(0, b.length / 2), 'BUNDLE_INVALID'],
    ['an unknown media type', (b: string) => b.replace('bundle.v0.3+json', 'bundle.v9+json'), 'BUNDLE_UNSUPPORTED'],
    ['a duplicate key', (b: string) => b.replace('{', '{"mediaType": "x",'), 'BUNDLE_INVALID'],
    ['an empty file', () => '', 'BUNDLE_INVALID'],
    ['not a bundle at all', () => '[1, 2]', 'BUNDLE_INVALID'],
  ])('refuses %s with exit 2', (_name, mangle, code) => {
    const { dir, run } = setup();
    expect(run('sign', 'a.txt', '--key', 'key.pem').status).toBe(0);
    const path = join(dir, 'a.txt.sigstore.json');
    writeFileSync(path, mangle(readFileSync(path, 'utf8')));
    const result = run('verify-signature', 'a.txt', '--bundle', 'a.txt.sigstore.json', '--key', 'key.pub');
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([expect.stringMatching(new RegExp(`^aisc: ${code} `))]);
  });

  it('refuses unsupported keys and ambiguous or missing signer flags', () => {
    const { dir, run } = setup();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'rsa.pub'), pem(rsa.publicKey));
    expect(run('sign', 'a.txt', '--key', 'key.pem').status).toBe(0);
    expect(errorLines(run('verify-signature', 'a.txt', '--bundle', 'a.txt.sigstore.json', '--key', 'rsa.pub'))[0]).toMatch(/^aisc: KEY_UNSUPPORTED /);
    expect(errorLines(run('verify-signature', 'a.txt', '--bundle', 'a.txt.sigstore.json'))[0]).toMatch(/^aisc: USAGE /);
    expect(errorLines(run('verify-signature', 'a.txt', '--bundle', 'a.txt.sigstore.json', '--key', 'key.pub', '--certificate-identity', 'x', '--certificate-oidc-issuer', 'y'))[0]).toMatch(/^aisc: USAGE /);
    expect(errorLines(run('verify-signature', 'a.txt', '--bundle', 'a.txt.sigstore.json', '--certificate-identity', 'x'))[0]).toMatch(/^aisc: USAGE .*issuer/);
    expect(errorLines(run('verify-signature', 'a.txt', '--bundle', 'a.txt.sigstore.json', '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', 'y'))[0]).toMatch(/^aisc: USAGE /);
  });

  it('says exit 1 for a bundle made for another file', () => {
    const { dir, run } = setup();
    writeFileSync(join(dir, 'b.txt'), 'other\n');
    expect(run('sign', 'a.txt', '--key', 'key.pem').status).toBe(0);
    const result = run('verify-signature', 'b.txt', '--bundle', 'a.txt.sigstore.json', '--key', 'key.pub');
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('DIGEST_MISMATCH');
  });
});

describe('mutated bundles (property)', () => {
  const happy = readFileSync(join(CONFORMANCE, 'happy-path-v0.3', 'bundle.sigstore.json'), 'utf8');
  const artifact = join(CONFORMANCE, '..', 'a.txt');
  const policy: SignerPolicy = { kind: 'keyless', trustedRoot: getPublicGoodTrustedRoot(), identity: { identity: { exact: BEACON_IDENTITY }, issuer: { exact: GITHUB_ISSUER } } };

  it('never crash and never verify once a signed byte changes', async () => {
    const dir = makeTempDir();
    const bundlePath = join(dir, 'b.json');
    // Every base64 value in the bundle is security-relevant: flip one bit in one of them.
    const blobs = [...happy.matchAll(/(?:: |\[|, )"([A-Za-z0-9+/]{16,}={0,2})"/g)].map((m) => ({ start: (m.index ?? 0) + m[0].indexOf('"') + 1, text: m[1] ?? '' }));
    expect(blobs.length).toBeGreaterThan(15);
    await fc.assert(
      fc.asyncProperty(fc.nat(blobs.length - 1), fc.nat(), fc.nat(7), async (which, at, bit) => {
        const blob = blobs[which]!;
        const bytes = Buffer.from(blob.text, 'base64');
        const index = at % bytes.length;
        bytes[index] = (bytes[index] ?? 0) ^ (1 << bit);
        const mutated = happy.slice(0, blob.start) + bytes.toString('base64') + happy.slice(blob.start + blob.text.length);
        writeFileSync(bundlePath, mutated);
        try {
          const report = await verifyFileSignature(artifact, bundlePath, policy);
          expect(report.ok).toBe(false);
        } catch (error) {
          expect(error).toBeInstanceOf(AiscError);
          expect((error as AiscError).code).not.toBe('INTERNAL');
        }
      }),
      { numRuns: 400 },
    );
  });
});
