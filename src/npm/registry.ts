import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { AiscError, isAiscError } from '../errors.js';
import { getRegistryFor, getTokenFor, type RegistryConfig } from './config.js';

export interface RegistryClientOptions {
  /** Requests in flight at once. */
  concurrency?: number;
  /** Per attempt: headers and body must each arrive within this. */
  timeoutMs?: number;
  /** Attempts after the first, on 429, 5xx and network errors. */
  retries?: number;
  /** A response body larger than this is refused (packuments of popular packages reach tens of MB). */
  maxBytes?: number;
  backoffMs?: number;
}

/**
 * Fetches package documents from npm registries: keep-alive connections, bounded concurrency,
 * retries with backoff on 429/5xx (honouring Retry-After), timeouts, a size cap, scoped registries
 * and tokens from .npmrc. Tokens are sent only to the registry they are for and never appear in
 * an error.
 */
export class RegistryClient {
  private readonly agent: Agent;
  private readonly options: Required<RegistryClientOptions>;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly config: RegistryConfig,
    options: RegistryClientOptions = {},
  ) {
    // npm's fetch-timeout and fetch-retries (from .npmrc or the environment) apply unless the caller says otherwise.
    const fromConfig = { ...(config.fetchTimeout !== undefined ? { timeoutMs: config.fetchTimeout } : {}), ...(config.fetchRetries !== undefined ? { retries: config.fetchRetries } : {}) };
    this.options = { concurrency: 16, timeoutMs: 30_000, retries: 3, maxBytes: 64 * 1024 * 1024, backoffMs: 250, ...fromConfig, ...options };
    this.agent = new Agent({ connections: this.options.concurrency, keepAliveTimeout: 10_000, headersTimeout: this.options.timeoutMs, bodyTimeout: this.options.timeoutMs });
  }

  /** The full packument of `name` (all versions, `time`, dist.signatures and attestations). */
  async getPackument(name: string): Promise<unknown> {
    const url = `${getRegistryFor(this.config, name)}${name.startsWith('@') ? name.replace('/', '%2f') : encodeURIComponent(name)}`;
    return this.getJson(url, name);
  }

  async getJson(url: string, what: string): Promise<unknown> {
    await this.acquire();
    try {
      return await this.fetchWithRetries(url, what);
    } finally {
      this.release();
    }
  }

  private async fetchWithRetries(url: string, what: string): Promise<unknown> {
    const token = getTokenFor(this.config, url);
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      let failure: AiscError<string>;
      try {
        const response = await request(url, {
          dispatcher: this.agent,
          headers: { accept: 'application/json', 'user-agent': 'aisc', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          signal: AbortSignal.timeout(this.options.timeoutMs * 2),
        });
        if (response.statusCode === 200) return parseBody(await readCapped(response.body, this.options.maxBytes, what), what);
        await response.body.dump();
        if (response.statusCode === 404) throw new AiscError('REGISTRY_NOT_FOUND', `${what}: not found in the registry (404 from ${redact(url)})`);
        failure = new AiscError('REGISTRY_UNREACHABLE', `${what}: the registry answered ${response.statusCode} (${redact(url)})`);
        if (response.statusCode !== 429 && response.statusCode < 500) throw failure;
        const after = Number(response.headers['retry-after']);
        if (Number.isFinite(after)) retryAfterMs = Math.min(after * 1000, 30_000);
      } catch (error) {
        if (error instanceof AiscError && error.code !== 'REGISTRY_UNREACHABLE') throw error;
        failure = isAiscError(error) ? error : new AiscError('REGISTRY_UNREACHABLE', `${what}: ${describeNetworkError(error)} (${redact(url)})`);
      }
      if (attempt >= this.options.retries) throw failure;
      await sleep(retryAfterMs ?? this.options.backoffMs * 2 ** attempt * (1 + Math.random() / 2));
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new AiscError('REGISTRY_RESPONSE_INVALID', `${what}: the registry's answer is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseBody(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new AiscError('REGISTRY_RESPONSE_INVALID', `${what}: the registry's answer is not JSON`);
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')) return 'the registry did not answer in time';
  return `cannot reach the registry (${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)})`;
}

/** URLs in messages lose any credentials they carry. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}
