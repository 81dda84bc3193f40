import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toCompatPae, toPythonBytesRepr } from '../../src/signing/content.js';
import { toDsseBundle } from '../../src/signing/sign.js';
import { runAisc } from '../helpers/cli.js';
import { OMS_VECTORS } from '../helpers/fixtures.js';
import { makeTempDir } from '../helpers/temp.js';

/**
 * What the Python model_signing tool wrote in its past releases, rebuilt here byte for byte in
 * shape (predicates, serializations, PAE encodings) and signed with a fresh key, then verified
 * with the arguments model_signing's own scripts/tests/test-verify-*.sh use.
 */

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

interface Keys {
  privateKey: KeyObject;
  publicPem: string;
}

function newKeys(dir: string): Keys {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const publicPem = join(dir, 'signing-key-pub.pem');
  writeFileSync(publicPem, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, publicPem };
}

/** A folder as model_signing's tests lay it out: signme-1, signme-2, and an ignore-me that v1.0.1 did not sign. */
function makeRelease(dir: string, name: string): string {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, 'signme-1'), 'signme-1');
  writeFileSync(join(root, 'signme-2'), 'signme-2');
  return root;
}

function v1Statement(name: string, resources: { name: string; digest: string; algorithm?: string }[], serialization: Record<string, unknown>): object {
  const root = createHash('sha256');
  for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: root.digest('hex') } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: { serialization, resources: resources.map((r) => ({ algorithm: r.algorithm ?? serialization.hash_type, digest: r.digest, name: r.name })) },
  };
}

function writeBundle(path: string, statement: object, key: KeyObject, options: { compatPae?: boolean } = {}): void {
  // model_signing writes its JSON indented: the payload is kept as written.
  const payload = Buffer.from(JSON.stringify(statement, null, 2));
  const bundle = toDsseBundle(payload, key) as { dsseEnvelope: { signatures: { sig: string }[] } };
  if (options.compatPae) bundle.dsseEnvelope.signatures[0]!.sig = sign('sha384', toCompatPae(payload), key).toString('base64');
  writeFileSync(path, JSON.stringify(bundle, null, 2));
}

/** Resources for files whose content is their own name, as makeRelease writes them. */
const files = (...names: string[]) => names.map((name) => ({ name, digest: sha256(name) }));

