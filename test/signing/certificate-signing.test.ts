import { createPrivateKey, createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dsse } from '@sigstore/core';
import { describe, expect, it } from 'vitest';
import { verifyCertificateChain } from '../../src/signing/certificate.js';
import { runAisc } from '../helpers/cli.js';
import { runAiscInProcess } from '../helpers/cli-in-process.js';
import { makeModel } from '../helpers/model.js';
import { signOmsReference, verifyOmsReference } from '../helpers/oms-reference.js';
import { makeIssued, makeSelfSigned, makeThreeLevel, type Curve, type Issued } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/temp.js';

interface CertificateBundle {
  mediaType: string;
  verificationMaterial: { x509CertificateChain: { certificates: { rawBytes: string }[] }; tlogEntries: unknown[] };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string; keyid: string }[] };
}

const CURVE_HASH = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' } as const;
const der = (issued: Issued): string => new X509Certificate(issued.pem).raw.toString('base64');
const readBundle = (path: string): CertificateBundle => JSON.parse(readFileSync(path, 'utf8')) as CertificateBundle;

/** The three shapes of chain: what the bundle carries and what the verifier trusts. */
function makeShape(dir: string, shape: string, curve: Curve): { leaf: Issued; chain: Issued[]; anchor: Issued } {
  if (shape === 'self-signed leaf') {
    // A leaf that is its own anchor: not a CA, no keyCertSign, as a team without a CA makes one.
    const leaf = makeSelfSigned(dir, 'leaf', curve, ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = codeSigning']);
    return { leaf, chain: [], anchor: leaf };
  }
  if (shape === 'CA → leaf') {
    const ca = makeSelfSigned(dir, 'ca', curve);
    return { leaf: makeIssued(dir, 'leaf', curve, ca), chain: [], anchor: ca };
  }
  const { root, intermediate, leaf } = makeThreeLevel(dir, curve);
  return { leaf, chain: [intermediate], anchor: root };
}

describe('aisc sign --key --certificate: model_signing certificate bundles that aisc verifies', () => {
  const shapes = ['self-signed leaf', 'CA → leaf', 'root → intermediate → leaf'];
  const cases = shapes.flatMap((shape) => (['P-256', 'P-384', 'P-521'] as const).map((curve) => [shape, curve] as const));

  it.each(cases)('%s on %s: leaf then chain, the curve\'s hash, verified by aisc and by the reference', async (shape, curve) => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    const { leaf, chain, anchor } = makeShape(dir, shape, curve);
    const bundlePath = join(dir, 'model.sig');
    const signed = await runAiscInProcess(['sign', model, '--key', leaf.key, '--certificate', leaf.cert, ...chain.flatMap((c) => ['--certificate-chain', c.cert]), '--output', bundlePath]);
    expect(signed).toMatchObject({ status: 0, stderr: `aisc: wrote ${bundlePath}\n` });

    const bundle = readBundle(bundlePath);
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial).toEqual({ x509CertificateChain: { certificates: [leaf, ...chain].map((c) => ({ rawBytes: der(c) })) }, tlogEntries: [] });
    expect(bundle.dsseEnvelope.signatures).toEqual([{ sig: expect.any(String) as unknown, keyid: '' }]);
    // The DSSE signature is over the PAE with the curve's own hash, as model_signing signs.
    const pae = dsse.preAuthEncoding(bundle.dsseEnvelope.payloadType, Buffer.from(bundle.dsseEnvelope.payload, 'base64'));
    const publicKey = createPublicKey(createPrivateKey(readFileSync(leaf.key)));
    expect(verify(CURVE_HASH[curve], pae, publicKey, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64'))).toBe(true);
    if (curve !== 'P-256') expect(verify('sha256', pae, publicKey, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64'))).toBe(false);

    await expect(runAiscInProcess(['verify-signature', model, '--bundle', bundlePath, '--certificate-chain', anchor.cert])).resolves.toMatchObject({ status: 0, stdout: expect.stringContaining('signed by certificate') as unknown });
    await expect(verifyOmsReference(model, readFileSync(bundlePath), { anchors: [new X509Certificate(anchor.pem)], signaturePath: 'none' })).resolves.toMatchObject({ ok: true });

    // A changed file is a finding, whoever signed.
    writeFileSync(join(model, 'config.json'), '{"hidden_size": 17}\n');
    await expect(runAiscInProcess(['verify-signature', model, '--bundle', bundlePath, '--certificate-chain', anchor.cert])).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining('MANIFEST_MISMATCH config.json') as unknown });
  });

  it('refuses another anchor, and the intermediate as its own anchor is enough (it is trusted, as given)', async () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    const { root, intermediate, leaf } = makeThreeLevel(dir, 'P-256');
    const stranger = makeSelfSigned(dir, 'stranger', 'P-256');
    const bundle = join(dir, 'model.sig');
    expect((await runAiscInProcess(['sign', model, '--key', leaf.key, '--certificate', leaf.cert, '--certificate-chain', intermediate.cert, '--output', bundle])).status).toBe(0);
    await expect(runAiscInProcess(['verify-signature', model, '--bundle', bundle, '--certificate-chain', stranger.cert])).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining('CERTIFICATE_INVALID') as unknown });
    await expect(runAiscInProcess(['verify-signature', model, '--bundle', bundle, '--certificate-chain', intermediate.cert])).resolves.toMatchObject({ status: 0 });
    await expect(runAiscInProcess(['verify-signature', model, '--bundle', bundle, '--certificate-chain', root.cert])).resolves.toMatchObject({ status: 0 });
  });

  it('signs a single file as a one-file model (as model_signing does), verifiable as one', () => {
    const dir = makeTempDir();
    const { leaf, anchor } = makeShape(dir, 'CA → leaf', 'P-384');
    const file = join(dir, 'weights.bin');
    writeFileSync(file, Buffer.alloc(5000, 3));
    const result = runAisc(['sign', 'weights.bin', '--key', leaf.key, '--certificate', leaf.cert], dir);
    expect(result).toMatchObject({ status: 0, stderr: 'aisc: wrote weights.bin.sigstore.json\n' });
    const bundle = readBundle(join(dir, 'weights.bin.sigstore.json'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as { subject: { name: string }[]; predicate: { resources: { name: string }[] } };
    // '.' is what model_signing names a one-file model's resource, and what its verifier recomputes.
    expect(statement).toMatchObject({ subject: [{ name: 'weights.bin' }], predicate: { resources: [{ name: '.' }] } });
    expect(runAisc(['verify-signature', 'weights.bin', '--bundle', 'weights.bin.sigstore.json', '--certificate-chain', anchor.cert], dir)).toMatchObject({ status: 0 });
    writeFileSync(file, Buffer.alloc(5000, 4));
    expect(runAisc(['verify-signature', 'weights.bin', '--bundle', 'weights.bin.sigstore.json', '--certificate-chain', anchor.cert], dir)).toMatchObject({ status: 1 });
  });
});

