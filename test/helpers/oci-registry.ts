import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, sign as signWith, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The CNCF Distribution registry as Debian ships it (`apt-get install docker-registry`). */
export const REGISTRY_BINARY = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry', '/usr/bin/registry'].find((path) => existsSync(path));

/**
 * Whether the real-registry tests run: on CI the registry must be there (.ci/run installs it), so
 * its absence fails them; elsewhere they are skipped with one line naming the package.
 */
export function registryAvailable(): boolean {
  if (REGISTRY_BINARY) return true;
  if (process.env.CI) throw new Error('docker-registry is not installed, and CI is set: the OCI tests need it (apt-get install -y docker-registry; .ci/run does)');
  console.warn('skipping the OCI registry tests: docker-registry is not installed (apt-get install docker-registry)');
  return false;
}

export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
export const digestOf = (bytes: Buffer | string): string => `sha256:${sha256(bytes)}`;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: { os: string; architecture: string };
}

export interface RunningRegistry {
  /** host:port on 127.0.0.1. */
  host: string;
  url: string;
  /** The registry's storage root (a test may tamper with a blob there). */
  storage: string;
  /** The access log's request lines so far: method, path, status and bytes sent. */
  requests(): { method: string; path: string; status: number; bytes: number }[];
  /** Where a blob's bytes are kept by the filesystem driver. */
  blobFile(digest: string): string;
  pushBlob(repository: string, bytes: Buffer, mediaType?: string, annotations?: Record<string, string>): Promise<Descriptor>;
  /** Sent with every push from now on (a Bearer token when the registry wants one). */
  pushHeaders: Record<string, string>;
  pushManifest(repository: string, reference: string, manifest: object): Promise<Descriptor>;
  stop(): Promise<void>;
}

