import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getTokenFor, MAX_NPMRC_BYTES, readRegistryConfig, type RegistryConfig } from '../../src/npm/config.js';
import { RegistryClient } from '../../src/npm/registry.js';
import { json, startRegistry, type LoopbackServer } from '../helpers/registry-server.js';
import { makeTempDir } from '../helpers/temp.js';

const open: (LoopbackServer | RegistryClient)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function serve(routes: Parameters<typeof startRegistry>[0]): Promise<LoopbackServer> {
  const server = await startRegistry(routes);
  open.push(server);
  return server;
}

function client(url: string, options: ConstructorParameters<typeof RegistryClient>[1] = {}, extra: Partial<RegistryConfig> = {}): RegistryClient {
  const c = new RegistryClient({ registry: url, scopes: new Map(), tokens: new Map(), ...extra }, { backoffMs: 10, ...options });
  open.push(c);
  return c;
}

describe('RegistryClient on a real loopback HTTP server', () => {
  it('fetches packuments, scoped ones from their own registry, with the token for that registry only', async () => {
    const main = await serve({ '/left-pad': json({ name: 'left-pad' }) });
    const scoped = await serve({ '/@acme%2fmodels': json({ name: '@acme/models' }) });
    const token = 's3cr3t-token';
    const c = client(main.url, {}, { scopes: new Map([['@acme', scoped.url]]), tokens: new Map([[scoped.url.replace('http:', ''), token]]) });
    await expect(c.getPackument('left-pad')).resolves.toEqual({ name: 'left-pad' });
    await expect(c.getPackument('@acme/models')).resolves.toEqual({ name: '@acme/models' });
    expect(main.headers[0]?.authorization).toBeUndefined();
    expect(scoped.headers[0]?.authorization).toBe(`Bearer ${token}`);
  });

  it('does not retry a 404, retries a 500 and a 429 until they pass', async () => {
    let calls = 0;
    const server = await serve({
      '/flaky': (_req, res) => (++calls < 3 ? res.writeHead(calls === 1 ? 500 : 429, { 'retry-after': '0' }).end() : res.writeHead(200).end('{"ok":true}')),
    });
    const c = client(server.url);
    await expect(c.getPackument('missing')).rejects.toMatchObject({ code: 'REGISTRY_NOT_FOUND' });
    expect(server.hits.get('/missing')).toBe(1);
    await expect(c.getPackument('flaky')).resolves.toEqual({ ok: true });
    expect(server.hits.get('/flaky')).toBe(3);
  });

  it('gives up after its retries, on a timeout, on garbage and on an oversized body', async () => {
    const server = await serve({
      '/down': (_req, res) => res.writeHead(503).end(),
      '/slow': () => undefined,
      '/garbage': (_req, res) => res.writeHead(200).end('<html>'),
      '/huge': (_req, res) => res.writeHead(200).end(`"${'x'.repeat(10_000)}"`),
    });
    const c = client(server.url, { retries: 2, timeoutMs: 200, maxBytes: 1024 });
    await expect(c.getPackument('down')).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
    expect(server.hits.get('/down')).toBe(3);
    await expect(client(server.url, { retries: 0, timeoutMs: 200 }).getPackument('slow')).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE', message: expect.stringContaining('in time') as unknown });
    await expect(c.getPackument('garbage')).rejects.toMatchObject({ code: 'REGISTRY_RESPONSE_INVALID' });
    await expect(c.getPackument('huge')).rejects.toMatchObject({ code: 'REGISTRY_RESPONSE_INVALID' });
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const routes: Parameters<typeof startRegistry>[0] = {};
    for (let i = 0; i < 20; i++) routes[`/p${i}`] = (_req, res) => setTimeout(() => res.writeHead(200).end('{}'), 30);
    const server = await serve(routes);
    const c = client(server.url, { concurrency: 4 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.getPackument(`p${i}`)));
    expect(server.peak()).toBeLessThanOrEqual(4);
    expect(server.peak()).toBeGreaterThan(1);
  });
});

