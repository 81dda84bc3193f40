import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../src/signing/bundle.js';
import { DsseContent } from '../../src/signing/content.js';
import { toOmsManifest } from '../../src/signing/oms.js';
import { signModel } from '../../src/signing/sign.js';
import { parseStatement } from '../../src/signing/statement.js';
import { getPublicGoodTrustedRoot } from '../../src/signing/trust.js';
import { verifyBundle, type SignerPolicy } from '../../src/signing/verify-bundle.js';
import { verifyModelSignature } from '../../src/signing/verify-model.js';
import { OMS_VECTORS } from '../helpers/fixtures.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

const vector = (name: string): string => join(OMS_VECTORS, name);

async function verifyVector(name: string, policy: SignerPolicy): Promise<unknown> {
  const { bundle } = await readBundle(vector(name), { allowV03CertificateChain: policy.kind === 'certificate' });
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error('not DSSE');
  toOmsManifest(parseStatement(bundle.content.dsseEnvelope));
  return verifyBundle(bundle, new DsseContent(bundle.content.dsseEnvelope), policy);
}

const ibm = (identity: { exact: string } | { regexp: RegExp; source: string }): SignerPolicy => ({
  kind: 'keyless',
  trustedRoot: getPublicGoodTrustedRoot(),
  identity: { identity, issuer: { exact: 'https://sigstore.verify.ibm.com/oauth2' } },
});

function chainCertificate(index: number): X509Certificate {
  const bundle = JSON.parse(readFileSync(vector('valid/certificate.bundle.json'), 'utf8')) as { verificationMaterial: { x509CertificateChain: { certificates: { rawBytes: string }[] } } };
  return new X509Certificate(Buffer.from(bundle.verificationMaterial.x509CertificateChain.certificates[index]!.rawBytes, 'base64'));
}

