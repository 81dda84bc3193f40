import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { errorLines, runAiscAsync } from '../helpers/cli.js';
import { attachCosignBundle, attachLegacySignature, digestOf, KITOPS, makeCosignKey, makeCosignStatement, MODELPACK, pushModelPack, registryAvailable, sha256, startOciRegistry, startTokenService, type RunningRegistry } from '../helpers/oci-registry.js';
import { makeIdentityToken, startSigstoreInstance } from '../helpers/sigstore-instance.js';
import { signOmsReference } from '../helpers/oms-reference.js';
import { makeTempDir } from '../helpers/temp.js';
import { signPayloadKeyless } from '../../src/signing/keyless.js';
import { tarOf } from '../helpers/torch-tars.js';

const available = registryAvailable();
const WEIGHTS = makeSafetensors({ w: { dtype: 'F32', shape: [256, 256] } }, 3);
const FILES = { 'config.json': '{"hidden_size": 256}\n', 'model.safetensors': WEIGHTS, 'README.md': '# tiny\n' };
const TOKENIZER = tarOf([
  ['tokenizer.json', Buffer.from('{"model": {"type": "BPE"}}\n')],
  ['tokenizer_config.json', Buffer.from('{}\n')],
]);

interface LockedOci {
  kind: string;
  source: Record<string, unknown>;
  files: { path: string; size: number; sha256: string; inspected?: false; format?: string }[];
}

const readLock = (dir: string, file = 'aisc.lock.json'): Record<string, LockedOci> => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { artifacts: Record<string, LockedOci> }).artifacts;

