import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { runAiscAsync } from '../helpers/cli.js';
import { sha256, startHub, type HubFile, type HubRepo, type LoopbackHub } from '../helpers/hub-server.js';
import { signOmsReference } from '../helpers/oms-reference.js';
import { makeIdentityToken, startSigstoreInstance } from '../helpers/sigstore-instance.js';
import { makeTempDir } from '../helpers/temp.js';
import { signPayloadKeyless } from '../../src/signing/keyless.js';

// Publishers' OpenSSF Model Signing bundles, made by an implementation independent of aisc's
// (test/helpers/oms-reference.ts, written from the spec), found where publishers put them.

const COMMIT_1 = '1'.repeat(40);
const COMMIT_2 = '2'.repeat(40);
const weights = makeSafetensors({ 'a.weight': { dtype: 'F32', shape: [64, 64] } }, 1);
const MODEL: HubFile[] = [
  { path: '.gitattributes', content: Buffer.from('*.safetensors filter=lfs diff=lfs merge=lfs -text\n') },
  { path: 'config.json', content: Buffer.from('{"hidden_size": 64}\n') },
  { path: 'model.safetensors', content: weights, lfs: true },
  { path: 'shards/big.bin', content: Buffer.alloc(400_000, 7), lfs: true },
];

interface Signer {
  privateKey: KeyObject;
  publicPem: string;
}

function makeSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The files on disk, as a publisher's checkout has them, and the model.sig the reference signer makes over them. */
async function signFiles(files: HubFile[], signer: Signer, options: { hashType?: 'sha256' | 'blake2b'; shardSize?: number } = {}): Promise<Buffer> {
  const folder = join(makeTempDir(), 'model');
  for (const file of files) {
    mkdirSync(dirname(join(folder, file.path)), { recursive: true });
    writeFileSync(join(folder, file.path), file.content);
  }
  return signOmsReference(folder, { key: signer.privateKey, ...options });
}

const publisher = makeSigner();
const stranger = makeSigner();

let hub: LoopbackHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function setup(repos: Record<string, HubFile[] | Record<string, HubFile[]>>): Promise<{ dir: string; env: Record<string, string>; hub: LoopbackHub }> {
  const entries = Object.entries(repos).map(([name, commits]): [string, HubRepo] => {
    const byCommit = Array.isArray(commits) ? { [COMMIT_1]: commits } : commits;
    const refs: Record<string, string> = Array.isArray(commits) ? { main: COMMIT_1 } : { main: COMMIT_1, v2: COMMIT_2 };
    return [name, { type: 'model', refs, commits: byCommit }];
  });
  hub = await startHub(Object.fromEntries(entries));
  const dir = makeTempDir();
  writeFileSync(join(dir, 'publisher.pub'), publisher.publicPem);
  writeFileSync(join(dir, 'stranger.pub'), stranger.publicPem);
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, 'hf-cache'), HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '', HF_HUB_OFFLINE: '' };
  return { dir, env, hub };
}

type Locked = { artifacts: Record<string, { files: { path: string }[]; signature?: { bundle: string; bundleSha256: string; path?: string; format: string; signer: Record<string, unknown> } }> };
const readLock = (dir: string): Locked => JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as Locked;

function policyFor(hubEndpoint: string, signer = 'publisher.pub'): string {
  return ['version: 1', 'signers:', `  acme: { key: ${signer} }`, 'rules:', `  - match: { source: ${hubEndpoint}/acme/ }`, '    require: { signedBy: [acme] }', ''].join('\n');
}

/** Requests that downloaded an LFS file's bytes rather than a safetensors header's few. */
function weightDownloads(hub: LoopbackHub): string[] {
  return hub.requests.filter((r) => r.server === 'cdn' && !/^bytes=\d+-\d+$/.test(String(r.headers.range ?? ''))).map((r) => r.path);
}

