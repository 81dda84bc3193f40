import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toDsseBundle } from '../../src/signing/sign.js';
import { getPublicGoodTrustedRoot } from '../../src/signing/trust.js';
import type { SignerPolicy } from '../../src/signing/verify-bundle.js';
import { verifyModelSignature } from '../../src/signing/verify-model.js';
import { runAiscInProcess } from '../helpers/cli-in-process.js';
import { makeIssued, makeSelfSigned } from '../helpers/pki.js';
import { makeTempDir } from '../helpers/temp.js';

/**
 * OMS v1.0 (spec/v1.0.md §4–§8, §11), one rule at a time: a statement that keeps every rule
 * verifies; the same statement breaking one rule, signed again with the same key, is refused
 * with the code that names why.
 */

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const policy: SignerPolicy = { kind: 'key', key: publicKey, trustedRoot: getPublicGoodTrustedRoot() };
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

type Json = Record<string, unknown>;
interface Statement {
  _type: string;
  subject: Json[];
  predicateType: string;
  predicate: { resources: Json[]; serialization: Json } & Json;
}

/** A model of two files, 'a' (30 bytes) and 'b/c' (3 bytes). */
function makeTiny(): { dir: string; model: string } {
  const dir = makeTempDir();
  const model = join(dir, 'tiny');
  mkdirSync(join(model, 'b'), { recursive: true });
  writeFileSync(join(model, 'a'), 'a'.repeat(30));
  writeFileSync(join(model, 'b', 'c'), 'ccc');
  return { dir, model };
}

/** The statement for makeTiny's files: v1.0, files, sha256, sorted, with ignore_paths. */
function goodStatement(): Statement {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'tiny', digest: { sha256: '' } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: {
      resources: [
        { name: 'a', digest: sha256('a'.repeat(30)), algorithm: 'sha256' },
        { name: 'b/c', digest: sha256('ccc'), algorithm: 'sha256' },
      ],
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['.git', 'model.sig'] },
    },
  };
}

/** The same files cut into 10-byte shards. */
function shardStatement(): Statement {
  const statement = goodStatement();
  const a = 'a'.repeat(30);
  statement.predicate.resources = [
    ...[0, 10, 20].map((start) => ({ name: `a:${start}:${start + 10}`, digest: sha256(a.slice(start, start + 10)), algorithm: 'sha256' })),
    { name: 'b/c:0:3', digest: sha256('ccc'), algorithm: 'sha256' },
  ];
  statement.predicate.serialization = { method: 'shards', hash_type: 'sha256', shard_size: 10, allow_symlinks: false };
  return statement;
}

/** Signs the statement as given, after setting the subject digest to the resources' root (unless told not to). */
function sign(statement: Statement, options: { keepRoot?: boolean } = {}): Json {
  if (!options.keepRoot) signRoot(statement);
  return toDsseBundle(Buffer.from(JSON.stringify(statement)), privateKey) as Json;
}

async function verify(model: string, bundle: Json, given: SignerPolicy = policy): Promise<unknown> {
  const path = join(model, '..', 'model.sig');
  writeFileSync(path, JSON.stringify(bundle));
  return verifyModelSignature(model, path, given);
}

const ok = { ok: true, findings: [] };

