import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAisc, runAiscAsync, runGit } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { makeIdentityToken, startSigstoreInstance, type SigstoreInstance } from '../helpers/sigstore-instance.js';
import { makeTempDir } from '../helpers/temp.js';

const ISSUER = 'https://oidc.example.test';
const IDENTITY = 'release@acme.test';

describe('aisc sign --keyless against a Sigstore on loopback', () => {
  let sigstore: SigstoreInstance;
  beforeAll(async () => {
    sigstore = await startSigstoreInstance();
  });
  afterAll(async () => {
    await sigstore.close();
  });

  function setup(): { dir: string; env: Record<string, string>; urls: string[] } {
    const dir = makeTempDir();
    makeModel(dir);
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    const env = { SIGSTORE_ID_TOKEN: makeIdentityToken({ iss: ISSUER, sub: 'release-job', email: IDENTITY, email_verified: true }) };
    // No --tsa-url here: @sigstore/core parses only 3-digit fractions of a second, so the mock
    // TSA's DER times (trailing zeros dropped) fail one run in ten. The log's time suffices.
    return { dir, env, urls: ['--fulcio-url', sigstore.url, '--rekor-url', sigstore.url] };
  }

  it('signs a model folder (OMS, DSSE) and a file, each verifying offline for that identity only', async () => {
    const { dir, env, urls } = setup();
    const before = { ...sigstore.requests };
    const folder = await runAiscAsync(['sign', 'tiny', '--keyless', ...urls, '--output', 'model.sig'], dir, env);
    expect(folder.status, folder.stderr).toBe(0);
    writeFileSync(join(dir, 'data.jsonl'), '{"x": 1}\n');
    const file = await runAiscAsync(['sign', 'data.jsonl', '--keyless', ...urls], dir, env);
    expect(file.status, file.stderr).toBe(0);
    expect(sigstore.requests.fulcio).toBe((before.fulcio ?? 0) + 2);
    expect(sigstore.requests.rekor).toBe((before.rekor ?? 0) + 2);

    const identity = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--trusted-root', 'trusted_root.json'];
    const verified = runAisc(['verify-signature', 'tiny', '--bundle', 'model.sig', ...identity], dir);
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(runAisc(['verify-signature', 'data.jsonl', '--bundle', 'data.jsonl.sigstore.json', ...identity], dir).status).toBe(0);
    const other = runAisc(['verify-signature', 'tiny', '--bundle', 'model.sig', '--certificate-identity', 'mallory@acme.test', '--certificate-oidc-issuer', ISSUER, '--trusted-root', 'trusted_root.json'], dir);
    expect(other.status).toBe(1);
    expect(other.stdout).toContain('SIGNER_MISMATCH');
    // Against the public-good root, the throwaway CA is nobody.
    expect(runAisc(['verify-signature', 'tiny', '--bundle', 'model.sig', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER], dir).status).toBe(1);
    // And the pinned keyless signer survives a lock/verify round trip with the private root.
    expect(runAisc(['lock', 'tiny', '--kind', 'model', '--signature', 'model.sig', ...identity], dir).status).toBe(0);
    expect(runAisc(['verify'], dir).status).toBe(0);
  });

  it('approves a change keylessly, counted for the reviewer registered by identity', async () => {
    const { dir, env, urls } = setup();
    const git = (...args: string[]): string => runGit(dir, ...args);
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'aisc.policy.yaml'), `version: 1\nreviewers:\n  dana: { identity: "${IDENTITY}", issuer: "${ISSUER}", groups: [sec] }\napprovals:\n  - on: [artifact-added]\n    require: { count: 1, from: [sec] }\n`);
    expect(runAisc(['init'], dir).status).toBe(0);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    const gate = ['verify', '--base', 'git:main', '--trusted-root', 'trusted_root.json'];
    expect(runAisc(gate, dir).status).toBe(1);
    const approved = await runAiscAsync(['approve', '--base', 'git:main', '--keyless', ...urls, '--reviewer', 'dana'], dir, env);
    expect(approved.status, approved.stderr).toBe(0);
    const verified = runAisc(gate, dir);
    expect(verified.status, verified.stdout).toBe(0);
    // Against the public-good root, the same approval is nobody's.
    expect(runAisc(['verify', '--base', 'git:main'], dir).status).toBe(1);
  });

  it('adds an RFC 3161 timestamp from the TSA with --tsa-url, and it verifies', async () => {
    const { dir, env, urls } = setup();
    const identity = ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, '--trusted-root', 'trusted_root.json'];
    // @sigstore/core reads genTime only with three fraction digits; DER drops trailing zeros, so
    // about one mock timestamp in ten does not parse (BUNDLE_INVALID, failing closed). Sign again then.
    let verified = { status: null as number | null, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = sigstore.requests.tsa ?? 0;
      const signed = await runAiscAsync(['sign', 'tiny', '--keyless', ...urls, '--tsa-url', sigstore.url, '--output', 'model.sig'], dir, env);
      expect(signed.status, signed.stderr).toBe(0);
      expect(sigstore.requests.tsa).toBe(before + 1);
      verified = runAisc(['verify-signature', 'tiny', '--bundle', 'model.sig', ...identity], dir);
      if (!verified.stderr.includes('invalid time')) break;
    }
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(join(dir, 'model.sig'), 'utf8')) as { verificationMaterial: { timestampVerificationData?: { rfc3161Timestamps: unknown[] } } };
    expect(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
  });

  it('says so when there is no identity token', async () => {
    const { dir, urls } = setup();
    const result = await runAiscAsync(['sign', 'tiny', '--keyless', ...urls], dir, { SIGSTORE_ID_TOKEN: '', ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^aisc: USAGE --keyless: no OIDC identity token/);
  });

  it('fails with a coded line when Fulcio refuses, never printing the token', async () => {
    const { dir, urls } = setup();
    const token = makeIdentityToken({ iss: ISSUER, sub: 'x', email: IDENTITY });
    const result = await runAiscAsync(['sign', 'tiny', '--keyless', ...urls], dir, { SIGSTORE_ID_TOKEN: token });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^aisc: SIGNING_FAILED /);
    expect(result.stderr).not.toContain(token.split('.')[1]);
  });
});