describe('OpenSSF Model Signing v1.0 test vectors', () => {
  it('verifies the Sigstore (keyless) vector offline against the public-good root', async () => {
    await expect(verifyVector('valid/sigstore.bundle.json', ibm({ exact: 'stefanb@us.ibm.com' }))).resolves.toEqual({
      kind: 'keyless',
      identity: 'stefanb@us.ibm.com',
      issuer: 'https://sigstore.verify.ibm.com/oauth2',
    });
    await expect(verifyVector('valid/sigstore.bundle.json', ibm({ regexp: /^(?:.*@us\.ibm\.com)$/u, source: '.*@us\\.ibm\\.com' }))).resolves.toMatchObject({ kind: 'keyless' });
  });

  it('refuses another identity, and a regexp that only matches part of it', async () => {
    await expect(verifyVector('valid/sigstore.bundle.json', ibm({ exact: 'mallory@us.ibm.com' }))).rejects.toMatchObject({ code: 'SIGNER_MISMATCH' });
    await expect(verifyVector('valid/sigstore.bundle.json', ibm({ regexp: /^(?:stefanb)$/u, source: 'stefanb' }))).rejects.toMatchObject({ code: 'SIGNER_MISMATCH' });
  });

  it('verifies the certificate vector (P-384, SHA-384, as model_signing signs) against its CA', async () => {
    await expect(verifyVector('valid/certificate.bundle.json', { kind: 'certificate', anchors: [chainCertificate(1)] })).resolves.toMatchObject({ kind: 'certificate', subject: 'CN=intermediate-ca' });
    const stranger = makeCa();
    await expect(verifyVector('valid/certificate.bundle.json', { kind: 'certificate', anchors: [stranger] })).rejects.toMatchObject({ code: 'CERTIFICATE_INVALID' });
    await expect(verifyVector('valid/certificate.bundle.json', { kind: 'certificate', anchors: [chainCertificate(1)], now: new Date('2040-01-01') })).rejects.toMatchObject({ code: 'CERTIFICATE_INVALID' });
  });

  it('rejects the key vector signed by a key other than the one given', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    await expect(verifyVector('valid/key.bundle.json', { kind: 'key', key: publicKey, trustedRoot: getPublicGoodTrustedRoot() })).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it.each([
    ['invalid/empty.bundle.json', 'BUNDLE_INVALID'],
    ['invalid/missing-envelope.bundle.json', 'BUNDLE_INVALID'],
    ['invalid/missing-verification-material.bundle.json', 'BUNDLE_INVALID'],
    ['invalid/missing-tlog-entries.bundle.json', 'TLOG_INVALID'],
    ['invalid-payload/wrong-predicate.bundle.json', 'PAYLOAD_INVALID'],
  ])('rejects %s with %s', async (name, code) => {
    await expect(verifyVector(name, ibm({ exact: 'stefanb@us.ibm.com' }))).rejects.toMatchObject({ code });
  });

  it('reads the resources of a vector, checking the subject is their root digest', async () => {
    const { bundle } = await readBundle(vector('valid/key.bundle.json'));
    if (bundle.content.$case !== 'dsseEnvelope') throw new Error('not DSSE');
    const manifest = toOmsManifest(parseStatement(bundle.content.dsseEnvelope));
    expect(manifest.resources.map((r) => r.name)).toEqual(['signme-1', 'signme-2']);
    expect(manifest.ignorePaths).toContain('ignore-me');
  });
});

function makeCa(): X509Certificate {
  const dir = makeTempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/CN=intermediate-ca', '-days', '1'], { stdio: 'ignore' });
  return new X509Certificate(readFileSync(join(dir, 'c.pem')));
}

describe('aisc sign → verify-signature on a model folder', () => {
  const curves: [string, () => { privateKey: KeyObject; publicKey: KeyObject }][] = [
    ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['Ed25519', () => generateKeyPairSync('ed25519')],
  ];

  it.each(curves)('round-trips with %s and catches every change to the files', async (_name, generate) => {
    const { privateKey, publicKey } = generate();
    const root = makeTempDir();
    const model = makeModel(root);
    mkdirSync(join(model, '.git'));
    writeFileSync(join(model, '.git', 'HEAD'), 'x');
    const output = join(model, 'model.sig');
    writeFileSync(output, `${JSON.stringify(await signModel(model, privateKey, { output }))}\n`);
    const policy: SignerPolicy = { kind: 'key', key: publicKey, trustedRoot: getPublicGoodTrustedRoot() };
    await expect(verifyModelSignature(model, output, policy)).resolves.toMatchObject({ ok: true, findings: [] });

    const statement = JSON.parse(Buffer.from((JSON.parse(readFileSync(output, 'utf8')) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString()) as {
      predicate: { resources: { name: string }[]; serialization: { ignore_paths: string[]; method: string } };
    };
    expect(statement.predicate.resources.map((r) => r.name)).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'nested/deeper/notes.txt', 'tokenizer.json']);
    expect(statement.predicate.serialization).toMatchObject({ method: 'files', ignore_paths: expect.arrayContaining(['.git', 'model.sig']) as unknown });

    writeFileSync(join(model, 'config.json'), '{"hidden_size": 99}\n');
    rmSync(join(model, 'tokenizer.json'));
    writeFileSync(join(model, 'extra.pkl'), 'x');
    const report = await verifyModelSignature(model, output, policy);
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => `${f.code} ${f.path ?? ''}`).sort()).toEqual(['MANIFEST_MISMATCH config.json', 'MANIFEST_MISMATCH extra.pkl', 'MANIFEST_MISMATCH tokenizer.json']);
  });

  it('refuses a valid signature by another key', async () => {
    const root = makeTempDir();
    const model = makeModel(root);
    const output = join(root, 'model.sig');
    writeFileSync(output, JSON.stringify(await signModel(model, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, { output })));
    const other: SignerPolicy = { kind: 'key', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, trustedRoot: getPublicGoodTrustedRoot() };
    await expect(verifyModelSignature(model, output, other)).resolves.toMatchObject({ ok: false, findings: [{ code: 'SIGNATURE_INVALID' }] });
  });
});

describe('what model_signing checks in a key bundle', () => {
  it('writes the key hint model_signing expects: SHA-256 of the PEM public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const root = makeTempDir();
    const model = makeModel(root);
    const bundle = (await signModel(model, privateKey, { output: join(root, 'model.sig') })) as { verificationMaterial: { publicKey: { hint: string } } };
    // What Python's cryptography writes for public_bytes(PEM, SubjectPublicKeyInfo), hashed.
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PUBLIC KEY-----\n$/);
    const { createHash } = await import('node:crypto');
    expect(bundle.verificationMaterial.publicKey.hint).toBe(createHash('sha256').update(pem).digest('hex'));
  });
});