describe('aisc lock hf://: the publisher\'s model.sig checked against the Hub listing, no weight downloaded', () => {
  it('records the signer from the listing digests alone, keeps the bundle beside the lockfile, and verify re-checks it offline after fetch', async () => {
    const signed = [...MODEL, { path: 'model.sig', content: await signFiles(MODEL, publisher) }];
    const { dir, env, hub } = await setup({ 'acme/signed': signed });
    const lock = await runAiscAsync(['lock', 'hf://acme/signed', '--key', 'publisher.pub'], dir, env);
    expect(lock.stderr).not.toMatch(/aisc: [A-Z_]+ /);
    expect(lock.status).toBe(0);
    expect(lock.stdout).toMatch(/signed by key sha256:[0-9a-f]{64} \(model-signing, found as model\.sig, bundle \.aisc\/signatures\/[0-9a-f]{64}\.sig\)/);
    expect(weightDownloads(hub)).toEqual([]);
    const artifact = readLock(dir).artifacts.signed;
    // The bundle is not a file of the model: model_signing leaves it out too.
    expect(artifact?.files.map((f) => f.path)).toEqual(['config.json', 'model.safetensors', 'shards/big.bin']);
    expect(artifact?.signature).toMatchObject({ format: 'model-signing', path: 'model.sig', signer: { kind: 'key' } });
    const kept = readFileSync(join(dir, artifact?.signature?.bundle ?? ''));
    expect(sha256(kept)).toBe(artifact?.signature?.bundleSha256);
    expect(kept.equals(signed.at(-1)?.content ?? Buffer.alloc(0))).toBe(true);

    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    const verify = await runAiscAsync(['verify'], dir, { ...env, HF_HUB_OFFLINE: '1' });
    expect(verify.stdout + verify.stderr).not.toMatch(/MANIFEST|SIGN/);
    expect(verify.status).toBe(0);
  });

  it('takes the signer from the policy: a rule on hf:// sources of an org requires it, with no flag given', async () => {
    const signed = [...MODEL, { path: 'model.sig', content: await signFiles(MODEL, publisher) }];
    const { dir, env, hub } = await setup({ 'acme/signed': signed, 'acme/unsigned': MODEL, 'acme/stranger': [...MODEL, { path: 'model.sig', content: await signFiles(MODEL, stranger) }] });
    writeFileSync(join(dir, 'aisc.policy.yaml'), policyFor(hub.endpoint));
    const ok = await runAiscAsync(['lock', 'hf://acme/signed'], dir, env);
    expect(ok.status).toBe(0);
    expect(readLock(dir).artifacts.signed?.signature?.signer).toMatchObject({ kind: 'key' });

    const before = readFileSync(join(dir, 'aisc.lock.json'));
    const unsigned = await runAiscAsync(['lock', 'hf://acme/unsigned'], dir, env);
    expect(unsigned.status).toBe(1);
    expect(unsigned.stderr).toMatch(/^aisc: POLICY_VIOLATION unsigned: rule 1 \(source .*\/acme\/\): requires a signature by acme; the artifact is locked unsigned/m);

    const other = await runAiscAsync(['lock', 'hf://acme/stranger'], dir, env);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/^aisc: SIGNATURE_INVALID .*model\.sig: the publisher's signature does not verify for signer acme/m);
    expect(readFileSync(join(dir, 'aisc.lock.json')).equals(before)).toBe(true);
    expect(weightDownloads(hub)).toEqual([]);
  });

  it('refuses a model.sig over other bytes (exit 1, nothing written); --force records it and verify then fails on it', async () => {
    const other = MODEL.map((file) => (file.path === 'config.json' ? { ...file, content: Buffer.from('{"hidden_size": 65}\n') } : file));
    const { dir, env } = await setup({ 'acme/stale': [...MODEL, { path: 'model.sig', content: await signFiles(other, publisher) }] });
    const refused = await runAiscAsync(['lock', 'hf://acme/stale', '--key', 'publisher.pub'], dir, env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^aisc: MANIFEST_MISMATCH hf:\/\/acme\/stale: model\.sig: the publisher's signature does not verify .*config\.json differs from its signed digest/m);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
    expect(existsSync(join(dir, '.aisc', 'signatures')) ? readdirSync(join(dir, '.aisc', 'signatures')) : []).toEqual([]);

    const forced = await runAiscAsync(['lock', 'hf://acme/stale', '--key', 'publisher.pub', '--force'], dir, env);
    expect(forced.status).toBe(0);
    expect(readLock(dir).artifacts.stale?.signature?.signer).toMatchObject({ kind: 'key' });
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    const verify = await runAiscAsync(['verify'], dir, { ...env, HF_HUB_OFFLINE: '1' });
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/MANIFEST_MISMATCH.*config\.json differs from its signed digest/);
  });

  it('a signer given but no model.sig in the repo is SIGNATURE_MISSING; --signature names another path inside the repo', async () => {
    const { dir, env } = await setup({ 'acme/elsewhere': [...MODEL, { path: 'signatures/release.sig', content: await signFiles(MODEL, publisher, {}) }] });
    const missing = await runAiscAsync(['lock', 'hf://acme/elsewhere', '--key', 'publisher.pub'], dir, env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^aisc: SIGNATURE_MISSING hf:\/\/acme\/elsewhere: a signer was given but no signature was found \(looked for model\.sig at its root/m);
    // model.sig's own path is what the reference signer leaves out: this bundle is over the files without signatures/.
    const named = await runAiscAsync(['lock', 'hf://acme/elsewhere', '--key', 'publisher.pub', '--signature', 'signatures/release.sig'], dir, env);
    expect(named.status).toBe(0);
    expect(readLock(dir).artifacts.elsewhere?.signature).toMatchObject({ path: 'signatures/release.sig' });
    const absent = await runAiscAsync(['lock', 'hf://acme/elsewhere', '--key', 'publisher.pub', '--signature', 'nope.sig'], dir, env);
    expect(absent.status).toBe(2);
  });

  it('a repo locked with --include: model.sig is still found, and the signed files the selection leaves out need not be locked', async () => {
    const signed = [...MODEL, { path: 'model.sig', content: await signFiles(MODEL, publisher) }];
    const { dir, env } = await setup({ 'acme/signed': signed });
    const lock = await runAiscAsync(['lock', 'hf://acme/signed', '--include', '*.safetensors', '--key', 'publisher.pub'], dir, env);
    expect(lock.status).toBe(0);
    const artifact = readLock(dir).artifacts.signed;
    expect(artifact?.files.map((f) => f.path)).toEqual(['model.safetensors']);
    expect(artifact?.signature).toMatchObject({ path: 'model.sig', signer: { kind: 'key' } });
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    const verify = await runAiscAsync(['verify'], dir, { ...env, HF_HUB_OFFLINE: '1' });
    expect(verify.stdout).toContain('verified 1 artifact');
    expect(verify.status).toBe(0);
    // Only the bundle selected: nothing of the model to lock.
    const empty = await runAiscAsync(['lock', 'hf://acme/signed', '--include', '*.gguf', '--key', 'publisher.pub', '--name', 'none'], dir, env);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/^aisc: SOURCE_EMPTY /m);
  });

  it('with nobody named, a key signature is noted as not checked and stays a file of the artifact, so verify still describes the repo exactly', async () => {
    const { dir, env } = await setup({ 'acme/signed': [...MODEL, { path: 'model.sig', content: await signFiles(MODEL, publisher) }] });
    const result = await runAiscAsync(['lock', 'hf://acme/signed'], dir, env);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('signed: hf://acme/signed: model.sig: a key or certificate signature, not checked (name its signer with --key or --certificate-chain');
    expect(readLock(dir).artifacts.signed?.signature).toBeUndefined();
    expect(readLock(dir).artifacts.signed?.files.map((f) => f.path)).toContain('model.sig');
  });

  it('blake2b and shard manifests: the signer and names are checked at lock, every digest by verify once fetched', async () => {
    const other = MODEL.map((file) => (file.path === 'shards/big.bin' ? { ...file, content: Buffer.concat([Buffer.alloc(399_999, 7), Buffer.from([8])]) } : file));
    const { dir, env } = await setup({
      'acme/sharded': [...MODEL, { path: 'model.sig', content: await signFiles(MODEL, publisher, { hashType: 'blake2b', shardSize: 100_000 }) }],
      'acme/stale': [...MODEL, { path: 'model.sig', content: await signFiles(other, publisher, { hashType: 'blake2b', shardSize: 100_000 }) }],
    });
    for (const repo of ['sharded', 'stale']) {
      const lock = await runAiscAsync(['lock', `hf://acme/${repo}`, '--key', 'publisher.pub'], dir, env);
      expect(lock.status).toBe(0);
      expect(lock.stderr).toContain("its blake2b shard digests cannot be derived from the origin's SHA-256 listing");
    }
    expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
    const verify = await runAiscAsync(['verify'], dir, { ...env, HF_HUB_OFFLINE: '1' });
    expect(verify.stdout).toMatch(/^ok +sharded \(model\)/m);
    // The last shard of the stale one's weights is not what was signed.
    expect(verify.stdout).toMatch(/MANIFEST_MISMATCH: .*shards\/big\.bin differs from its signed blake2b digest of bytes 300000-400000/);
    expect(verify.status).toBe(1);
  });

  it('a Sigstore keyless model.sig with nobody named: checked to Sigstore\'s roots and its identity recorded; a policy naming another identity refuses it', async () => {
    const sigstore = await startSigstoreInstance();
    try {
      // The reference signer's statement, signed keylessly (Fulcio certificate, Rekor entry) on a Sigstore on loopback.
      const reference = JSON.parse((await signFiles(MODEL, publisher)).toString('utf8')) as { dsseEnvelope: { payload: string } };
      const token = makeIdentityToken({ iss: 'https://oidc.example.test', sub: 'release-job', email: 'release@acme.test', email_verified: true });
      const keyless = await signPayloadKeyless(Buffer.from(reference.dsseEnvelope.payload, 'base64'), { fulcioUrl: sigstore.url, rekorUrl: sigstore.url, identityToken: token });
      const { dir, env, hub } = await setup({ 'acme/keyless': [...MODEL, { path: 'model.sig', content: Buffer.from(JSON.stringify(keyless)) }] });
      writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
      const policy = (identity: string): string => ['version: 1', 'signers:', `  acme: { identity: ${identity}, issuer: https://oidc.example.test }`, 'rules:', `  - match: { source: ${hub.endpoint}/acme/ }`, '    require: { signedBy: [acme] }', ''].join('\n');
      writeFileSync(join(dir, 'aisc.policy.yaml'), policy('mallory@acme.test'));
      const refused = await runAiscAsync(['lock', 'hf://acme/keyless', '--trusted-root', 'trusted_root.json'], dir, env);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/^aisc: SIGNER_MISMATCH .*does not verify for signer acme .*signed by "release@acme.test"; expected identity "mallory@acme.test"/m);
      rmSync(join(dir, 'aisc.policy.yaml'));
      const anyone = await runAiscAsync(['lock', 'hf://acme/keyless', '--trusted-root', 'trusted_root.json'], dir, env);
      expect(anyone.status).toBe(0);
      expect(anyone.stdout).toContain('signed by release@acme.test (issuer https://oidc.example.test) (model-signing, found as model.sig');
      expect(readLock(dir).artifacts.keyless?.signature?.signer).toEqual({ kind: 'keyless', identity: 'release@acme.test', issuer: 'https://oidc.example.test' });
      // Now a policy for the recorded identity: verify holds the lockfile to it, offline.
      writeFileSync(join(dir, 'aisc.policy.yaml'), policy('release@acme.test'));
      expect((await runAiscAsync(['fetch'], dir, env)).status).toBe(0);
      expect((await runAiscAsync(['verify'], dir, { ...env, HF_HUB_OFFLINE: '1' })).status).toBe(0);
    } finally {
      await sigstore.close();
    }
  });

  it('diff shows the publisher changing as signer-changed, beside the commit that moved', async () => {
    const next = MODEL.map((file) => (file.path === 'config.json' ? { ...file, content: Buffer.from('{"hidden_size": 65}\n') } : file));
    const { dir, env } = await setup({
      'acme/moving': { [COMMIT_1]: [...MODEL, { path: 'model.sig', content: await signFiles(MODEL, publisher) }], [COMMIT_2]: [...next, { path: 'model.sig', content: await signFiles(next, stranger) }] },
    });
    expect((await runAiscAsync(['lock', 'hf://acme/moving', '--key', 'publisher.pub'], dir, env)).status).toBe(0);
    writeFileSync(join(dir, 'base.lock.json'), readFileSync(join(dir, 'aisc.lock.json')));
    expect((await runAiscAsync(['lock', 'hf://acme/moving@v2', '--key', 'stranger.pub'], dir, env)).status).toBe(0);
    const diff = await runAiscAsync(['diff', 'base.lock.json', 'aisc.lock.json', '--format', 'json'], dir, env);
    const changes = (JSON.parse(diff.stdout) as { changes: { class: string; summary: string }[] }).changes;
    expect(changes.map((c) => c.class)).toEqual(expect.arrayContaining(['revision-changed', 'signer-changed']));
    expect(changes.find((c) => c.class === 'signer-changed')?.summary).toMatch(/^signer: key sha256:[0-9a-f]{64} → key sha256:[0-9a-f]{64}$/);
  });
});

