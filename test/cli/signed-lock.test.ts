import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, runAisc } from '../helpers/cli.js';
import { BEACON_IDENTITY, CONFORMANCE, GITHUB_ISSUER } from '../helpers/fixtures.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

interface Finding {
  code: string;
}

function setup(): { dir: string; run: (...args: string[]) => ReturnType<typeof runAisc>; findings: () => string[] } {
  const dir = makeTempDir();
  makeModel(dir);
  for (const name of ['alice', 'mallory']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    writeFileSync(join(dir, `${name}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, `${name}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const run = (...args: string[]): ReturnType<typeof runAisc> => runAisc(args, dir);
  const findings = (): string[] => {
    const result = run('verify', '--format', 'json');
    return (JSON.parse(result.stdout) as { artifacts: { findings: Finding[] }[] }).artifacts.flatMap((a) => a.findings.map((f) => f.code));
  };
  return { dir, run, findings };
}

describe('signers pinned in the lockfile', () => {
  it('locks a signed model, re-verifies it offline, and refuses anyone else or a missing bundle', () => {
    const { dir, run, findings } = setup();
    expect(run('sign', 'tiny', '--key', 'alice.pem', '--output', 'tiny/model.sig').status).toBe(0);
    const locked = run('lock', 'tiny', '--kind', 'model', '--signature', 'tiny/model.sig', '--key', 'alice.pub');
    expect(locked.status, locked.stderr).toBe(0);
    expect(locked.stdout).toContain('signed by key sha256:');
    const lockfile = JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: { tiny: { ignore: string[]; signature: { bundle: string; bundleSha256: string; signer: { kind: string } } } } };
    // Found inside the folder: pinned there, and left out of the artifact by its exact path (not an ignore glob).
    expect(lockfile.artifacts.tiny.signature).toMatchObject({ bundle: 'tiny/model.sig', path: 'model.sig', format: 'model-signing', signer: { kind: 'key' } });
    expect(lockfile.artifacts.tiny.ignore).toBeUndefined();
    expect(run('verify').status).toBe(0);

    // Mallory re-signs the same files: a valid signature, by someone else.
    expect(run('sign', 'tiny', '--key', 'mallory.pem', '--output', 'tiny/model.sig').status).toBe(0);
    expect(findings()).toEqual(['SIGNATURE_CHANGED']);
    // ...and also edits the lockfile's bundle digest: the pinned key still refuses it.
    const path = join(dir, 'aisc.lock.json');
    lockfile.artifacts.tiny.signature.bundleSha256 = createHash('sha256').update(readFileSync(join(dir, 'tiny/model.sig'))).digest('hex');
    writeFileSync(path, JSON.stringify(lockfile));
    expect(findings()).toEqual(['SIGNATURE_INVALID']);

    rmSync(join(dir, 'tiny/model.sig'));
    expect(findings()).toEqual(['SIGNATURE_MISSING']);
  });

  // Before: verify read the bundle whole with no limit, hashed it, then read it again to verify.
  it('reads the bundle once and bounded: a huge one or a FIFO in its place is a finding, never a hang', () => {
    const { dir, run, findings } = setup();
    expect(run('sign', 'tiny', '--key', 'alice.pem', '--output', 'alice.sig').status).toBe(0);
    expect(run('lock', 'tiny', '--kind', 'model', '--signature', 'alice.sig', '--key', 'alice.pub').status).toBe(0);
    writeFileSync(join(dir, 'alice.sig'), Buffer.alloc(17 * 1024 * 1024, 0x20));
    const result = run('verify');
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/SIGNATURE_INVALID: alice\.sig: expected a Sigstore bundle of at most 16777216 bytes, got 17825792$/m);
    rmSync(join(dir, 'alice.sig'));
    execFileSync('mkfifo', [join(dir, 'alice.sig')]);
    expect(findings()).toEqual(['SIGNATURE_INVALID']);
  });

  // Before: sign signed first and then failed to write (WRITE_FAILED ... ENOENT), and a bundle
  // written into a locked folder turned the next verify red without a word.
  it('checks --output before signing, and warns when the bundle lands inside a locked artifact', () => {
    const { dir, run } = setup();
    const missing = run('sign', 'tiny', '--key', 'alice.pem', '--output', 'nowhere/new.sig');
    expect(missing.status).toBe(2);
    expect(errorLines(missing)).toEqual(['aisc: USAGE --output nowhere/new.sig: the folder nowhere does not exist (aisc creates no folders); create it first']);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    expect(run('sign', 'tiny', '--key', 'alice.pem', '--output', 'tiny').status).toBe(2);

    expect(run('lock', 'tiny', '--kind', 'model').status).toBe(0);
    const inside = run('sign', 'tiny/config.json', '--key', 'alice.pem');
    expect(inside.status).toBe(0);
    expect(errorLines(inside)).toEqual([
      'aisc: wrote tiny/config.json.sigstore.json',
      'aisc: warning: tiny/config.json.sigstore.json is inside the locked artifact tiny (aisc.lock.json), so verify will report config.json.sigstore.json as an extra file; write the bundle elsewhere with --output, or lock tiny again',
    ]);
    const outside = run('sign', 'tiny/config.json', '--key', 'alice.pem', '--output', 'config.sig');
    expect(errorLines(outside)).toEqual(['aisc: wrote config.sig']);
  });

  it('refuses to lock, writing nothing, when the signature is by another key or over other files', () => {
    const { dir, run } = setup();
    expect(run('sign', 'tiny', '--key', 'mallory.pem', '--output', 'model.sig').status).toBe(0);
    const wrongKey = run('lock', 'tiny', '--kind', 'model', '--signature', 'model.sig', '--key', 'alice.pub');
    expect(wrongKey.status).toBe(1);
    expect(errorLines(wrongKey)).toEqual([expect.stringMatching(/^aisc: SIGNATURE_INVALID /)]);
    writeFileSync(join(dir, 'tiny', 'config.json'), '{"changed": true}\n');
    const changed = run('lock', 'tiny', '--kind', 'model', '--signature', 'model.sig', '--key', 'mallory.pub');
    expect(changed.status).toBe(1);
    expect(errorLines(changed)).toEqual([expect.stringMatching(/^aisc: MANIFEST_MISMATCH .*config\.json differs/)]);
    expect(() => readFileSync(join(dir, 'aisc.lock.json'))).toThrow();
    // A signer named and no bundle to be found: a required signature missing (exit 1).
    const none = run('lock', 'tiny', '--kind', 'model', '--key', 'alice.pub');
    expect(none.status).toBe(1);
    expect(errorLines(none)[0]).toMatch(/^aisc: SIGNATURE_MISSING tiny: a signer was given but no signature was found \(looked for model\.sig at its root/);
  });

  it('pins a message signature over a dataset file and catches a changed file', () => {
    const { dir, run, findings } = setup();
    writeFileSync(join(dir, 'eval.jsonl'), '{"q": 1}\n');
    expect(run('sign', 'eval.jsonl', '--key', 'alice.pem').status).toBe(0);
    expect(run('lock', 'eval.jsonl', '--kind', 'dataset', '--signature', 'eval.jsonl.sigstore.json', '--key', 'alice.pub').status).toBe(0);
    expect(run('verify').status).toBe(0);
    writeFileSync(join(dir, 'eval.jsonl'), '{"q": 2}\n');
    expect(findings()).toEqual(expect.arrayContaining(['DIGEST_MISMATCH']));
  });

  it('pins a keyless signer (real Sigstore bundle) by its exact identity and verifies offline', () => {
    const { dir, run } = setup();
    copyFileSync(join(CONFORMANCE, '..', 'a.txt'), join(dir, 'a.txt'));
    copyFileSync(join(CONFORMANCE, 'happy-path-v0.3', 'bundle.sigstore.json'), join(dir, 'a.txt.sigstore.json'));
    const locked = run('lock', 'a.txt', '--kind', 'dataset', '--signature', 'a.txt.sigstore.json', '--certificate-identity-regexp', 'https://github\\.com/sigstore-conformance/.*', '--certificate-oidc-issuer', GITHUB_ISSUER);
    expect(locked.status, locked.stderr).toBe(0);
    const lockfile = JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, { signature: { signer: unknown } }> };
    expect(lockfile.artifacts['a.txt']?.signature.signer).toEqual({ kind: 'keyless', identity: BEACON_IDENTITY, issuer: GITHUB_ISSUER });
    expect(run('verify').status).toBe(0);
  });
});

describe('a signed lockfile', () => {
  it('verifies the lockfile came from the release key before trusting it', () => {
    const { dir, run } = setup();
    expect(run('lock', 'tiny', '--kind', 'model').status).toBe(0);
    expect(run('sign', 'aisc.lock.json', '--key', 'alice.pem', '--output', 'aisc.lock.sig').status).toBe(0);
    const ok = run('verify', '--lockfile-signature', 'aisc.lock.sig', '--key', 'alice.pub');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok {3}aisc\.lock\.json: signed by key sha256:/);

    const other = run('verify', '--lockfile-signature', 'aisc.lock.sig', '--key', 'mallory.pub', '--format', 'json');
    expect(other.status).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({ ok: false, lockfileSignature: { ok: false, findings: [{ code: 'SIGNATURE_INVALID' }] } });

    // An edit to the lockfile (re-locking here) breaks its signature even though every file matches.
    writeFileSync(join(dir, 'tiny', 'new.txt'), 'x\n');
    expect(run('lock', 'tiny', '--kind', 'model').status).toBe(0);
    const edited = run('verify', '--lockfile-signature', 'aisc.lock.sig', '--key', 'alice.pub');
    expect(edited.status).toBe(1);
    expect(edited.stdout).toContain('DIGEST_MISMATCH');
    expect(errorLines(run('verify', '--key', 'alice.pub'))[0]).toMatch(/^aisc: USAGE .*--lockfile-signature/);
  });
});