/** Extra `auth:` configuration (token auth) written into the registry's config. */
export interface RegistryOptions {
  auth?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts docker-registry on 127.0.0.1 (2.8 takes no port 0: a free port is picked here) with its
 * storage in `dir`, and waits until /v2/ answers.
 */
export async function startOciRegistry(dir: string, options: RegistryOptions = {}): Promise<RunningRegistry> {
  if (!REGISTRY_BINARY) throw new Error('docker-registry is not installed');
  const storage = join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const config = join(dir, `config-${port}.yml`);
    writeFileSync(config, ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${storage}`, '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, options.auth ?? '', ''].join('\n'));
    const started = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (c: Buffer) => (log += c.toString()));
    started.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    for (let i = 0; i < 100; i++) {
      if (started.exitCode !== null) break;
      const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
      if (ok) {
        child = started;
        break;
      }
      await sleep(50);
    }
    if (!child) started.kill();
  }
  if (!child) throw new Error(`docker-registry did not start: ${log}`);
  const running = child;
  const url = `http://127.0.0.1:${port}`;
  const headers: Record<string, string> = {};
  return {
    pushHeaders: headers,
    host: `127.0.0.1:${port}`,
    url,
    storage,
    requests: () =>
      [...log.matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+)/g)].map((m) => ({ method: m[1] ?? '', path: m[2] ?? '', status: Number(m[3]), bytes: Number(m[4]) })),
    blobFile: (digest) => {
      const hex = digest.replace('sha256:', '');
      return join(storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    },
    async pushBlob(repository, bytes, mediaType = 'application/octet-stream', annotations) {
      const digest = digestOf(bytes);
      const start = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
      if (start.status !== 202) throw new Error(`blob upload start: ${start.status} ${await start.text()}`);
      const location = new URL(start.headers.get('location') ?? '', url);
      location.searchParams.set('digest', digest);
      const put = await fetch(location, { method: 'PUT', body: bytes, headers: { ...headers, 'content-type': 'application/octet-stream' } });
      if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
      return { mediaType, digest, size: bytes.length, ...(annotations ? { annotations } : {}) };
    },
    async pushManifest(repository, reference, manifest) {
      const bytes = Buffer.from(JSON.stringify(manifest));
      const mediaType = (manifest as { mediaType?: string }).mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
      const put = await fetch(`${url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { ...headers, 'content-type': mediaType } });
      if (put.status !== 201) throw new Error(`manifest push: ${put.status} ${await put.text()}`);
      return { mediaType, digest: digestOf(bytes), size: bytes.length };
    },
    stop: async () => {
      running.kill();
      if (running.exitCode === null) await new Promise((resolve) => running.once('exit', resolve));
    },
  };
}

export const MODELPACK = {
  artifactType: 'application/vnd.cncf.model.manifest.v1+json',
  config: 'application/vnd.cncf.model.config.v1+json',
  weightRaw: 'application/vnd.cncf.model.weight.v1.raw',
  weightConfigRaw: 'application/vnd.cncf.model.weight.config.v1.raw',
  weightTar: 'application/vnd.cncf.model.weight.v1.tar',
  docRaw: 'application/vnd.cncf.model.doc.v1.raw',
  filepath: 'org.cncf.model.filepath',
};

export const KITOPS = {
  config: 'application/vnd.kitops.modelkit.config.v1+json',
  modelTarGzip: 'application/vnd.kitops.modelkit.model.v1.tar+gzip',
  docsTarGzip: 'application/vnd.kitops.modelkit.docs.v1.tar+gzip',
};

/**
 * Pushes a ModelPack artifact as modctl lays one out: a `.raw` layer per file, named by
 * `org.cncf.model.filepath`, a config naming the layers' digests as diffIds; tagged `tag`.
 */
export async function pushModelPack(registry: RunningRegistry, repository: string, tag: string, files: Record<string, Buffer | string>, extra: { tarLayer?: Buffer } = {}): Promise<Descriptor & { layers: Descriptor[]; config: Descriptor }> {
  const layers: Descriptor[] = [];
  for (const [path, content] of Object.entries(files)) {
    const mediaType = path.endsWith('.safetensors') ? MODELPACK.weightRaw : path.endsWith('.md') ? MODELPACK.docRaw : MODELPACK.weightConfigRaw;
    layers.push(await registry.pushBlob(repository, Buffer.from(content), mediaType, { [MODELPACK.filepath]: path }));
  }
  if (extra.tarLayer) layers.push(await registry.pushBlob(repository, extra.tarLayer, MODELPACK.weightTar));
  const config = await registry.pushBlob(
    repository,
    Buffer.from(JSON.stringify({ descriptor: { name: repository, createdAt: '2025-01-01T00:00:00Z' }, config: { format: 'safetensors' }, modelfs: { type: 'layers', diffIds: layers.map((l) => l.digest) } })),
    MODELPACK.config,
  );
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: MODELPACK.artifactType, config, layers };
  return { ...(await registry.pushManifest(repository, tag, manifest)), layers, config };
}

/**
 * Token auth for the real registry, as Docker Hub, GHCR and Harbor do it: a loopback token
 * service that takes a Basic login and mints ES256 JWTs the registry checks against a root
 * certificate (made by @sigstore/mock's CA, the signing key's own).
 */
export interface TokenService {
  /** The registry's `auth:` configuration. */
  config: string;
  url: string;
  /** Token requests seen, by the Basic user they came with (or '' anonymous). */
  requests: string[];
  mint(repository: string, actions: string[]): string;
  close(): Promise<void>;
}

export async function startTokenService(dir: string, login: { user: string; password: string }): Promise<TokenService> {
  const { generateKeyPairSync, sign, randomUUID } = await import('node:crypto');
  const { createServer: createHttpServer } = await import('node:http');
  const { initializeCA } = await import('@sigstore/mock');
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = await initializeCA(keys);
  const der = Buffer.from(ca.rootCertificate.buffer, ca.rootCertificate.byteOffset, ca.rootCertificate.byteLength);
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  writeFileSync(join(dir, 'token-root.pem'), pem);
  const b64 = (value: Buffer | string): string => Buffer.from(value).toString('base64url');
  const mint = (repository: string, actions: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [der.toString('base64')] }));
    const claims = b64(JSON.stringify({ iss: 'aisc-test-issuer', sub: login.user, aud: 'aisc-test', exp: now + 600, nbf: now - 60, iat: now, jti: randomUUID(), access: [{ type: 'repository', name: repository, actions }] }));
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key: keys.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${header}.${claims}.${b64(signature)}`;
  };
  const requests: string[] = [];
  const server = createHttpServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const [user = '', password = ''] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    requests.push(user);
    if (user !== login.user || password !== login.password) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    const scope = /^repository:([^:]+):(.+)$/.exec(url.searchParams.get('scope') ?? '');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: mint(scope?.[1] ?? '', (scope?.[2] ?? 'pull').split(',')) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/token`;
  return {
    config: ['auth:', '  token:', `    realm: ${url}`, '    service: aisc-test', '    issuer: aisc-test-issuer', `    rootcertbundle: ${join(dir, 'token-root.pem')}`].join('\n'),
    url,
    requests,
    mint,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** DSSE's pre-authentication encoding, as the spec writes it. */
function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${body.length} `), body]);
}

