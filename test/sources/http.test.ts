import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/sources/http.js';
import { parseHttpsUrl, parseRetryAfter } from '../../src/sources/urls.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the one HTTP client', () => {
  it('sends credentials only to their origin: a redirect to another origin goes without them', async () => {
    const seen: (string | undefined)[] = [];
    const other = await serve((request, response) => {
      seen.push(request.headers.authorization);
      response.end('bytes');
    });
    const origin = await serve((request, response) => {
      seen.push(request.headers.authorization);
      response.writeHead(302, { location: `${other}/file` }).end();
    });
    const client = new HttpClient({ retries: 0 });
    const response = await client.send(`${origin}/x`, { what: 't', credentials: { origin, headers: { authorization: 'Bearer secret' } } });
    expect(await response.body.text()).toBe('bytes');
    expect(response.redirectedFrom?.location).toBe(`${other}/file`);
    expect(seen).toEqual(['Bearer secret', undefined]);
    await client.close();
  });

  it('refuses a redirect from https… to plain http on another host, and too many redirects', async () => {
    const loop = await serve((request, response) => void response.writeHead(301, { location: request.url ?? '/' }).end());
    const client = new HttpClient({ retries: 0, maxRedirects: 3 });
    await expect(client.send(`${loop}/a`, { what: 't' })).rejects.toMatchObject({ code: 'HTTP_RESPONSE_INVALID', message: expect.stringContaining('more than 3 redirects') as unknown });
    const downgrade = await serve((_request, response) => void response.writeHead(302, { location: 'http://example.com/x' }).end());
    await expect(client.send(`${downgrade}/a`, { what: 't' })).rejects.toMatchObject({ message: expect.stringContaining('only https is followed') as unknown });
    await client.close();
  });

  it('retries 5xx with backoff and gives up with one coded line; a stalled body is cut off', async () => {
    let calls = 0;
    const flaky = await serve((_request, response) => {
      calls++;
      if (calls < 3) response.writeHead(503).end();
      else response.end('ok');
    });
    const client = new HttpClient({ retries: 3, backoffMs: 5 });
    expect(await (await client.send(flaky, { what: 't' })).body.text()).toBe('ok');
    expect(calls).toBe(3);
    const down = await serve((_request, response) => void response.writeHead(500).end());
    await expect(new HttpClient({ retries: 1, backoffMs: 5 }).send(down, { what: 'thing', server: 'the Hub' })).rejects.toMatchObject({ code: 'HTTP_FAILED', message: expect.stringMatching(/^thing: the Hub answered 500 \(http:/) as unknown });
    const stall = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('partial');
    });
    const slow = new HttpClient({ retries: 0, timeoutMs: 200 });
    const response = await slow.send(stall, { what: 't' });
    await expect(response.body.text()).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    await slow.close();
  });

  it('fails at once when Retry-After asks for longer than it will wait', async () => {
    const busy = await serve((_request, response) => void response.writeHead(429, { 'retry-after': '3600' }).end());
    await expect(new HttpClient({ retries: 3 }).send(busy, { what: 't' })).rejects.toMatchObject({ message: expect.stringContaining('asks to retry after 3600 s') as unknown });
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
  });

  it('goes through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host', async () => {
    const proxied: string[] = [];
    const proxy = await serve((request, response) => {
      proxied.push(request.url ?? '');
      response.end('via proxy');
    });
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    try {
      process.env.HTTP_PROXY = proxy;
      process.env.NO_PROXY = 'direct.test';
      const client = new HttpClient({ retries: 0 });
      expect(await (await client.send('http://models.internal.test/w.bin', { what: 't' })).body.text()).toBe('via proxy');
      expect(proxied).toEqual(['http://models.internal.test/w.bin']);
      await client.close();
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('parses URLs as a lockfile may record them', () => {
    expect(parseHttpsUrl('https://example.com/a', 'x').href).toBe('https://example.com/a');
    expect(parseHttpsUrl('http://[::1]:8080/a', 'x').hostname).toBe('[::1]');
    expect(() => parseHttpsUrl('http://10.0.0.1/a', 'x')).toThrow(/https is required/);
    expect(() => parseHttpsUrl('https://user:pw@example.com/a', 'x')).toThrow(/credentials/);
    expect(() => parseHttpsUrl('ftp://example.com/a', 'x')).toThrow(/expected an https:\/\/ URL/);
  });
});