describe('OMS v1.0 statements, rule by rule', () => {
  it('a statement that keeps every rule verifies (files and shards)', async () => {
    const { model } = makeTiny();
    await expect(verify(model, sign(goodStatement()))).resolves.toMatchObject(ok);
    await expect(verify(model, sign(shardStatement()))).resolves.toMatchObject(ok);
  });

  it('§5.2.1: resources must not be empty', async () => {
    const { model } = makeTiny();
    const statement = goodStatement();
    statement.predicate.resources = [];
    await expect(verify(model, sign(statement))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('at least one resource') as unknown });
  });

  it('§5.2.1: resources sorted by name in code-point order; model_signing\'s own order is read too', async () => {
    const { model } = makeTiny();
    const unsorted = goodStatement();
    unsorted.predicate.resources.reverse();
    await expect(verify(model, sign(unsorted))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('sorted by name') as unknown });

    // model_signing sorts paths by their parts ('b/c' before 'b.txt') and shards by their offsets.
    writeFileSync(join(model, 'b.txt'), 'x');
    const byParts = goodStatement();
    byParts.predicate.resources.push({ name: 'b.txt', digest: sha256('x'), algorithm: 'sha256' });
    await expect(verify(model, sign(byParts))).resolves.toMatchObject(ok);
    const codePoints = goodStatement();
    codePoints.predicate.resources.splice(1, 0, { name: 'b.txt', digest: sha256('x'), algorithm: 'sha256' });
    await expect(verify(model, sign(codePoints))).resolves.toMatchObject(ok);
  });

  it('§6.3.2: shards past the ninth, in numeric order (as model_signing writes) or code-point order', async () => {
    const { model } = makeTiny();
    writeFileSync(join(model, 'a'), 'a'.repeat(120));
    const resources = (order: number[]) => [...order.map((start) => ({ name: `a:${start}:${start + 10}`, digest: sha256('a'.repeat(10)), algorithm: 'sha256-sharded-10' })), { name: 'b/c:0:3', digest: sha256('ccc'), algorithm: 'sha256-sharded-10' }];
    const numeric = Array.from({ length: 12 }, (_, i) => i * 10);
    const statement = shardStatement();
    statement.predicate.resources = resources(numeric);
    await expect(verify(model, sign(statement))).resolves.toMatchObject(ok);
    statement.predicate.resources = resources([...numeric].sort((x, y) => (`a:${x}:${x + 10}` < `a:${y}:${y + 10}` ? -1 : 1)));
    expect(statement.predicate.resources[1]?.name).toBe('a:100:110');
    await expect(verify(model, sign(statement))).resolves.toMatchObject(ok);
    statement.predicate.resources = resources([10, 0, ...numeric.slice(2)]);
    await expect(verify(model, sign(statement))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
  });

  it('§5.2.2: shard_size is a positive integer for shards, and absent for files', async () => {
    const { model } = makeTiny();
    const files = goodStatement();
    files.predicate.serialization.shard_size = 10;
    await expect(verify(model, sign(files))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('no shard_size for the files method') as unknown });
    for (const size of [undefined, 0, -10, 2.5, '10']) {
      const shards = shardStatement();
      shards.predicate.serialization.shard_size = size;
      await expect(verify(model, sign(shards))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('positive whole shard_size') as unknown });
    }
  });

  it('§5.2: the predicate and the serialization have no other keys; a resource descriptor may', async () => {
    const { model } = makeTiny();
    const predicate = goodStatement();
    predicate.predicate.note = 'signed by someone else';
    await expect(verify(model, sign(predicate))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('predicate: unknown key "note"') as unknown });
    const serialization = goodStatement();
    serialization.predicate.serialization.chunk_size = 1048576;
    await expect(verify(model, sign(serialization))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('serialization: unknown key "chunk_size"') as unknown });
    const descriptor = goodStatement();
    Object.assign(descriptor.predicate.resources[0]!, { mediaType: 'application/octet-stream', annotations: { x: 'y' } });
    await expect(verify(model, sign(descriptor))).resolves.toMatchObject(ok);
  });

  it("§6.3: each resource's algorithm is the hash_type (model_signing's sha256-sharded-N for shards only)", async () => {
    const { model } = makeTiny();
    const other = goodStatement();
    other.predicate.resources[1]!.algorithm = 'blake2b';
    await expect(verify(model, sign(other))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('algorithm "blake2b" is not the hash_type "sha256"') as unknown });
    const shardName = goodStatement();
    shardName.predicate.resources[0]!.algorithm = 'sha256-sharded-10';
    await expect(verify(model, sign(shardName))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
    const shards = shardStatement();
    for (const r of shards.predicate.resources) r.algorithm = 'sha256-sharded-10';
    await expect(verify(model, sign(shards))).resolves.toMatchObject(ok);
  });

  it('§6.2.1: ignore_paths are exact paths: no glob, no leading /, no ..; absent is no paths', async () => {
    const { model } = makeTiny();
    for (const path of ['*.bin', 'weights[0]', 'a?', '/etc', '../x', 'b/../../x', '']) {
      const statement = goodStatement();
      statement.predicate.serialization.ignore_paths = ['.git', path];
      await expect(verify(model, sign(statement))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('ignore_paths[1]') as unknown });
    }
    const absent = goodStatement();
    delete absent.predicate.serialization.ignore_paths;
    await expect(verify(model, sign(absent))).resolves.toMatchObject(ok);
  });

  it('§6.5: exactly one subject, with a 64-hex sha256 root digest and a name (any non-empty one)', async () => {
    const { model } = makeTiny();
    const two = goodStatement();
    two.subject.push({ name: 'other', digest: { sha256: sha256('x') } });
    await expect(verify(model, sign(two))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('exactly one subject') as unknown });
    const sha512 = goodStatement();
    sha512.subject[0] = { name: 'tiny', digest: { sha512: 'ab'.repeat(64) } };
    await expect(verify(model, sign(sha512, { keepRoot: true }))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
    const upper = goodStatement();
    sign(upper);
    const digest = upper.subject[0]!.digest as { sha256: string };
    digest.sha256 = digest.sha256.toUpperCase();
    await expect(verify(model, sign(upper, { keepRoot: true }))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
    const empty = goodStatement();
    empty.subject[0]!.name = '';
    await expect(verify(model, sign(empty))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('non-empty subject name') as unknown });
    const model_ = goodStatement();
    model_.subject[0]!.name = 'model';
    await expect(verify(model, sign(model_))).resolves.toMatchObject(ok);
    const wrongRoot = goodStatement();
    (wrongRoot.subject[0]!.digest as { sha256: string }).sha256 = sha256('not the root');
    await expect(verify(model, sign(wrongRoot, { keepRoot: true }))).rejects.toMatchObject({ code: 'MANIFEST_MISMATCH' });
  });

  it('§6.3.2: a shard name ends in two decimal offsets, read from the right; a name may hold colons', async () => {
    const { model } = makeTiny();
    writeFileSync(join(model, 'ab:1:2'), 'colons');
    const statement = shardStatement();
    statement.predicate.resources.splice(3, 0, { name: 'ab:1:2:0:6', digest: sha256('colons'), algorithm: 'sha256' });
    await expect(verify(model, sign(statement))).resolves.toMatchObject(ok);
    const padded = shardStatement();
    padded.predicate.resources[3]!.name = 'b/c:00:3';
    await expect(verify(model, sign(padded))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID', message: expect.stringContaining('expected path:start:end') as unknown });
  });

  it('§6.3.2: sharded, an empty file has no resource, and a listed empty shard is refused', async () => {
    const { model } = makeTiny();
    writeFileSync(join(model, 'empty'), '');
    await expect(verify(model, sign(shardStatement()))).resolves.toMatchObject(ok);
    const listed = shardStatement();
    listed.predicate.resources.push({ name: 'empty:0:0', digest: sha256(''), algorithm: 'sha256' });
    await expect(verify(model, sign(listed))).rejects.toMatchObject({ code: 'PAYLOAD_INVALID' });
  });

  it('§7: blake2b and blake3, whole files and shards', async () => {
    const { model } = makeTiny();
    const { createBLAKE3 } = await import('hash-wasm');
    const digests = {
      blake2b: (data: string) => createHash('blake2b512').update(data).digest('hex'),
      blake3: async (data: string) => (await createBLAKE3()).init().update(data).digest('hex'),
    };
    for (const hash of ['blake2b', 'blake3'] as const) {
      for (const statement of [goodStatement(), shardStatement()]) {
        const shards = statement.predicate.serialization.method === 'shards';
        const a = 'a'.repeat(30);
        statement.predicate.serialization.hash_type = hash;
        statement.predicate.resources = await Promise.all(
          (shards ? [['a:0:10', a.slice(0, 10)], ['a:10:20', a.slice(10, 20)], ['a:20:30', a.slice(20)], ['b/c:0:3', 'ccc']] : [['a', a], ['b/c', 'ccc']]).map(async ([name, data]) => ({ name, digest: await digests[hash](data!), algorithm: hash })),
        );
        await expect(verify(model, sign(statement))).resolves.toMatchObject(ok);
      }
    }
  });

  it('an algorithm or method aisc does not read is named, with the ones it reads (BUNDLE_UNSUPPORTED, exit 2)', async () => {
    const { dir, model } = makeTiny();
    const sha512 = goodStatement();
    sha512.predicate.serialization.hash_type = 'sha512';
    await expect(verify(model, sign(sha512))).rejects.toMatchObject({ code: 'BUNDLE_UNSUPPORTED', message: 'hash_type "sha512" is not supported (aisc reads sha256, blake2b, blake3)' });
    const tree = goodStatement();
    tree.predicate.serialization.method = 'tree';
    await expect(verify(model, sign(tree))).rejects.toMatchObject({ code: 'BUNDLE_UNSUPPORTED', message: 'serialization method "tree" is not supported (aisc reads files, shards)' });
    const pub = join(dir, 'key.pub');
    writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'tree.sig'), JSON.stringify(sign(tree)));
    await expect(runAiscInProcess(['verify-signature', model, '--bundle', join(dir, 'tree.sig'), '--key', pub])).resolves.toEqual({
      status: 2,
      stdout: '',
      stderr: 'aisc: BUNDLE_UNSUPPORTED serialization method "tree" is not supported (aisc reads files, shards)\n',
    });
  });
});

