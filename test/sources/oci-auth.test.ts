import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorLines, runAiscAsync } from '../helpers/cli.js';
import { makeCosignBundle, makeCosignKey } from '../helpers/oci-registry.js';
import { startRegistry, type LoopbackServer, type Route } from '../helpers/registry-server.js';
import { makeTempDir } from '../helpers/temp.js';

/**
 * The registry conventions a loopback stub can put on the wire exactly: Bearer and Basic
 * challenges, the docker login, a blob redirect to storage elsewhere, 403, 429 with Retry-After,
 * a Docker-Content-Digest that lies. (The real-registry tests are in oci.test.ts.)
 */
const digestOf = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const WEIGHTS = Buffer.from('{"w": 1}\n');
const CONFIG = Buffer.from('{"descriptor": {"name": "tiny"}}');
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: digestOf(CONFIG), size: CONFIG.length },
    layers: [{ mediaType: 'application/vnd.cncf.model.weight.config.v1.raw', digest: digestOf(WEIGHTS), size: WEIGHTS.length, annotations: { 'org.cncf.model.filepath': 'config.json' } }],
  }),
);
const TOKEN = 'tok3n';

const servers: LoopbackServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(routes: Record<string, Route>): Promise<LoopbackServer> {
  const server = await startRegistry(routes);
  servers.push(server);
  return server;
}

const host = (server: LoopbackServer): string => new URL(server.url).host;

function manifestRoute(guard: (request: IncomingMessage, response: ServerResponse) => boolean, headers: Record<string, string> = {}): Route {
  return (request, response) => {
    if (!guard(request, response)) return;
    response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digestOf(MANIFEST), ...headers }).end(MANIFEST);
  };
}

function bytesRoute(bytes: Buffer, guard: (request: IncomingMessage, response: ServerResponse) => boolean = () => true): Route {
  return (request, response) => {
    if (guard(request, response)) response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
  };
}

