import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { runAiscInProcess } from '../helpers/cli-in-process.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { makeModel } from '../helpers/model.js';
import { signOmsReference, verifyOmsReference, type OmsReferenceHash } from '../helpers/oms-reference.js';
import { makeSelfSigned, makeThreeLevel } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/temp.js';

/**
 * aisc against an OMS implementation written from the spec alone (test/helpers/oms-reference.ts)
 * and against the spec's own JSON Schemas: what aisc signs, the reference verifies and the
 * schemas accept; what the reference signs, aisc verifies.
 */

const SCHEMAS = join(FIXTURES, 'model-signing-spec/schemas/v1.0');

/** The four OMS schemas in one Ajv (they $ref each other by $id); read from ../shared, never skipped. */
function loadSchemas(): (bundleBytes: Buffer) => string[] {
  const ajv = new Ajv2020({ allErrors: true });
  for (const name of ['predicate', 'statement', 'envelope', 'bundle']) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, `${name}.schema.json`), 'utf8')) as object);
  const validator = (id: string) => {
    const validate = ajv.getSchema(`https://model_signing/${id}/v1.0/schema`);
    if (!validate) throw new Error(`no schema ${id}`);
    return (value: unknown): string[] => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${id}${e.instancePath} ${e.message ?? ''}`));
  };
  const [bundle, envelope, statement, predicate] = ['bundle', 'envelope', 'statement', 'predicate'].map(validator) as [ReturnType<typeof validator>, ReturnType<typeof validator>, ReturnType<typeof validator>, ReturnType<typeof validator>];
  return (bytes) => {
    const json = JSON.parse(bytes.toString('utf8')) as { dsseEnvelope: { payload: string } };
    const decoded = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8')) as { predicate: unknown };
    return [...bundle(json), ...envelope(json.dsseEnvelope), ...statement(decoded), ...predicate(decoded.predicate)];
  };
}

function writeKeys(dir: string, curve: 'P-256' | 'P-384' | 'P-521' | 'Ed25519'): { privatePem: string; publicPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = curve === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: curve });
  const privatePem = join(dir, `${curve}.pem`);
  const publicPem = join(dir, `${curve}.pub`);
  writeFileSync(privatePem, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicPem, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privatePem, publicPem, publicKey };
}

/** A model with what the spec singles out: a nested file, an empty one, a ':' in a name, git metadata. */
function makeSpecModel(dir: string): string {
  const model = makeModel(dir);
  writeFileSync(join(model, 'empty.txt'), '');
  writeFileSync(join(model, 'notes:v2.txt'), 'a colon in the name\n');
  mkdirSync(join(model, '.git'));
  writeFileSync(join(model, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return model;
}

describe('the OMS JSON Schemas (read from ../shared/fixtures/model-signing-spec)', () => {
  it('are there and reject what they should: a sanity check of the validator itself', () => {
    const validate = loadSchemas();
    const vector = readFileSync(join(FIXTURES, 'model-signing-spec/test-vectors/v1.0/valid/key.bundle.json'));
    expect(validate(vector)).toEqual([]);
    const broken = JSON.parse(vector.toString()) as { dsseEnvelope: { signatures: object[] } };
    broken.dsseEnvelope.signatures = [];
    expect(validate(Buffer.from(JSON.stringify(broken)))).not.toEqual([]);
  });
});

describe('bundles aisc signs: the schemas accept them and the reference verifies them', () => {
  it.each(['P-256', 'P-384', 'P-521', 'Ed25519'] as const)('key mode, %s', async (curve) => {
    const dir = makeTempDir();
    const model = makeSpecModel(dir);
    const keys = writeKeys(dir, curve);
    const bundle = join(model, 'model.sig');
    expect((await runAiscInProcess(['sign', model, '--key', keys.privatePem, '--output', bundle])).status).toBe(0);
    const bytes = readFileSync(bundle);
    expect(loadSchemas()(bytes)).toEqual([]);
    await expect(verifyOmsReference(model, bytes, { publicKey: keys.publicKey })).resolves.toMatchObject({ ok: true });
    writeFileSync(join(model, 'empty.txt'), 'no longer empty');
    await expect(verifyOmsReference(model, bytes, { publicKey: keys.publicKey })).resolves.toEqual({ ok: false, reason: 'empty.txt: digest differs' });
  });

  it('certificate mode (leaf + intermediate, root as anchor), with --ignore-paths signed', async () => {
    const dir = makeTempDir();
    const model = makeSpecModel(dir);
    mkdirSync(join(model, 'scratch'));
    writeFileSync(join(model, 'scratch', 'tmp.bin'), 'local');
    const { root, intermediate, leaf } = makeThreeLevel(dir, 'P-384');
    const bundle = join(dir, 'model.sig');
    const args = ['sign', model, '--key', leaf.key, '--certificate', leaf.cert, '--certificate-chain', intermediate.cert, '--ignore-paths', join(model, 'scratch'), '--output', bundle];
    expect((await runAiscInProcess(args)).status).toBe(0);
    const bytes = readFileSync(bundle);
    expect(loadSchemas()(bytes)).toEqual([]);
    await expect(verifyOmsReference(model, bytes, { anchors: [new X509Certificate(root.pem)] })).resolves.toMatchObject({ ok: true });
    const stranger = makeSelfSigned(dir, 'stranger', 'P-384');
    await expect(verifyOmsReference(model, bytes, { anchors: [new X509Certificate(stranger.pem)] })).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('no issuer') as unknown });
  });

  it("a one-file model: schema-valid; its resource is '.', as model_signing names it, where the spec says the basename", async () => {
    const dir = makeTempDir();
    const { root, intermediate, leaf } = makeThreeLevel(dir, 'P-256');
    const file = join(dir, 'weights.bin');
    writeFileSync(file, Buffer.alloc(3000, 9));
    const bundle = join(dir, 'weights.sig');
    expect((await runAiscInProcess(['sign', file, '--key', leaf.key, '--certificate', leaf.cert, '--certificate-chain', intermediate.cert, '--output', bundle])).status).toBe(0);
    expect(loadSchemas()(readFileSync(bundle))).toEqual([]);
    // model_signing's verifier recomputes '.' for a file and compares names: a basename would fail there.
    await expect(verifyOmsReference(file, readFileSync(bundle), { anchors: [new X509Certificate(root.pem)] })).resolves.toEqual({ ok: false, reason: 'resource .: not a canonical path' });
    // aisc reads the spec's form too.
    writeFileSync(bundle, await signOmsReference(file, { key: readFileSync(leaf.key, 'utf8'), certificateChain: [leaf.pem, intermediate.pem] }));
    await expect(runAiscInProcess(['verify-signature', file, '--bundle', bundle, '--certificate-chain', root.cert])).resolves.toMatchObject({ status: 0 });
  });
});

describe('bundles the reference signs: aisc verifies them, and catches a change', () => {
  const hashes: OmsReferenceHash[] = ['sha256', 'blake2b', 'blake3'];
  const cases = hashes.flatMap((hash) => [[hash, undefined], [hash, 100]] as const);

  it.each(cases)('%s, shard size %s (key mode)', async (hashType, shardSize) => {
    const dir = makeTempDir();
    const model = makeSpecModel(dir);
    const keys = writeKeys(dir, 'P-256');
    const bundle = join(model, 'model.sig');
    writeFileSync(bundle, await signOmsReference(model, { key: readFileSync(keys.privatePem, 'utf8'), hashType, shardSize }));
    const statement = JSON.parse(Buffer.from((JSON.parse(readFileSync(bundle, 'utf8')) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString()) as { predicate: { resources: { name: string }[] } };
    const names = statement.predicate.resources.map((r) => r.name);
    expect(names).toContain(shardSize ? 'notes:v2.txt:0:20' : 'notes:v2.txt');
    // Sharded, an empty file has no resource; whole, it has one.
    expect(names.some((n) => n.startsWith('empty.txt'))).toBe(!shardSize);
    const verify = () => runAiscInProcess(['verify-signature', model, '--bundle', bundle, '--key', keys.publicPem]);
    await expect(verify()).resolves.toMatchObject({ status: 0 });
    const weights = join(model, 'model-00002-of-00002.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 1;
    writeFileSync(weights, bytes);
    await expect(verify()).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining(`MANIFEST_MISMATCH model-00002-of-00002.safetensors: content differs from the signed ${hashType} digest`) as unknown });
  });

  it.each(['sha256', 'blake3'] as const)('certificate mode, %s shards', async (hashType) => {
    const dir = makeTempDir();
    const model = makeSpecModel(dir);
    const { root, intermediate, leaf } = makeThreeLevel(dir, 'P-521');
    const bundle = join(dir, 'model.sig');
    writeFileSync(bundle, await signOmsReference(model, { key: readFileSync(leaf.key, 'utf8'), certificateChain: [leaf.pem, intermediate.pem], hashType, shardSize: 64 }));
    await expect(runAiscInProcess(['verify-signature', model, '--bundle', bundle, '--certificate-chain', root.cert])).resolves.toMatchObject({ status: 0 });
    writeFileSync(join(model, 'extra.txt'), 'x');
    await expect(runAiscInProcess(['verify-signature', model, '--bundle', bundle, '--certificate-chain', root.cert])).resolves.toMatchObject({ status: 1, stdout: expect.stringContaining('MANIFEST_MISMATCH extra.txt') as unknown });
  });
});