describe('OMS v1.0 bundles, rule by rule', () => {
  it('§4.1, §11.2: keyid absent, "" or null', async () => {
    const { model } = makeTiny();
    for (const keyid of [undefined, '', null]) {
      const bundle = sign(goodStatement()) as { dsseEnvelope: { signatures: Json[] } };
      if (keyid === undefined) delete bundle.dsseEnvelope.signatures[0]!.keyid;
      else bundle.dsseEnvelope.signatures[0]!.keyid = keyid;
      await expect(verify(model, bundle)).resolves.toMatchObject(ok);
    }
  });

  it('§8.1: the bundle, the envelope and each signature have no other keys (the bundle schema closes them)', async () => {
    const { model } = makeTiny();
    const top = sign(goodStatement());
    top.note = 'x';
    await expect(verify(model, top)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining('the bundle has unknown "note"') as unknown });
    const envelope = sign(goodStatement()) as { dsseEnvelope: Json };
    envelope.dsseEnvelope.extra = 1;
    await expect(verify(model, envelope as Json)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining('dsseEnvelope has unknown "extra"') as unknown });
    const signature = sign(goodStatement()) as { dsseEnvelope: { signatures: Json[] } };
    signature.dsseEnvelope.signatures[0]!.cert = 'x';
    await expect(verify(model, signature as Json)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining('signatures[0] has unknown "cert"') as unknown });
  });

  it('§4.1, §11.1: the certificate method carries x509CertificateChain, not the Sigstore method\'s lone certificate', async () => {
    const { dir, model } = makeTiny();
    const ca = makeSelfSigned(dir, 'ca', 'P-256');
    const leaf = makeIssued(dir, 'leaf', 'P-256', ca);
    const certificatePolicy: SignerPolicy = { kind: 'certificate', anchors: [new X509Certificate(ca.pem)] };
    const key = readFileSync(leaf.key, 'utf8');
    const { createPrivateKey } = await import('node:crypto');
    const bundle = toDsseBundle(Buffer.from(JSON.stringify(signRoot(goodStatement()))), createPrivateKey(key), [new X509Certificate(leaf.pem)]) as { verificationMaterial: Json };
    await expect(verify(model, bundle as Json, certificatePolicy)).resolves.toMatchObject(ok);
    bundle.verificationMaterial = { certificate: { rawBytes: new X509Certificate(leaf.pem).raw.toString('base64') }, tlogEntries: [] };
    await expect(verify(model, bundle as Json, certificatePolicy)).resolves.toMatchObject({ ok: false, findings: [{ code: 'SIGNER_MISMATCH', message: expect.stringContaining('not the certificate method') as unknown }] });
  });

  it('§6.1.1: links are followed only when the signer recorded allow_symlinks true and --allow-symlinks asks', async () => {
    const { model } = makeTiny();
    symlinkSync('a', join(model, 'alias'));
    const statement = (allow: boolean) => {
      const s = goodStatement();
      s.predicate.resources.splice(1, 0, { name: 'alias', digest: sha256('a'.repeat(30)), algorithm: 'sha256' });
      s.predicate.serialization.allow_symlinks = allow;
      return s;
    };
    const path = join(model, '..', 'model.sig');
    writeFileSync(path, JSON.stringify(sign(statement(true))));
    await expect(verifyModelSignature(model, path, policy, { allowSymlinks: true })).resolves.toMatchObject(ok);
    await expect(verifyModelSignature(model, path, policy)).resolves.toMatchObject({ ok: false, findings: [{ code: 'SYMLINK_REFUSED', path: 'alias' }] });
    writeFileSync(path, JSON.stringify(sign(statement(false))));
    await expect(verifyModelSignature(model, path, policy, { allowSymlinks: true })).resolves.toMatchObject({ ok: false, findings: [{ code: 'SYMLINK_REFUSED', path: 'alias', message: expect.stringContaining('allow_symlinks false') as unknown }] });
  });
});

/** Sets the subject digest to the root digest of the resources as listed. */
function signRoot(statement: Statement): Statement {
  const root = createHash('sha256');
  for (const r of statement.predicate.resources) root.update(Buffer.from(String(r.digest), 'hex'));
  (statement.subject[0] as { digest: Json }).digest.sha256 = root.digest('hex');
  return statement;
}