describe('aisc lock FOLDER: model.sig at its root found, checked, left out of the files', () => {
  async function signedFolder(): Promise<{ dir: string; model: string }> {
    const dir = makeTempDir();
    const model = join(dir, 'model');
    mkdirSync(join(model, 'sub'), { recursive: true });
    writeFileSync(join(model, 'config.json'), '{"a": 1}\n');
    writeFileSync(join(model, 'sub', 'w.bin'), Buffer.alloc(5000, 3));
    writeFileSync(join(model, 'model.sig'), await signOmsReference(model, { key: publisher.privateKey }));
    writeFileSync(join(dir, 'publisher.pub'), publisher.publicPem);
    writeFileSync(join(dir, 'stranger.pub'), stranger.publicPem);
    return { dir, model };
  }

  it('records the signer in place (the bundle stays in the folder) and verify passes without calling model.sig an extra file', async () => {
    const { dir } = await signedFolder();
    const lock = await runAiscAsync(['lock', 'model', '--kind', 'model', '--key', 'publisher.pub'], dir);
    expect(lock.status).toBe(0);
    const artifact = readLock(dir).artifacts.model;
    expect(artifact?.signature).toMatchObject({ bundle: 'model/model.sig', path: 'model.sig' });
    expect(artifact?.files.map((f) => f.path)).toEqual(['config.json', 'sub/w.bin']);
    const verify = await runAiscAsync(['verify'], dir);
    expect(verify.stdout).not.toContain('EXTRA_FILE');
    expect(verify.status).toBe(0);
  });

  it('a single file: FILE.sigstore.json beside it (what cosign sign-blob --bundle and aisc sign write) is found and checked', async () => {
    const { dir } = await signedFolder();
    writeFileSync(join(dir, 'weights.gguf.pem'), publisher.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'weights.gguf'), Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60, 0)]));
    expect((await runAiscAsync(['sign', 'weights.gguf', '--key', 'weights.gguf.pem'], dir)).status).toBe(0);
    const lock = await runAiscAsync(['lock', 'weights.gguf', '--kind', 'model', '--key', 'publisher.pub', '--force'], dir);
    expect(lock.stdout).toContain('(message-signature, bundle weights.gguf.sigstore.json)');
    expect(readLock(dir).artifacts['weights.gguf']?.signature).toMatchObject({ bundle: 'weights.gguf.sigstore.json', format: 'message-signature' });
    expect(readLock(dir).artifacts['weights.gguf']?.signature?.path).toBeUndefined();
    const wrong = await runAiscAsync(['lock', 'weights.gguf', '--kind', 'model', '--key', 'stranger.pub', '--name', 'other', '--force'], dir);
    expect(wrong.status).toBe(0);
    expect(wrong.stderr).toContain('other: weights.gguf.sigstore.json: signature verification failed; locked unsigned (--force)');
    expect(readLock(dir).artifacts.other?.signature).toBeUndefined();
  });

  it('a folder locked with nobody to check its key-signed model.sig keeps it as a file: verify passes, no EXTRA_FILE', async () => {
    const { dir } = await signedFolder();
    const lock = await runAiscAsync(['lock', 'model', '--kind', 'model'], dir);
    expect(lock.status).toBe(0);
    expect(lock.stderr).toContain('locked as a file of the artifact');
    expect(readLock(dir).artifacts.model?.files.map((f) => f.path)).toEqual(['config.json', 'model.sig', 'sub/w.bin']);
    expect((await runAiscAsync(['verify'], dir)).status).toBe(0);
  });

  it('a lockfile cannot name another file the signature\'s path to hide it: only the recorded bundle is left out, and diff shows the move', async () => {
    const { dir, model } = await signedFolder();
    expect((await runAiscAsync(['lock', 'model', '--kind', 'model', '--key', 'publisher.pub'], dir)).status).toBe(0);
    writeFileSync(join(dir, 'base.lock.json'), readFileSync(join(dir, 'aisc.lock.json')));
    // The pull request moves the bundle beside the lockfile and points signature.path at a new file.
    mkdirSync(join(dir, '.aisc', 'signatures'), { recursive: true });
    writeFileSync(join(dir, '.aisc', 'signatures', 'x.sig'), readFileSync(join(model, 'model.sig')));
    rmSync(join(model, 'model.sig'));
    writeFileSync(join(model, 'modeling_evil.py'), 'import os\nos.system("id")\n');
    const text = readFileSync(join(dir, 'aisc.lock.json'), 'utf8').replace('"bundle": "model/model.sig"', '"bundle": ".aisc/signatures/x.sig"').replace('"path": "model.sig"', '"path": "modeling_evil.py"');
    writeFileSync(join(dir, 'aisc.lock.json'), text);
    const verify = await runAiscAsync(['verify'], dir);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/EXTRA_FILE modeling_evil\.py: not in the lockfile/);
    const diff = await runAiscAsync(['diff', 'base.lock.json', 'aisc.lock.json'], dir);
    expect(diff.stdout).toMatch(/signer-changed.*its bundle is now found as modeling_evil\.py \(was model\.sig\)/);
  });

  it('a bundle that cannot be read as OMS names where it is', async () => {
    const { dir, model } = await signedFolder();
    const bundle = JSON.parse(readFileSync(join(model, 'model.sig'), 'utf8')) as { dsseEnvelope: { payload: string; signatures: { sig: string }[] } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as { predicate: { serialization: Record<string, unknown> } };
    statement.predicate.serialization.hash_type = 'sha512';
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    writeFileSync(join(model, 'model.sig'), JSON.stringify(bundle));
    const lock = await runAiscAsync(['lock', 'model', '--kind', 'model', '--key', 'publisher.pub'], dir);
    expect(lock.status).toBe(2);
    expect(lock.stderr).toMatch(/^aisc: BUNDLE_UNSUPPORTED model\/model\.sig: .*hash_type "sha512" is not supported/m);
  });

  it('a lockfile edited to claim another key than the one that verifies is SIGNER_MISMATCH at verify', async () => {
    const { dir } = await signedFolder();
    expect((await runAiscAsync(['lock', 'model', '--kind', 'model', '--key', 'publisher.pub'], dir)).status).toBe(0);
    // The pull request keeps the publisher's key but claims a fingerprint the policy trusts.
    const text = readFileSync(join(dir, 'aisc.lock.json'), 'utf8');
    const fingerprint = /"keyFingerprint": "([0-9a-f]{64})"/.exec(text)?.[1] ?? '';
    writeFileSync(join(dir, 'aisc.lock.json'), text.replace(fingerprint, 'f'.repeat(64)));
    const verify = await runAiscAsync(['verify'], dir);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/SIGNER_MISMATCH.*the lockfile records key sha256:f{64} as the signer; the bundle verifies for key sha256:[0-9a-f]{64}/);
  });

  it('a policy signer that is a private CA: certificate signatures recorded with their CA, a foreign CA slipped into the lockfile refused', async () => {
    const { dir, model } = await signedFolder();
    const ca = makeCertificateSigner(dir);
    writeFileSync(join(model, 'model.sig'), await signOmsReference(model, { key: ca.leafKey, certificateChain: [ca.leafPem] }));
    writeFileSync(join(dir, 'aisc.policy.yaml'), ['version: 1', 'signers:', '  vendor: { certificateChain: ca.pem, subject: CN=model-publisher }', 'rules:', '  - match: { kind: model }', '    require: { signedBy: [vendor] }', ''].join('\n'));
    const lock = await runAiscAsync(['lock', 'model', '--kind', 'model'], dir);
    expect(lock.stderr).toBe('');
    expect(lock.status).toBe(0);
    expect(readLock(dir).artifacts.model?.signature?.signer).toMatchObject({ kind: 'certificate', subject: 'CN=model-publisher' });
    expect((await runAiscAsync(['verify'], dir)).status).toBe(0);
    // Another CA added to the recorded anchors could be the one a forged chain ends at.
    const other = makeCertificateSigner(join(dir, 'other'));
    const lockfile = readLock(dir) as unknown as { artifacts: Record<string, { signature: { signer: { anchors: string[] } } }> };
    lockfile.artifacts.model?.signature.signer.anchors.push(other.caPem);
    writeFileSync(join(dir, 'aisc.lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
    const verify = await runAiscAsync(['verify'], dir);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain('POLICY_SIGNER');
  });
});

/** A CA and a code-signing leaf under it, made by openssl. */
function makeCertificateSigner(dir: string): { caPem: string; leafPem: string; leafKey: string } {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=vendor-ca', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=model-publisher']);
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1', '-extfile', 'leaf.ext']);
  return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), leafPem: readFileSync(join(dir, 'leaf.pem'), 'utf8'), leafKey: readFileSync(join(dir, 'leaf.key'), 'utf8') };
}