describe("model_signing's past releases, with its test scripts' arguments", () => {
  it("v0.2.0: the Digests/v0.1 predicate, one subject per file, signed over v0.2's own PAE", () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    const root = makeRelease(dir, 'v0.2.0-elliptic-key');
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: files('signme-1', 'signme-2').map((f) => ({ name: f.name, digest: { sha256: f.digest }, annotations: { actual_hash_algorithm: 'file-sha256' } })),
      predicateType: 'https://model_signing/Digests/v0.1',
      predicate: { unused: 'Unused, just passed due to API requirements' },
    };
    writeBundle(join(root, 'model.sig'), statement, keys.privateKey, { compatPae: true });
    const verify = () => runAisc(['verify-signature', './v0.2.0-elliptic-key/', '--bundle', './v0.2.0-elliptic-key/model.sig', '--key', keys.publicPem], dir);
    expect(verify()).toMatchObject({ status: 0, stdout: expect.stringMatching(/^verified \.\/v0\.2\.0-elliptic-key\/: signed by key/) as unknown });

    writeFileSync(join(root, 'signme-2'), 'signme-X');
    expect(verify().stdout).toMatch(/MANIFEST_MISMATCH signme-2: content differs from the signed sha256 digest/);
    writeFileSync(join(root, 'signme-2'), 'signme-2');
    writeFileSync(join(root, 'extra'), '');
    expect(verify()).toMatchObject({ status: 1, stdout: expect.stringContaining('MANIFEST_MISMATCH extra: is not in the signed manifest') as unknown });
  });

  it("accepts v0.2's PAE only for the v0.1 predicate it was written with", () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    makeRelease(dir, 'm');
    writeBundle(join(dir, 'm.sig'), v1Statement('m', files('signme-1', 'signme-2'), { method: 'files', hash_type: 'sha256', allow_symlinks: false }), keys.privateKey, { compatPae: true });
    const result = runAisc(['verify-signature', 'm', '--bundle', 'm.sig', '--key', keys.publicPem], dir);
    expect(result).toMatchObject({ status: 1, stdout: expect.stringContaining('SIGNATURE_INVALID') as unknown });
  });

  it('writes Python bytes as CPython prints them (what v0.2 spliced into its PAE)', () => {
    expect(toPythonBytesRepr(Buffer.from('{\n  "a": 1\t}\r'))).toBe('b\'{\\n  "a": 1\\t}\\r\'');
    expect(toPythonBytesRepr(Buffer.from([0x61, 0x27, 0x62, 0x00, 0xff, 0x5c]))).toBe('b"a\'b\\x00\\xff\\\\"');
    expect(toPythonBytesRepr(Buffer.from('\'"'))).toBe('b\'\\\'"\'');
    expect(toCompatPae(Buffer.from('{}')).toString()).toBe("DSSEV1 28 application/vnd.in-toto+json 2 b'{}'");
  });

  it('v1.0.1 and later: an unsigned ignore-me, left out with --ignore-paths from outside or inside the model', () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    const root = makeRelease(dir, 'v1.0.1-elliptic-key');
    writeFileSync(join(root, 'ignore-me'), '');
    const ignorePaths = ['.gitignore', '.gitattributes', '.git', '.github', 'model.sig'];
    writeBundle(join(root, 'model.sig'), v1Statement('v1.0.1-elliptic-key', files('signme-1', 'signme-2'), { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ignorePaths }), keys.privateKey);
    const args = ['verify-signature', './v1.0.1-elliptic-key', '--bundle', './v1.0.1-elliptic-key/model.sig', '--key', keys.publicPem];
    expect(runAisc(args, dir)).toMatchObject({ status: 1, stdout: expect.stringContaining('MANIFEST_MISMATCH ignore-me: is not in the signed manifest') as unknown });
    expect(runAisc([...args, '--ignore-paths', './v1.0.1-elliptic-key/ignore-me'], dir).status).toBe(0);
    expect(runAisc(['verify-signature', '.', '--bundle', 'model.sig', '--key', keys.publicPem, '--ignore-paths', 'ignore-me'], root).status).toBe(0);
    // A path outside the model means nothing to it, as in model_signing.
    expect(runAisc([...args, '--ignore-paths', './ignore-me'], dir).status).toBe(1);

    // A folder given is left out with everything under it; git metadata is left out unless asked.
    mkdirSync(join(root, 'scratch', 'deep'), { recursive: true });
    writeFileSync(join(root, 'scratch', 'deep', 'x.bin'), 'x');
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(root, '.gitattributes'), '*.bin filter=lfs\n');
    expect(runAisc([...args, '--ignore-paths', './v1.0.1-elliptic-key/ignore-me', '--ignore-paths', './v1.0.1-elliptic-key/scratch'], dir).status).toBe(0);
    const withGit = runAisc([...args, '--ignore-paths', './v1.0.1-elliptic-key/ignore-me', '--ignore-paths', './v1.0.1-elliptic-key/scratch', '--no-ignore-git-paths'], dir);
    // The signed ignore_paths still apply: .git and .gitattributes were signed as ignored.
    expect(withGit.status).toBe(0);
  });

  it('--no-ignore-git-paths checks git metadata the bundle did not sign as ignored; sign --ignore-paths signs the paths', () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    const root = makeRelease(dir, 'model');
    writeFileSync(join(root, '.gitattributes'), '*.bin filter=lfs\n');
    writeFileSync(join(root, 'ignore-me'), 'local notes');
    writeFileSync(join(dir, 'signer.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(runAisc(['sign', 'model', '--key', 'signer.pem', '--output', 'model.sig', '--ignore-paths', 'model/ignore-me'], dir).status).toBe(0);
    expect(runAisc(['verify-signature', 'model', '--bundle', 'model.sig', '--key', keys.publicPem], dir).status).toBe(0);
    writeFileSync(join(root, 'ignore-me'), 'other notes');
    expect(runAisc(['verify-signature', 'model', '--bundle', 'model.sig', '--key', keys.publicPem], dir).status).toBe(0);

    writeBundle(join(dir, 'bare.sig'), v1Statement('model', files('signme-1', 'signme-2'), { method: 'files', hash_type: 'sha256', allow_symlinks: false }), keys.privateKey);
    const bare = ['verify-signature', 'model', '--bundle', 'bare.sig', '--key', keys.publicPem, '--ignore-paths', 'model/ignore-me'];
    expect(runAisc(bare, dir).status).toBe(0);
    expect(runAisc([...bare, '--no-ignore-git-paths'], dir)).toMatchObject({ status: 1, stdout: expect.stringContaining('MANIFEST_MISMATCH .gitattributes: is not in the signed manifest') as unknown });
  });

  it('shards: an empty file has no shard, names are sha256-sharded-N, shard_size may be a float', () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    const root = join(dir, 'sharded');
    mkdirSync(root);
    const big = Buffer.alloc(2500, 7);
    writeFileSync(join(root, 'weights.bin'), big);
    writeFileSync(join(root, 'empty'), '');
    const shards = [0, 1000, 2000].map((start) => ({ name: `weights.bin:${start}:${Math.min(start + 1000, 2500)}`, digest: sha256(big.subarray(start, Math.min(start + 1000, 2500))), algorithm: 'sha256-sharded-1000' }));
    const statement = v1Statement('sharded', shards, { method: 'shards', hash_type: 'sha256', shard_size: 1000, allow_symlinks: false, ignore_paths: [] });
    // What protobuf's JSON printer writes for the size: 1000.0.
    const payload = Buffer.from(JSON.stringify(statement, null, 2).replace('"shard_size": 1000', '"shard_size": 1000.0'));
    expect(payload.toString()).toContain('"shard_size": 1000.0');
    writeFileSync(join(dir, 'sharded.sig'), JSON.stringify(toDsseBundle(payload, keys.privateKey)));
    const verify = () => runAisc(['verify-signature', 'sharded', '--bundle', 'sharded.sig', '--key', keys.publicPem], dir);
    expect(verify()).toMatchObject({ status: 0 });
    writeFileSync(join(root, 'empty'), 'now something');
    expect(verify()).toMatchObject({ status: 1, stdout: expect.stringContaining('MANIFEST_MISMATCH empty: is not in the signed manifest') as unknown });
  });

  it('--allow-symlinks follows links to files inside the model; links out stay refused', () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    const root = makeRelease(dir, 'linked');
    symlinkSync('signme-1', join(root, 'alias'));
    writeBundle(join(dir, 'linked.sig'), v1Statement('linked', [...files('signme-1', 'signme-2'), { name: 'alias', digest: sha256('signme-1') }].sort((a, b) => (a.name < b.name ? -1 : 1)), { method: 'files', hash_type: 'sha256', allow_symlinks: true }), keys.privateKey);
    const args = ['verify-signature', 'linked', '--bundle', 'linked.sig', '--key', keys.publicPem];
    expect(runAisc(args, dir)).toMatchObject({ status: 1, stdout: expect.stringContaining('SYMLINK_REFUSED alias') as unknown });
    expect(runAisc([...args, '--allow-symlinks'], dir).status).toBe(0);
    writeFileSync(join(dir, 'outside'), 'signme-1');
    symlinkSync(join(dir, 'outside'), join(root, 'escape'));
    expect(runAisc([...args, '--allow-symlinks'], dir)).toMatchObject({ status: 1, stdout: expect.stringContaining('SYMLINK_OUTSIDE_ROOT escape') as unknown });
  });

  it('--ignore-unsigned-files: files that were not signed are not extra, signed ones must still be there', () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    const root = makeRelease(dir, 'm');
    writeFileSync(join(root, 'README.md'), 'added later');
    writeBundle(join(dir, 'm.sig'), v1Statement('m', files('signme-1', 'signme-2'), { method: 'files', hash_type: 'sha256', allow_symlinks: false }), keys.privateKey);
    const args = ['verify-signature', 'm', '--bundle', 'm.sig', '--key', keys.publicPem];
    expect(runAisc(args, dir).status).toBe(1);
    expect(runAisc([...args, '--ignore-unsigned-files'], dir).status).toBe(0);
    writeFileSync(join(root, 'signme-2'), 'changed!');
    expect(runAisc([...args, '--ignore-unsigned-files'], dir).status).toBe(1);
  });

  it('blake3 and blake2b manifests verify (digests from the algorithms\' published test vectors)', () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    const root = join(dir, 'b3');
    mkdirSync(root);
    writeFileSync(join(root, 'abc'), 'abc');
    writeFileSync(join(root, 'empty'), '');
    const blake3 = [
      { name: 'abc', digest: '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85' },
      { name: 'empty', digest: 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262' },
    ];
    writeBundle(join(dir, 'b3.sig'), v1Statement('b3', blake3, { method: 'files', hash_type: 'blake3', allow_symlinks: false }), keys.privateKey);
    expect(runAisc(['verify-signature', 'b3', '--bundle', 'b3.sig', '--key', keys.publicPem], dir)).toMatchObject({ status: 0 });
    const blake2b = [
      { name: 'abc', digest: 'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923' },
      { name: 'empty', digest: '786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce' },
    ];
    writeBundle(join(dir, 'b2.sig'), v1Statement('b3', blake2b, { method: 'files', hash_type: 'blake2b', allow_symlinks: false }), keys.privateKey);
    expect(runAisc(['verify-signature', 'b3', '--bundle', 'b2.sig', '--key', keys.publicPem], dir)).toMatchObject({ status: 0 });
    writeFileSync(join(root, 'abc'), 'abd');
    expect(runAisc(['verify-signature', 'b3', '--bundle', 'b3.sig', '--key', keys.publicPem], dir).stdout).toContain('MANIFEST_MISMATCH abc: content differs from the signed blake3 digest');
    writeBundle(join(dir, 'md5.sig'), v1Statement('b3', blake3, { method: 'files', hash_type: 'md5', allow_symlinks: false }), keys.privateKey);
    expect(runAisc(['verify-signature', 'b3', '--bundle', 'md5.sig', '--key', keys.publicPem], dir)).toMatchObject({ status: 2, stderr: 'aisc: BUNDLE_UNSUPPORTED hash_type "md5" is not supported (aisc reads sha256, blake2b, blake3)\n' });
  });

  it('a certificate-signed bundle checked with --key fails (exit 1) saying so', () => {
    const dir = makeTempDir();
    const keys = newKeys(dir);
    makeRelease(dir, 'm');
    const result = runAisc(['verify-signature', 'm', '--bundle', join(OMS_VECTORS, 'valid/certificate.bundle.json'), '--key', keys.publicPem], dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('SIGNER_MISMATCH: the bundle is certificate-signed');
  });
});