describe.skipIf(!available)('oci:// against a real registry (CNCF Distribution)', () => {
  let registry: RunningRegistry;
  let root: string;
  let pushed: Awaited<ReturnType<typeof pushModelPack>>;
  const env = (dir: string): Record<string, string> => ({ AISC_OCI_CACHE: join(dir, 'oci-cache'), DOCKER_CONFIG: join(dir, 'no-docker'), REGISTRY_AUTH_FILE: '' });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'aisc-oci-'));
    registry = await startOciRegistry(root);
    pushed = await pushModelPack(registry, 'acme/tiny', 'v1', FILES, { tarLayer: TOKENIZER });
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('locks a ModelPack by tag: one-file layers from their digests, never downloaded; the tar layer read through the archive gate', async () => {
    const dir = makeTempDir();
    const before = registry.requests().length;
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/tiny:v1`], dir, env(dir));
    expect(locked.stderr).toContain('not inspected');
    expect(locked.status).toBe(0);
    expect(locked.stdout).toContain(`locked tiny (model) from oci://${registry.host}/acme/tiny@${pushed.digest} (v1): 5 files`);
    const artifact = readLock(dir).tiny as LockedOci;
    expect(artifact.source).toEqual({ type: 'oci', registry: registry.host, repository: 'acme/tiny', digest: pushed.digest, tag: 'v1', mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: MODELPACK.artifactType });
    const byPath = new Map(artifact.files.map((file) => [file.path, file]));
    expect(byPath.get('config.json')).toEqual({ path: 'config.json', size: FILES['config.json'].length, sha256: sha256(FILES['config.json']), inspected: false });
    expect(byPath.get('model.safetensors')).toMatchObject({ sha256: sha256(WEIGHTS), inspected: false, format: 'safetensors' });
    expect(byPath.get('tokenizer.json')).toMatchObject({ sha256: sha256('{"model": {"type": "BPE"}}\n'), format: 'json' });
    expect(byPath.get('tokenizer.json')?.inspected).toBeUndefined();
    // What was asked of the registry: manifest, config, the tar layer whole, and of the weights only the header (Range).
    const blobGets = registry.requests().slice(before).filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
    const raw = pushed.layers.filter((l) => l.mediaType !== MODELPACK.weightTar);
    const weights = raw.find((l) => l.annotations?.[MODELPACK.filepath] === 'model.safetensors');
    for (const layer of raw) {
      const gets = blobGets.filter((r) => r.path.endsWith(layer.digest));
      if (layer === weights) expect(gets.reduce((sum, r) => sum + r.bytes, 0)).toBeLessThan(1024);
      else expect(gets).toEqual([]);
    }
    const tar = pushed.layers.find((l) => l.mediaType === MODELPACK.weightTar);
    expect(blobGets.filter((r) => r.path.endsWith(tar?.digest ?? '?')).map((r) => r.bytes)).toEqual([TOKENIZER.length]);
  });

  it('locks by digest (no tag recorded), fetches into --path, verifies offline, and a tampered blob in the registry never lands', async () => {
    const dir = makeTempDir();
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/tiny@${pushed.digest}`, '--path', 'models/tiny', '--name', 'tiny'], dir, env(dir));
    expect(locked.stderr).toBe(locked.stderr);
    expect(locked.status).toBe(0);
    const artifact = readLock(dir).tiny as LockedOci;
    expect(artifact.source).toMatchObject({ digest: pushed.digest, path: 'models/tiny' });
    expect(artifact.source.tag).toBeUndefined();
    const fetched = await runAiscAsync(['fetch', 'tiny'], dir, env(dir));
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(fetched.stdout).toContain('fetched tiny: 5 files');
    expect(readFileSync(join(dir, 'models/tiny/model.safetensors')).equals(WEIGHTS)).toBe(true);
    expect(readFileSync(join(dir, 'models/tiny/tokenizer.json'), 'utf8')).toBe('{"model": {"type": "BPE"}}\n');
    expect(existsSync(join(dir, 'models/tiny.aisc-layers'))).toBe(false);
    const verified = await runAiscAsync(['verify'], dir, { ...env(dir), HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' });
    expect(verified.status).toBe(0);

    // The registry now serves other bytes under the weights' digest: fetch refuses, nothing lands.
    const weights = pushed.layers.find((l) => l.annotations?.[MODELPACK.filepath] === 'model.safetensors');
    const blob = registry.blobFile(weights?.digest ?? '');
    const original = readFileSync(blob);
    try {
      const evil = Buffer.from(original);
      evil.writeUInt8((evil.at(-1) ?? 0) ^ 0xff, evil.length - 1);
      writeFileSync(blob, evil);
      rmSync(join(dir, 'models/tiny/model.safetensors'));
      const refused = await runAiscAsync(['fetch', 'tiny'], dir, env(dir));
      expect(refused.status).toBe(1);
      expect(errorLines(refused)[0]).toMatch(/^aisc: CONTENT_MISMATCH tiny: model\.safetensors: the bytes served are not what is locked/);
      expect(readdirSync(join(dir, 'models/tiny')).sort()).toEqual(['README.md', 'config.json', 'tokenizer.json', 'tokenizer_config.json']);
      const failed = await runAiscAsync(['verify'], dir, env(dir));
      expect(failed.status).toBe(1);
    } finally {
      writeFileSync(blob, original);
    }
  });

  it('a tampered tar layer is refused whole: none of its members lands', async () => {
    const dir = makeTempDir();
    const tar = pushed.layers.find((l) => l.mediaType === MODELPACK.weightTar);
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/tiny:v1`, '--path', 'tiny'], dir, env(dir));
    expect(locked.status).toBe(0);
    const blob = registry.blobFile(tar?.digest ?? '');
    const original = readFileSync(blob);
    try {
      writeFileSync(blob, tarOf([
        ['tokenizer.json', Buffer.from('{"model": {"type": "EVIL"}}\n')],
        ['tokenizer_config.json', Buffer.from('{}\n')],
      ]).subarray(0, original.length));
      const refused = await runAiscAsync(['fetch'], dir, env(dir));
      expect(refused.status).toBe(1);
      expect(errorLines(refused)[0]).toMatch(/^aisc: CONTENT_MISMATCH /);
      expect(existsSync(join(dir, 'tiny/tokenizer.json'))).toBe(false);
      expect(existsSync(join(dir, 'tiny/tokenizer_config.json'))).toBe(false);
      expect(existsSync(join(dir, 'tiny.aisc-layers'))).toBe(false);
    } finally {
      writeFileSync(blob, original);
    }
  });

  it('a moved tag is a revision change in aisc diff, with both digests', async () => {
    const dir = makeTempDir();
    await pushModelPack(registry, 'acme/moving', 'stable', { 'config.json': '{"v": 1}\n' });
    expect((await runAiscAsync(['lock', `oci://${registry.host}/acme/moving:stable`, '--lockfile', 'old.json', '--kind', 'model'], dir, env(dir))).status).toBe(0);
    const moved = await pushModelPack(registry, 'acme/moving', 'stable', { 'config.json': '{"v": 2}\n' });
    expect((await runAiscAsync(['lock', `oci://${registry.host}/acme/moving:stable`, '--lockfile', 'new.json', '--kind', 'model'], dir, env(dir))).status).toBe(0);
    const old = readLock(dir, 'old.json').moving?.source.digest as string;
    const diff = await runAiscAsync(['diff', 'old.json', 'new.json', '--format', 'json'], dir, env(dir));
    const changes = (JSON.parse(diff.stdout) as { changes: { class: string; summary: string; from?: unknown; to?: unknown }[] }).changes;
    const revision = changes.find((c) => c.class === 'revision-changed');
    expect(revision).toMatchObject({ from: { digest: old, tag: 'stable' }, to: { digest: moved.digest, tag: 'stable' } });
    expect(revision?.summary).toBe(`oci://${registry.host}/acme/moving: manifest ${old} (stable) → ${moved.digest} (stable)`);
    expect(changes.some((c) => c.class === 'source-changed')).toBe(false);
  });

  it('an index: refused without --platform (the choices listed), pinned to the chosen manifest with it', async () => {
    const dir = makeTempDir();
    const amd = await pushModelPack(registry, 'acme/multi', 'amd64-only', { 'config.json': '{"arch": "amd64"}\n' });
    const arm = await pushModelPack(registry, 'acme/multi', 'arm64-only', { 'config.json': '{"arch": "arm64"}\n' });
    const index = await registry.pushManifest('acme/multi', 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: amd.mediaType, digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: arm.mediaType, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64' } },
      ],
    });
    const refused = await runAiscAsync(['lock', `oci://${registry.host}/acme/multi:v1`, '--kind', 'model'], dir, env(dir));
    expect(refused.status).toBe(2);
    expect(errorLines(refused)).toEqual([`aisc: OCI_PLATFORM_REQUIRED oci://${registry.host}/acme/multi:v1: an index of 2 manifests; choose one with --platform (linux/amd64, linux/arm64)`]);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/multi:v1`, '--kind', 'model', '--platform', 'linux/arm64'], dir, env(dir));
    expect(locked.status).toBe(0);
    expect(readLock(dir).multi?.source).toMatchObject({ digest: arm.digest, index: index.digest, platform: 'linux/arm64', tag: 'v1' });
    const sbom = await runAiscAsync(['sbom'], dir, env(dir));
    expect(sbom.stdout).toContain(`pkg:oci/multi@sha256%3A${arm.digest.slice(7)}?arch=arm64&repository_url=${registry.host}/acme/multi&tag=v1`);
  });

  it('a KitOps ModelKit (gzipped tar layers, a Kitfile config) locks, fetches into an OCI image layout, and verifies', async () => {
    const dir = makeTempDir();
    const model = gzipSync(tarOf([['model.safetensors', WEIGHTS]]));
    const docs = gzipSync(tarOf([['README.md', Buffer.from('# kit\n')]]));
    const layers = [
      await registry.pushBlob('acme/kit', model, KITOPS.modelTarGzip, { 'org.opencontainers.image.title': 'model.safetensors' }),
      await registry.pushBlob('acme/kit', docs, KITOPS.docsTarGzip, { 'org.opencontainers.image.title': 'README.md' }),
    ];
    const config = await registry.pushBlob('acme/kit', Buffer.from(JSON.stringify({ manifestVersion: '1.0.0', package: { name: 'kit' }, model: { path: 'model.safetensors' } })), KITOPS.config);
    const manifest = await registry.pushManifest('acme/kit', 'latest', { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers });
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/kit`], dir, env(dir));
    expect(locked.status).toBe(0);
    expect(readLock(dir).kit?.source).toMatchObject({ digest: manifest.digest, tag: 'latest', artifactType: KITOPS.config });
    expect(readLock(dir).kit?.files.map((f) => [f.path, f.sha256, f.inspected])).toEqual([
      ['README.md', sha256('# kit\n'), undefined],
      ['model.safetensors', sha256(WEIGHTS), undefined],
    ]);
    const fetched = await runAiscAsync(['fetch', '--oci-layout', 'layout'], dir, env(dir));
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    // The layout's blobs land too, but the artifact is its two files.
    expect(fetched.stdout).toMatch(/: 2 files, /);
    expect(JSON.parse(readFileSync(join(dir, 'layout/oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(dir, 'layout/index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    expect(index.manifests).toEqual([{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.size, artifactType: KITOPS.config, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }]);
    for (const digest of [manifest.digest, config.digest, ...layers.map((l) => l.digest)]) expect(digestOf(readFileSync(join(dir, 'layout/blobs/sha256', digest.slice(7))))).toBe(digest);
    const verified = await runAiscAsync(['verify'], dir, env(dir));
    expect(verified.status).toBe(0);
  });

  it("the policy's sources match oci://registry/repository on whole segments, before anything is asked of the registry", async () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'aisc.policy.yaml'), ['version: 1', 'signers: {}', 'reviewers: {}', 'rules:', '  - match: { kind: [model] }', `    require: { sources: ['oci://${registry.host}/acme'] }`, 'approvals: []', ''].join('\n'));
    const before = registry.requests().length;
    const refused = await runAiscAsync(['lock', `oci://${registry.host}/acme-evil/tiny:v1`, '--kind', 'model'], dir, env(dir));
    expect(refused.status).toBe(1);
    expect(errorLines(refused)[0]).toMatch(/^aisc: POLICY_VIOLATION .*allows sources oci:\/\/127\.0\.0\.1:\d+\/acme; locked from oci:\/\/127\.0\.0\.1:\d+\/acme-evil\/tiny .*nothing was read or downloaded/);
    expect(registry.requests().length).toBe(before);
    const allowed = await runAiscAsync(['lock', `oci://${registry.host}/acme/tiny:v1`, '--kind', 'model'], dir, env(dir));
    expect(allowed.status).toBe(0);
  });

  it('names what is not there: an unknown tag, an unknown repository', async () => {
    const dir = makeTempDir();
    const tag = await runAiscAsync(['lock', `oci://${registry.host}/acme/tiny:nope`], dir, env(dir));
    expect(tag.status).toBe(2);
    expect(errorLines(tag)).toEqual([`aisc: OCI_NOT_FOUND oci://${registry.host}/acme/tiny: manifest nope: not found in ${registry.host} (MANIFEST_UNKNOWN)`]);
    const repo = await runAiscAsync(['lock', `oci://${registry.host}/acme/none:v1`], dir, env(dir));
    expect(errorLines(repo)[0]).toMatch(/^aisc: OCI_NOT_FOUND /);
  });
});

