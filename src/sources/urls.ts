import type { Readable } from 'node:stream';
import { AiscError } from '../errors.js';

/** URL and HTTP helpers that need no network module: parsing a URL costs no undici import. */

/**
 * Reads a whole body, refusing one longer than `maxBytes` as soon as it is (and destroying it).
 * Through 'data' events, not `for await`: an async iterator costs a promise a chunk, which over
 * 1,500 packuments was ~75 ms of a lock's main thread.
 */
export function readBounded(body: Readable, maxBytes: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        body.destroy();
        reject(new AiscError('HTTP_RESPONSE_INVALID', `${what}: the answer is larger than ${maxBytes} bytes`));
      } else chunks.push(chunk);
    });
    body.once('error', reject);
    body.once('end', () => resolve(Buffer.concat(chunks, size)));
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Parses a URL given by a user or a lockfile: https, or http to a loopback host (tests, local
 * mirrors). No credentials inside the URL: they would end up in the lockfile.
 */
export function parseHttpsUrl(text: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AiscError('USAGE', `${where}: expected a URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) throw new AiscError('USAGE', `${where}: ${redact(text)}: plain http is refused, https is required (http only for loopback hosts)`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AiscError('USAGE', `${where}: expected an https:// URL, got ${JSON.stringify(url.protocol)}`);
  if (url.username !== '' || url.password !== '') throw new AiscError('USAGE', `${where}: a URL with credentials in it would be recorded in the lockfile; use a token in the environment`);
  return url;
}

export function describeNetworkError(error: unknown, server = 'the server'): string {
  const code = (error as { code?: unknown }).code;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')) return `${server} did not answer in time`;
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'the connection was closed before the answer was complete';
  return `cannot connect (${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)})`;
}

/** URLs in messages lose any credentials and query they carry (signed CDN URLs hold secrets there). */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/\?.*$/, '');
  }
}