function dockerConfig(dir: string, registry: string, user: string, password: string): Record<string, string> {
  mkdirSync(join(dir, 'docker'), { recursive: true });
  writeFileSync(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  return { DOCKER_CONFIG: join(dir, 'docker'), AISC_OCI_CACHE: join(dir, 'cache'), REGISTRY_AUTH_FILE: '' };
}

describe('oci:// registry auth and answers', () => {
  it('answers a Bearer challenge with a token fetched with the docker login, and never sends credentials to blob storage', async () => {
    const storage = await start({ [`/blob/${digestOf(WEIGHTS)}`]: bytesRoute(WEIGHTS), [`/blob/${digestOf(CONFIG)}`]: bytesRoute(CONFIG) });
    const bearer = (request: IncomingMessage, response: ServerResponse): boolean => {
      if (request.headers.authorization === `Bearer ${TOKEN}`) return true;
      response.writeHead(401, { 'www-authenticate': `Bearer realm="${registry.url}token",service="stub",scope="repository:acme/tiny:pull"`, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return false;
    };
    const redirect = (digest: string): Route => (request, response) => {
      if (bearer(request, response)) response.writeHead(307, { location: `${storage.url}blob/${digest}` }).end();
    };
    const registry: LoopbackServer = await start({
      '/v2/acme/tiny/manifests/v1': manifestRoute(bearer),
      [`/v2/acme/tiny/manifests/${digestOf(MANIFEST)}`]: manifestRoute(bearer),
      [`/v2/acme/tiny/blobs/${digestOf(CONFIG)}`]: redirect(digestOf(CONFIG)),
      [`/v2/acme/tiny/blobs/${digestOf(WEIGHTS)}`]: redirect(digestOf(WEIGHTS)),
      '/token?service=stub&scope=repository%3Aacme%2Ftiny%3Apull': (request, response) => {
        const ok = request.headers.authorization === `Basic ${Buffer.from('me:pw').toString('base64')}`;
        response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? JSON.stringify({ token: TOKEN }) : '{}');
      },
    });
    const dir = makeTempDir();
    const spec = `oci://${host(registry)}/acme/tiny:v1`;

    const anonymous = await runAiscAsync(['lock', spec, '--kind', 'model'], dir, { DOCKER_CONFIG: join(dir, 'none'), REGISTRY_AUTH_FILE: '' });
    expect(anonymous.status).toBe(2);
    expect(errorLines(anonymous)).toEqual([`aisc: OCI_AUTH_REQUIRED oci://${host(registry)}/acme/tiny: manifest v1: the registry requires a login, and none for ${host(registry)} is in REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json (docker login ${host(registry)})`]);

    const wrong = await runAiscAsync(['lock', spec, '--kind', 'model'], dir, dockerConfig(dir, host(registry), 'me', 'nope'));
    expect(wrong.status).toBe(2);
    expect(errorLines(wrong)).toEqual([`aisc: OCI_AUTH_REQUIRED oci://${host(registry)}/acme/tiny: manifest v1: the token service refused the login from ${join(dir, 'docker', 'config.json')} (401)`]);

    const env = dockerConfig(dir, host(registry), 'me', 'pw');
    const locked = await runAiscAsync(['lock', spec, '--kind', 'model'], dir, env);
    expect(locked.stderr).toContain('not inspected');
    expect(locked.status).toBe(0);
    expect(registry.hits.get('/token?service=stub&scope=repository%3Aacme%2Ftiny%3Apull')).toBe(3);
    const fetched = await runAiscAsync(['fetch'], dir, env);
    expect(fetched.stderr).toBe('');
    expect(fetched.status).toBe(0);
    expect(readFileSync(join(dir, 'cache', host(registry).replace(':', '+'), 'acme', 'tiny', digestOf(MANIFEST).replace(':', '-'), 'config.json')).equals(WEIGHTS)).toBe(true);
    // Storage saw the blob requests, and no credentials with them.
    expect(storage.hits.get(`/blob/${digestOf(WEIGHTS)}`)).toBe(1);
    expect(storage.headers.every((headers) => headers.authorization === undefined)).toBe(true);
  });

  it('answers a Basic challenge with the docker login', async () => {
    const basic = (request: IncomingMessage, response: ServerResponse): boolean => {
      if (request.headers.authorization === `Basic ${Buffer.from('me:pw').toString('base64')}`) return true;
      response.writeHead(401, { 'www-authenticate': 'Basic realm="Registry Realm"' }).end();
      return false;
    };
    const registry = await start({ '/v2/acme/tiny/manifests/v1': manifestRoute(basic), [`/v2/acme/tiny/blobs/${digestOf(CONFIG)}`]: bytesRoute(CONFIG, basic) });
    const dir = makeTempDir();
    const locked = await runAiscAsync(['lock', `oci://${host(registry)}/acme/tiny:v1`, '--kind', 'model'], dir, dockerConfig(dir, host(registry), 'me', 'pw'));
    expect(locked.status).toBe(0);
  });

  it('names a denial, a rate limit past what is worth waiting for, and a Docker-Content-Digest that is not the bytes', async () => {
    const registry = await start({
      '/v2/acme/denied/manifests/v1': (_request, response) => response.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'),
      '/v2/acme/busy/manifests/v1': (_request, response) => response.writeHead(429, { 'retry-after': '3600', 'content-type': 'application/json' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}'),
      '/v2/acme/liar/manifests/v1': manifestRoute(() => true, { 'docker-content-digest': `sha256:${'0'.repeat(64)}` }),
    });
    const dir = makeTempDir();
    const env = { DOCKER_CONFIG: join(dir, 'none'), REGISTRY_AUTH_FILE: '' };
    const denied = await runAiscAsync(['lock', `oci://${host(registry)}/acme/denied:v1`], dir, env);
    expect(denied.status).toBe(2);
    expect(errorLines(denied)).toEqual([`aisc: OCI_ACCESS_DENIED oci://${host(registry)}/acme/denied: manifest v1: access denied (DENIED)`]);
    const started = Date.now();
    const busy = await runAiscAsync(['lock', `oci://${host(registry)}/acme/busy:v1`], dir, env);
    expect(busy.status).toBe(2);
    expect(errorLines(busy)).toEqual([`aisc: OCI_RATE_LIMITED oci://${host(registry)}/acme/busy: manifest v1: the registry is rate limiting (429) and asks to retry after 3600 s; try again later (http://${host(registry)}/v2/acme/busy/manifests/v1)`]);
    expect(Date.now() - started).toBeLessThan(10_000);
    const liar = await runAiscAsync(['lock', `oci://${host(registry)}/acme/liar:v1`], dir, env);
    expect(liar.status).toBe(1);
    expect(errorLines(liar)).toEqual([`aisc: CONTENT_MISMATCH oci://${host(registry)}/acme/liar: manifest v1: Docker-Content-Digest says sha256:${'0'.repeat(64)}, the bytes served are ${digestOf(MANIFEST)}`]);
  });

  it('honours a short Retry-After on 429 and then succeeds', async () => {
    let calls = 0;
    const registry = await start({
      '/v2/acme/tiny/manifests/v1': (request, response) => {
        if (calls++ === 0) response.writeHead(429, { 'retry-after': '1' }).end();
        else manifestRoute(() => true)(request, response);
      },
      [`/v2/acme/tiny/blobs/${digestOf(CONFIG)}`]: bytesRoute(CONFIG),
    });
    const dir = makeTempDir();
    const started = Date.now();
    const locked = await runAiscAsync(['lock', `oci://${host(registry)}/acme/tiny:v1`, '--kind', 'model'], dir, { DOCKER_CONFIG: join(dir, 'none'), REGISTRY_AUTH_FILE: '', AISC_OCI_CACHE: join(dir, 'c') });
    expect(locked.status).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(calls).toBe(2);
  });
});

describe('oci:// signatures through the referrers API', () => {
  it('asks the referrers API first (a registry with OCI 1.1), and the tag schema only where it is missing', async () => {
    const dir = makeTempDir();
    const key = await makeCosignKey(dir);
    const bundle = makeCosignBundle('stub/acme/tiny', digestOf(MANIFEST), key);
    const empty = Buffer.from('{}');
    const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: bundleType,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(empty), size: 2 },
        layers: [{ mediaType: bundleType, digest: digestOf(bundle), size: bundle.length }],
        subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(MANIFEST), size: MANIFEST.length },
      }),
    );
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(referrer), size: referrer.length, artifactType: bundleType }] }));
    const registry = await start({
      '/v2/acme/tiny/manifests/v1': manifestRoute(() => true),
      [`/v2/acme/tiny/blobs/${digestOf(CONFIG)}`]: bytesRoute(CONFIG),
      [`/v2/acme/tiny/referrers/${digestOf(MANIFEST)}`]: (_request, response) => response.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(index),
      [`/v2/acme/tiny/manifests/${digestOf(referrer)}`]: (_request, response) => response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(referrer),
      [`/v2/acme/tiny/blobs/${digestOf(bundle)}`]: bytesRoute(bundle),
    });
    const locked = await runAiscAsync(['lock', `oci://${host(registry)}/acme/tiny:v1`, '--kind', 'model', '--key', 'cosign.pub'], dir, { DOCKER_CONFIG: join(dir, 'none'), REGISTRY_AUTH_FILE: '' });
    expect(locked.stderr).toContain('not inspected');
    expect(locked.status).toBe(0);
    expect(locked.stdout).toContain('signed by key sha256:');
    expect(registry.hits.get(`/v2/acme/tiny/referrers/${digestOf(MANIFEST)}`)).toBe(1);
    expect(registry.hits.get(`/v2/acme/tiny/manifests/sha256-${digestOf(MANIFEST).slice(7)}`)).toBeUndefined();
  });
});