describe("OpenSSF Model Signing 'shards' serialization", () => {
  /** A shards statement as model_signing writes it: path:start:end names, a float shard_size. */
  async function signShards(model: string, privateKey: KeyObject, shardSize: number, output: string): Promise<void> {
    const { createHash } = await import('node:crypto');
    const { readdirSync, statSync } = await import('node:fs');
    const files = readdirSync(model, { recursive: true, encoding: 'utf8' })
      .filter((name) => statSync(join(model, name)).isFile() && join(model, name) !== output)
      .sort();
    const resources = files.flatMap((name) => {
      const data = readFileSync(join(model, name));
      const shards = [];
      for (let start = 0; start < data.length; start += shardSize) {
        const end = Math.min(data.length, start + shardSize);
        shards.push({ name: `${name}:${start}:${end}`, algorithm: `sha256-sharded-${shardSize}`, digest: createHash('sha256').update(data.subarray(start, end)).digest('hex') });
      }
      return shards;
    });
    const root = createHash('sha256');
    for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
    const statement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"tiny","digest":{"sha256":"${root.digest('hex')}"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{"serialization":{"method":"shards","hash_type":"sha256","shard_size":${shardSize}.0,"allow_symlinks":false,"ignore_paths":["model.sig"]},"resources":${JSON.stringify(resources)}}}`;
    const { toDsseBundle } = await import('../../src/signing/sign.js');
    writeFileSync(output, JSON.stringify(toDsseBundle(Buffer.from(statement), privateKey)));
  }

  it('verifies every shard, names the one that changed, and catches a size change', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const root = makeTempDir();
    const model = makeModel(root);
    const output = join(model, 'model.sig');
    await signShards(model, privateKey, 256, output);
    const policy: SignerPolicy = { kind: 'key', key: publicKey, trustedRoot: getPublicGoodTrustedRoot() };
    await expect(verifyModelSignature(model, output, policy)).resolves.toMatchObject({ ok: true });
    // Pinned through lock: the shards are read again by range and the signed paths must be the locked ones.
    const { lockArtifacts } = await import('../../src/lock/index.js');
    const lockfile = join(root, 'aisc.lock.json');
    const { locked } = await lockArtifacts([model], { lockfile, kind: 'model', signature: { bundle: output, policy } });
    expect(locked[0]?.artifact.signature).toMatchObject({ format: 'model-signing', signer: { kind: 'key' } });
    writeFileSync(join(model, 'unsigned.txt'), 'x');
    await expect(lockArtifacts([model], { lockfile, kind: 'model', signature: { bundle: output, policy } })).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
    rmSync(join(model, 'unsigned.txt'));

    const shard = join(model, 'model-00001-of-00002.safetensors');
    const bytes = readFileSync(shard);
    bytes[600] = (bytes[600] ?? 0) ^ 1;
    writeFileSync(shard, bytes);
    const changed = await verifyModelSignature(model, output, policy);
    expect(changed.findings).toEqual([expect.objectContaining({ code: 'MANIFEST_MISMATCH', path: 'model-00001-of-00002.safetensors', message: expect.stringContaining('shard 512:768') as unknown })]);

    writeFileSync(join(model, 'config.json'), '{}');
    const resized = await verifyModelSignature(model, output, policy);
    expect(resized.findings).toContainEqual(expect.objectContaining({ path: 'config.json', message: expect.stringContaining('size changed') as unknown }));
  });
});

describe('what the Python tool writes', () => {
  it('accepts a missing keyid and a public key given by rawBytes without a hint', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const root = makeTempDir();
    const model = makeModel(root);
    const bundle = (await signModel(model, privateKey, { output: join(root, 'x') })) as {
      verificationMaterial: { publicKey: Record<string, string> };
      dsseEnvelope: { signatures: Record<string, string>[] };
    };
    delete bundle.dsseEnvelope.signatures[0]?.keyid;
    bundle.verificationMaterial.publicKey = { rawBytes: Buffer.from(publicKey.export({ type: 'spki', format: 'pem' })).toString('base64') };
    writeFileSync(join(root, 'model.sig'), JSON.stringify(bundle));
    const policy: SignerPolicy = { kind: 'key', key: publicKey, trustedRoot: getPublicGoodTrustedRoot() };
    await expect(verifyModelSignature(model, join(root, 'model.sig'), policy)).resolves.toMatchObject({ ok: true });
  });
});