describe('aisc sign --certificate refuses, one line and exit 2, before anything is written', () => {
  async function refuse(args: string[], dir: string, code: string, message: RegExp): Promise<void> {
    const output = join(dir, 'out.sig');
    const result = await runAiscInProcess(['sign', ...args, '--output', output]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^aisc: ${code} .*${message.source}.*\\n$`));
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(() => readFileSync(output)).toThrow();
  }

  it('a key that is not the certificate\'s, an Ed25519 key, a certificate that does not parse', async () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    const { leaf, anchor } = makeShape(dir, 'CA → leaf', 'P-256');
    await refuse([model, '--key', anchor.key, '--certificate', leaf.cert], dir, 'KEY_INVALID', /does not match the public key of the certificate/);
    const ed25519 = join(dir, 'ed.pem');
    writeFileSync(ed25519, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await refuse([model, '--key', ed25519, '--certificate', leaf.cert], dir, 'KEY_UNSUPPORTED', /ECDSA P-256, P-384 or P-521 key .*got ed25519/);
    const garbled = join(dir, 'garbled.pem');
    writeFileSync(garbled, leaf.pem.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA'));
    await refuse([model, '--key', leaf.key, '--certificate', garbled], dir, 'CERTIFICATE_INVALID', /certificate 1 does not parse/);
    await refuse([model, '--key', leaf.key, '--certificate', leaf.key], dir, 'CERTIFICATE_INVALID', /expected PEM certificates/);
    await refuse([model, '--key', leaf.key, '--certificate', join(dir, 'nowhere.pem')], dir, 'FILE_NOT_FOUND', /no such certificate file/);
  });

  it('a chain whose links do not connect: the wrong issuer, the wrong order, an issuer that is no CA', async () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    const { root, intermediate, leaf } = makeThreeLevel(dir, 'P-384');
    await refuse([model, '--key', leaf.key, '--certificate', leaf.cert, '--certificate-chain', root.cert], dir, 'CERTIFICATE_INVALID', /"CN=leaf" is not issued by the next certificate of the chain, "CN=root"/);
    const reversed = join(dir, 'reversed.pem');
    writeFileSync(reversed, root.pem + intermediate.pem);
    await refuse([model, '--key', leaf.key, '--certificate', leaf.cert, '--certificate-chain', reversed], dir, 'CERTIFICATE_INVALID', /is not issued by the next certificate/);
    // A whole chain in one file, then the root in another: accepted (each file may hold several).
    const both = join(dir, 'both.pem');
    writeFileSync(both, intermediate.pem);
    expect((await runAiscInProcess(['sign', model, '--key', leaf.key, '--certificate', leaf.cert, '--certificate-chain', both, '--certificate-chain', root.cert, '--output', join(dir, 'ok.sig')])).status).toBe(0);

    const notCa = makeIssued(dir, 'not-a-ca', 'P-384', root);
    const underNotCa = makeIssued(dir, 'under-not-a-ca', 'P-384', notCa);
    await refuse([model, '--key', underNotCa.key, '--certificate', underNotCa.cert, '--certificate-chain', notCa.cert], dir, 'CERTIFICATE_INVALID', /is not issued by the next certificate/);
  });

  it('a leaf that is expired, or not for signing code', async () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    const ca = makeSelfSigned(dir, 'ca', 'P-256');
    const expired = makeIssued(dir, 'expired', 'P-256', ca, { start: '20200101000000Z', end: '20210101000000Z' });
    await refuse([model, '--key', expired.key, '--certificate', expired.cert], dir, 'CERTIFICATE_INVALID', /"CN=expired" is valid from .* to .*2021/);
    const tls = makeIssued(dir, 'tls', 'P-256', ca, { extensions: ['keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth'] });
    await refuse([model, '--key', tls.key, '--certificate', tls.cert], dir, 'CERTIFICATE_INVALID', /is not for code signing \(extended key usage: 1\.3\.6\.1\.5\.5\.7\.3\.1\)/);
  });

  it('flags that do not go together', async () => {
    const dir = makeTempDir();
    const model = makeModel(dir);
    const { leaf } = makeShape(dir, 'CA → leaf', 'P-256');
    await refuse([model, '--certificate', leaf.cert], dir, 'USAGE', /--certificate goes with --key/);
    await refuse([model, '--keyless', '--certificate', leaf.cert], dir, 'USAGE', /--certificate does not go with --keyless/);
    await refuse([model, '--key', leaf.key, '--certificate-chain', leaf.cert], dir, 'USAGE', /--certificate-chain goes with --certificate/);
  });
});

describe('what a verifier accepts of a certificate bundle it did not write (made by the reference signer)', () => {
  async function verifyLeaf(extensions: readonly string[], dates: { start?: string; end?: string } = {}): Promise<{ status: number | null; stdout: string }> {
    const dir = makeTempDir();
    const model = makeModel(dir);
    const ca = makeSelfSigned(dir, 'ca', 'P-256');
    const leaf = makeIssued(dir, 'leaf', 'P-256', ca, { extensions, ...dates });
    const bundle = join(dir, 'model.sig');
    writeFileSync(bundle, await signOmsReference(model, { key: readFileSync(leaf.key, 'utf8'), certificateChain: [leaf.pem], signaturePath: null }));
    return runAiscInProcess(['verify-signature', model, '--bundle', bundle, '--certificate-chain', ca.cert]);
  }

  it('takes extended key usage codeSigning, or digitalSignature with no extended key usage (as model_signing)', async () => {
    await expect(verifyLeaf(['keyUsage = critical,digitalSignature', 'extendedKeyUsage = codeSigning'])).resolves.toMatchObject({ status: 0 });
    await expect(verifyLeaf(['extendedKeyUsage = codeSigning'])).resolves.toMatchObject({ status: 0 });
    await expect(verifyLeaf(['keyUsage = critical,digitalSignature'])).resolves.toMatchObject({ status: 0 });
  });

  it('refuses a TLS server certificate, a key not for signatures, a leaf with no usage at all, an expired leaf', async () => {
    await expect(verifyLeaf(['keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth'])).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining('CERTIFICATE_INVALID: the signing certificate is not for code signing') as unknown });
    await expect(verifyLeaf(['keyUsage = critical,keyEncipherment', 'extendedKeyUsage = codeSigning'])).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining('without digitalSignature') as unknown });
    await expect(verifyLeaf(['basicConstraints = CA:FALSE'])).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining('names neither') as unknown });
    await expect(verifyLeaf(['keyUsage = critical,digitalSignature', 'extendedKeyUsage = codeSigning'], { start: '20200101000000Z', end: '20210101000000Z' })).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining('is valid from') as unknown });
  });

  it('trusts a self-signed leaf given as its own anchor, and only that leaf', () => {
    const dir = makeTempDir();
    const leaf = new X509Certificate(makeSelfSigned(dir, 'self', 'P-256', ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature']).pem);
    const other = new X509Certificate(makeSelfSigned(dir, 'other', 'P-256', ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature']).pem);
    expect(() => verifyCertificateChain(leaf, [], [new X509Certificate(leaf.raw)], new Date())).not.toThrow();
    expect(() => verifyCertificateChain(leaf, [], [other], new Date())).toThrow(expect.objectContaining({ code: 'CERTIFICATE_INVALID' }) as Error);
    // Self-signed but carried in the bundle, not given: no anchor.
    expect(() => verifyCertificateChain(leaf, [leaf], [other], new Date())).toThrow(expect.objectContaining({ code: 'CERTIFICATE_INVALID' }) as Error);
  });
});