describe('readRegistryConfig', () => {
  it('reads .npmrc (user, then project), npm_config_registry and --registry in npm order, expanding ${VARS}', async () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, 'home'));
    writeFileSync(join(dir, 'home', '.npmrc'), 'registry=https://user.example/\n//user.example/:_authToken=${USER_TOKEN}\n');
    writeFileSync(join(dir, '.npmrc'), '@acme:registry=https://npm.acme.example/npm\n//npm.acme.example/npm/:_authToken=acme-token\n');
    const env = { USER_TOKEN: 'from-env' };
    const config = await readRegistryConfig({ cwd: dir, env, userConfig: join(dir, 'home', '.npmrc') });
    expect(config).toEqual({ registry: 'https://user.example/', scopes: new Map([['@acme', 'https://npm.acme.example/npm/']]), tokens: new Map([['//user.example/', 'from-env'], ['//npm.acme.example/npm/', 'acme-token']]) });
    expect((await readRegistryConfig({ cwd: dir, env: { ...env, npm_config_registry: 'https://env.example' }, userConfig: join(dir, 'home', '.npmrc') })).registry).toBe('https://env.example/');
    expect((await readRegistryConfig({ cwd: dir, env, registry: 'https://flag.example', userConfig: join(dir, 'home', '.npmrc') })).registry).toBe('https://flag.example/');
    expect(getTokenFor(config, 'https://npm.acme.example/npm/@acme%2fx')).toBe('acme-token');
    expect(getTokenFor(config, 'https://npm.acme.example/other/x')).toBeUndefined();
  });

  it('refuses a registry that is not an http(s) URL, naming where it came from (exit 2, not a crash)', async () => {
    const dir = makeTempDir();
    const none = join(dir, 'none');
    await expect(readRegistryConfig({ cwd: dir, env: {}, registry: 'notaurl', userConfig: none })).rejects.toMatchObject({ code: 'USAGE', message: '--registry: expected an http(s) registry URL, got "notaurl"' });
    await expect(readRegistryConfig({ cwd: dir, env: { npm_config_registry: 'file:///etc' }, userConfig: none })).rejects.toThrow('npm_config_registry: expected an http(s) registry URL');
    writeFileSync(join(dir, '.npmrc'), '@acme:registry=ftp://acme.example\n');
    await expect(readRegistryConfig({ cwd: dir, env: {}, userConfig: none })).rejects.toThrow(`${join(dir, '.npmrc')}: @acme:registry: expected an http(s) registry URL, got "ftp://acme.example"`);
  });

  it('reads an .npmrc bounded: one past the limit, a folder or a FIFO in its place is a coded error, never read whole or waited on', async () => {
    const dir = makeTempDir();
    const none = join(dir, 'none');
    // Just at the limit it is read (a registry line padded with comment lines).
    const line = '# padding\n';
    const padded = `registry=https://padded.example/\n${line.repeat(Math.floor((MAX_NPMRC_BYTES - 33) / line.length))}`;
    writeFileSync(join(dir, '.npmrc'), padded.padEnd(MAX_NPMRC_BYTES, '#'));
    await expect(readRegistryConfig({ cwd: dir, env: {}, userConfig: none })).resolves.toMatchObject({ registry: 'https://padded.example/' });
    writeFileSync(join(dir, '.npmrc'), `${padded.padEnd(MAX_NPMRC_BYTES, '#')}#`);
    await expect(readRegistryConfig({ cwd: dir, env: {}, userConfig: none })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE', message: `${join(dir, '.npmrc')}: expected a .npmrc of at most ${MAX_NPMRC_BYTES} bytes, got ${MAX_NPMRC_BYTES + 1}` });
    rmSync(join(dir, '.npmrc'));
    mkdirSync(join(dir, '.npmrc'));
    await expect(readRegistryConfig({ cwd: dir, env: {}, userConfig: none })).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
    rmSync(join(dir, '.npmrc'), { recursive: true });
    execFileSync('mkfifo', [join(dir, '.npmrc')]);
    await expect(readRegistryConfig({ cwd: dir, env: {}, userConfig: none })).rejects.toMatchObject({ code: 'FILE_UNREADABLE', message: expect.stringContaining('regular file') as unknown });
  });
});