describe.skipIf(!available)('oci:// against a real registry with token auth', () => {
  it('answers the Bearer challenge with a token bought with the docker login; without one, or with a wrong one, a coded refusal', async () => {
    const dir = makeTempDir();
    const tokens = await startTokenService(dir, { user: 'ml-bot', password: 's3cret' });
    const registry = await startOciRegistry(dir, { auth: tokens.config });
    try {
      registry.pushHeaders.authorization = `Bearer ${tokens.mint('acme/private', ['pull', 'push'])}`;
      const pushed = await pushModelPack(registry, 'acme/private', 'v1', { 'config.json': '{"private": true}\n' });
      const spec = `oci://${registry.host}/acme/private:v1`;
      const config = (user: string, password: string): Record<string, string> => {
        mkdirSync(join(dir, 'docker'), { recursive: true });
        writeFileSync(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
        return { DOCKER_CONFIG: join(dir, 'docker'), REGISTRY_AUTH_FILE: '', AISC_OCI_CACHE: join(dir, 'cache') };
      };
      const anonymous = await runAiscAsync(['lock', spec, '--kind', 'model'], dir, { DOCKER_CONFIG: join(dir, 'none'), REGISTRY_AUTH_FILE: '' });
      expect(anonymous.status).toBe(2);
      expect(errorLines(anonymous)[0]).toMatch(/^aisc: OCI_AUTH_REQUIRED .*: the registry requires a login/);
      const wrong = await runAiscAsync(['lock', spec, '--kind', 'model'], dir, config('ml-bot', 'nope'));
      expect(errorLines(wrong)[0]).toMatch(/^aisc: OCI_AUTH_REQUIRED .*: the token service refused the login from .*config\.json \(401\)$/);
      const env = config('ml-bot', 's3cret');
      const locked = await runAiscAsync(['lock', spec, '--kind', 'model'], dir, env);
      expect(locked.stderr).toContain('not inspected');
      expect(locked.status).toBe(0);
      expect(readLock(dir).private?.source.digest).toBe(pushed.digest);
      const fetched = await runAiscAsync(['fetch'], dir, env);
      expect(fetched.status).toBe(0);
      expect((await runAiscAsync(['verify'], dir, env)).status).toBe(0);
      expect(tokens.requests.filter((user) => user === 'ml-bot').length).toBeGreaterThanOrEqual(3);
    } finally {
      await registry.stop();
      await tokens.close();
    }
  });
});

describe.skipIf(!available)('cosign signatures on OCI artifacts, in a real registry', () => {
  let registry: RunningRegistry;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'aisc-oci-sig-'));
    registry = await startOciRegistry(root);
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const env = (dir: string): Record<string, string> => ({ AISC_OCI_CACHE: join(dir, 'oci-cache'), DOCKER_CONFIG: join(dir, 'no-docker'), REGISTRY_AUTH_FILE: '' });
  const policy = (dir: string, key: string): void => {
    writeFileSync(join(dir, 'aisc.policy.yaml'), ['version: 1', 'signers:', `  release: { key: ${key} }`, 'reviewers: {}', 'rules:', '  - match: { kind: [model] }', '    require: { signedBy: [release] }', 'approvals: []', ''].join('\n'));
  };

  it('finds the signature through the tag-schema fallback, pins its signer, and verify checks it again offline against the policy', async () => {
    const dir = makeTempDir();
    const key = await makeCosignKey(dir);
    const pushed = await pushModelPack(registry, 'acme/signed', 'v1', FILES);
    await attachCosignBundle(registry, 'acme/signed', pushed, key);
    policy(dir, 'cosign.pub');
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/signed:v1`, '--key', 'cosign.pub'], dir, env(dir));
    expect(locked.status).toBe(0);
    expect(locked.stdout).toMatch(/ {2}signed by key sha256:[0-9a-f]{64} \(dsse, bundle \.aisc\/signatures\/[0-9a-f]{64}\.sigstore\.json\)/);
    const signature = (JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, { signature: { bundle: string; format: string; signer: { kind: string } } }> }).artifacts.signed?.signature;
    expect(signature).toMatchObject({ format: 'dsse', signer: { kind: 'key' } });
    expect((await runAiscAsync(['fetch'], dir, env(dir))).status).toBe(0);
    const verified = await runAiscAsync(['verify'], dir, env(dir));
    expect(verified.stdout).toContain('verified');
    expect(verified.status).toBe(0);

    // The kept bundle is what verify re-checks: another one is a finding.
    const kept = join(dir, signature?.bundle ?? '');
    writeFileSync(kept, readFileSync(kept, 'utf8').replace('"keyid":""', '"keyid":"x"'));
    const changed = await runAiscAsync(['verify'], dir, env(dir));
    expect(changed.status).toBe(1);
    expect(changed.stdout).toContain('SIGNATURE_CHANGED');
  });

  it("finds a publisher's model.sig layer (OpenSSF Model Signing), checks it against the layer digests and leaves it out of the files", async () => {
    const dir = makeTempDir();
    const model = join(dir, 'model');
    mkdirSync(model);
    for (const [name, content] of Object.entries(FILES)) writeFileSync(join(model, name), content);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    writeFileSync(join(dir, 'publisher.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const bundle = await signOmsReference(model, { key: privateKey });
    await pushModelPack(registry, 'acme/oms', 'v1', { ...FILES, 'model.sig': bundle });
    await pushModelPack(registry, 'acme/oms', 'stale', { ...FILES, 'config.json': '{"hidden_size": 257}\n', 'model.sig': bundle });
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/oms:v1`, '--key', 'publisher.pub'], dir, env(dir));
    expect(locked.status).toBe(0);
    expect(locked.stdout).toMatch(/signed by key sha256:[0-9a-f]{64} \(model-signing, found as model\.sig, bundle \.aisc\/signatures\/[0-9a-f]{64}\.sig\)/);
    expect(readLock(dir).oms?.files.map((f) => f.path)).toEqual(['README.md', 'config.json', 'model.safetensors']);
    expect((await runAiscAsync(['fetch'], dir, env(dir))).status).toBe(0);
    const verified = await runAiscAsync(['verify'], dir, env(dir));
    expect(verified.stdout).toContain('verified 1 artifact');
    expect(verified.status).toBe(0);
    const stale = await runAiscAsync(['lock', `oci://${registry.host}/acme/oms:stale`, '--key', 'publisher.pub', '--name', 'stale'], dir, env(dir));
    expect(stale.status).toBe(1);
    expect(errorLines(stale)).toEqual([expect.stringMatching(/^aisc: MANIFEST_MISMATCH .*model\.sig: the publisher's signature does not verify for the signer given \(.*config\.json differs from its signed digest/)]);
  });

  it("reads cosign's legacy .sig tag (key signatures)", async () => {
    const dir = makeTempDir();
    const key = await makeCosignKey(dir);
    const pushed = await pushModelPack(registry, 'acme/legacy', 'v1', FILES);
    await attachLegacySignature(registry, 'acme/legacy', pushed, key);
    const locked = await runAiscAsync(['lock', `oci://${registry.host}/acme/legacy:v1`, '--key', 'cosign.pub'], dir, env(dir));
    expect(locked.stderr).toContain('not inspected');
    expect(locked.status).toBe(0);
    expect(locked.stdout).toContain('(message-signature, bundle .aisc/signatures/');
    expect((await runAiscAsync(['fetch'], dir, env(dir))).status).toBe(0);
    expect((await runAiscAsync(['verify'], dir, env(dir))).status).toBe(0);
  });

  it('a required signer with no signature is a finding: at lock with the key, and at verify under the policy', async () => {
    const dir = makeTempDir();
    const key = await makeCosignKey(dir);
    const other = await makeCosignKey(dir, 'other');
    const pushed = await pushModelPack(registry, 'acme/unsigned', 'v1', FILES);
    const spec = `oci://${registry.host}/acme/unsigned:v1`;
    const missing = await runAiscAsync(['lock', spec, '--key', 'cosign.pub'], dir, env(dir));
    expect(missing.status).toBe(1);
    expect(errorLines(missing)).toEqual([`aisc: SIGNATURE_MISSING ${spec}: no cosign signature is attached to ${pushed.digest} (looked at the referrers API, the tag sha256-${pushed.digest.slice(7, 19)}…, the tag sha256-${pushed.digest.slice(7, 19)}….sig); nothing was locked`]);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);

    // Signed by someone else, and a signature over another manifest: neither is the signer's.
    await attachCosignBundle(registry, 'acme/unsigned', pushed, other);
    const wrong = await runAiscAsync(['lock', spec, '--key', 'cosign.pub'], dir, env(dir));
    expect(wrong.status).toBe(1);
    expect(errorLines(wrong)).toEqual([expect.stringMatching(new RegExp(`^aisc: SIGNATURE_MISSING ${spec}: none of the 1 cosign signatures attached to ${pushed.digest} verifies for the signer given \\(referrer sha256:[0-9a-f]{64}: .+\\); nothing was locked$`))]);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
    void key;

    // Locked without a signature (--force past the policy), verify under the policy names the missing signer.
    expect((await runAiscAsync(['lock', spec], dir, env(dir))).status).toBe(0);
    policy(dir, 'cosign.pub');
    expect((await runAiscAsync(['fetch'], dir, env(dir))).status).toBe(0);
    const unsigned = await runAiscAsync(['verify'], dir, env(dir));
    expect(unsigned.status).toBe(1);
    expect(unsigned.stdout).toContain('POLICY_UNSIGNED');
  });

  it('a keyless signature (Fulcio certificate, Rekor entry, from a Sigstore on loopback) pins its identity, and another identity is refused', async () => {
    const dir = makeTempDir();
    const sigstore = await startSigstoreInstance();
    try {
      const pushed = await pushModelPack(registry, 'acme/keyless', 'v1', FILES);
      const token = makeIdentityToken({ iss: 'https://oidc.example.test', sub: 'release-job', email: 'release@acme.test', email_verified: true });
      const bundle = await signPayloadKeyless(makeCosignStatement(`${registry.host}/acme/keyless`, pushed.digest), { fulcioUrl: sigstore.url, rekorUrl: sigstore.url, identityToken: token });
      await attachCosignBundle(registry, 'acme/keyless', pushed, Buffer.from(JSON.stringify(bundle)));
      writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
      const spec = `oci://${registry.host}/acme/keyless:v1`;
      const other = await runAiscAsync(['lock', spec, '--certificate-identity', 'mallory@acme.test', '--certificate-oidc-issuer', 'https://oidc.example.test', '--trusted-root', 'trusted_root.json'], dir, env(dir));
      expect(other.status).toBe(1);
      expect(errorLines(other)[0]).toMatch(/^aisc: SIGNATURE_MISSING .*signed by "release@acme.test"; expected identity/);
      const locked = await runAiscAsync(['lock', spec, '--certificate-identity', 'release@acme.test', '--certificate-oidc-issuer', 'https://oidc.example.test', '--trusted-root', 'trusted_root.json'], dir, env(dir));
      expect(locked.stderr).toContain('not inspected');
      expect(locked.status).toBe(0);
      expect(locked.stdout).toContain('signed by release@acme.test');
      expect((await runAiscAsync(['fetch'], dir, env(dir))).status).toBe(0);
      expect((await runAiscAsync(['verify'], dir, env(dir))).status).toBe(0);
    } finally {
      await sigstore.close();
    }
  });

  it('a referrer whose subject is another manifest, or an attestation, signs nothing here', async () => {
    const dir = makeTempDir();
    const key = await makeCosignKey(dir);
    const pushed = await pushModelPack(registry, 'acme/mixed', 'v1', FILES);
    await attachCosignBundle(registry, 'acme/mixed', pushed, key, { subjectDigest: `sha256:${'0'.repeat(64)}` });
    const spec = `oci://${registry.host}/acme/mixed:v1`;
    const refused = await runAiscAsync(['lock', spec, '--key', 'cosign.pub'], dir, env(dir));
    expect(refused.status).toBe(1);
    expect(errorLines(refused)).toEqual([expect.stringMatching(new RegExp(`^aisc: SIGNATURE_MISSING ${spec}: none of the 1 cosign signatures attached to ${pushed.digest} verifies for the signer given \\(referrer sha256:[0-9a-f]{64}: signs sha256:0{64}, not the locked manifest ${pushed.digest}\\); nothing was locked$`))]);
    // An attestation (another predicate) over this very manifest is not a signature either.
    await attachCosignBundle(registry, 'acme/mixed', pushed, key, { predicateType: 'https://slsa.dev/provenance/v1' });
    const attestation = await runAiscAsync(['lock', spec, '--key', 'cosign.pub'], dir, env(dir));
    expect(attestation.status).toBe(1);
    expect(errorLines(attestation)[0]).toContain('an attestation (https://slsa.dev/provenance/v1), not a cosign signature');
  });
});