export interface CosignKey {
  privateKey: KeyObject;
  publicPem: string;
}

/** cosign's in-toto statement over an image: its sign predicate, the manifest digest as subject. */
export function makeCosignStatement(name: string, digest: string, predicateType = 'https://sigstore.dev/cosign/sign/v1'): Buffer {
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name, digest: { sha256: digest.slice(7) } }], predicateType, predicate: {} }));
}

/** The Sigstore bundle `cosign sign --key k --new-bundle-format --tlog-upload=false` makes over a manifest digest. */
export function makeCosignBundle(name: string, digest: string, key: CosignKey, predicateType?: string): Buffer {
  const statement = makeCosignStatement(name, digest, predicateType);
  const type = 'application/vnd.in-toto+json';
  const signature = signWith('sha256', pae(type, statement), key.privateKey);
  return Buffer.from(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] },
      dsseEnvelope: { payload: statement.toString('base64'), payloadType: type, signatures: [{ sig: signature.toString('base64'), keyid: '' }] },
    }),
  );
}

/**
 * Signs a manifest as `cosign sign --key k --new-bundle-format --tlog-upload=false` does: an
 * in-toto statement of cosign's sign predicate naming the manifest digest, in a DSSE envelope in
 * a Sigstore v0.3 bundle with a public-key hint, attached as a referrer (artifactType the bundle
 * type, an empty config, the manifest as subject) and listed in the tag-schema index
 * `sha256-<hex>`, as cosign does on a registry without the referrers API.
 */
export async function attachCosignBundle(registry: RunningRegistry, repository: string, subject: Descriptor, key: CosignKey | Buffer, options: { subjectDigest?: string; predicateType?: string } = {}): Promise<Descriptor> {
  const bundle = Buffer.isBuffer(key) ? key : makeCosignBundle(`${registry.host}/${repository}`, options.subjectDigest ?? subject.digest, key, options.predicateType);
  const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const layer = await registry.pushBlob(repository, bundle, bundleType, { 'org.opencontainers.image.title': `sha256-${sha256(bundle)}.sigstore.json` });
  const config = await registry.pushBlob(repository, Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: bundleType, config, layers: [layer], subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size }, annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' } };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const referrer = await registry.pushManifest(repository, digestOf(bytes), manifest);
  await registry.pushManifest(repository, `sha256-${subject.digest.slice(7)}`, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.size, artifactType: bundleType, annotations: manifest.annotations }],
  });
  return referrer;
}

/**
 * Signs a manifest as cosign's legacy `cosign sign --key k` does: the simplesigning payload as a
 * layer of an image tagged `sha256-<hex>.sig`, its base64 signature in the layer's
 * `dev.cosignproject.cosign/signature` annotation.
 */
export async function attachLegacySignature(registry: RunningRegistry, repository: string, subject: Descriptor, key: CosignKey): Promise<void> {
  const { sign } = await import('node:crypto');
  const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': `${registry.host}/${repository}` }, image: { 'docker-manifest-digest': subject.digest }, type: 'cosign container image signature' }, optional: null }));
  const signature = sign('sha256', payload, key.privateKey).toString('base64');
  const layer = await registry.pushBlob(repository, payload, 'application/vnd.dev.cosign.simplesigning.v1+json', { 'dev.cosignproject.cosign/signature': signature });
  const config = await registry.pushBlob(repository, Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } })), 'application/vnd.oci.image.config.v1+json');
  await registry.pushManifest(repository, `sha256-${subject.digest.slice(7)}.sig`, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] });
}

export async function makeCosignKey(dir: string, name = 'cosign'): Promise<CosignKey & { publicPath: string }> {
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const publicPath = join(dir, `${name}.pub`);
  writeFileSync(publicPath, publicPem);
  return { privateKey, publicPem, publicPath };
}
