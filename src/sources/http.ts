import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { AiscError } from '../errors.js';
import { describeNetworkError, isLoopbackHost, parseRetryAfter, readBounded, redact } from './urls.js';

export { describeNetworkError, isLoopbackHost, parseHttpsUrl, readBounded, redact } from './urls.js';

export interface HttpClientOptions {
  /** Requests in flight at once. */
  concurrency?: number;
  /** Per attempt: headers must arrive within this, and the body may stall no longer than this between chunks. */
  timeoutMs?: number;
  /** Attempts after the first, on 429, 5xx and network errors. */
  retries?: number;
  backoffMs?: number;
  /** The longest Retry-After honoured; a server asking for more fails the request now. */
  maxRetryAfterMs?: number;
  maxRedirects?: number;
}

/** A secret header sent only to one origin: never to another after a redirect. */
export interface Credentials {
  origin: string;
  headers: Record<string, string>;
}

export interface HttpRequest {
  /** What is being fetched, for messages ("aisc lock hf://org/name", "registry packument of x"). */
  what: string;
  /** Who answers, for messages: "the registry", "the Hub" (default "the server"). */
  server?: string;
  headers?: Record<string, string>;
  credentials?: Credentials;
  method?: 'GET' | 'HEAD';
  /** Ask for the bytes from this offset on (resume); a 200 instead of 206 means the server ignored it. */
  from?: number;
  /** Answers to hand back instead of retrying (a caller that maps 404/401/403 itself). */
  accept?: (status: number) => boolean;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; a repeated header joined with ', '. */
  headers: Record<string, string>;
  /** The URL that answered, after redirects. */
  url: string;
  /** Headers of the first answer when it was a redirect (the Hub says what an LFS file is there). */
  redirectedFrom?: Record<string, string>;
  body: Dispatcher.ResponseData['body'];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** What undici's EnvHttpProxyAgent reads to choose a proxy. */
const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'];

/**
 * The one HTTP client (npm registries, the Hugging Face Hub, URLs): keep-alive connections through
 * HTTPS_PROXY/HTTP_PROXY unless NO_PROXY says otherwise, bounded concurrency, timeouts on headers
 * and on a stalled body, retries with jittered backoff on 429/5xx and network errors honouring
 * Retry-After, redirects followed by hand so credentials go only to the origin they are for, no
 * downgrade from https to http, and URLs in messages stripped of credentials. TLS trusts the
 * system store plus NODE_EXTRA_CA_CERTS (Node adds those to every default connection).
 */
export class HttpClient {
  private readonly dispatcher: Dispatcher;
  private readonly options: Required<HttpClientOptions>;
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Set by abort(): every request not yet answered fails with it. */
  private aborted?: AiscError<string>;
  /** Cuts a retry's wait short on abort(). */
  private readonly stopped = new AbortController();
  /** Requests sent, by kind of answer: the bench and tests count them. */
  readonly counts = { requests: 0, retries: 0 };

  constructor(options: HttpClientOptions = {}) {
    this.options = { concurrency: 16, timeoutMs: 30_000, retries: 3, backoffMs: 250, maxRetryAfterMs: 60_000, maxRedirects: 5, ...options };
    const agent = { connections: this.options.concurrency, keepAliveTimeout: 10_000, headersTimeout: this.options.timeoutMs, bodyTimeout: this.options.timeoutMs };
    // With no proxy set, a plain Agent: the same connections, without reading NO_PROXY from the
    // environment again for every request (~30 ms of a 1,500-package lock).
    this.dispatcher = PROXY_VARIABLES.some((name) => process.env[name]) ? new EnvHttpProxyAgent(agent) : new Agent(agent);
  }

  /**
   * Sends a request, retrying and following redirects, and returns the final answer with its body
   * unread (the caller must read or dump it). Any status the caller accepts, or 2xx, is returned;
   * other statuses after the retries are spent throw HTTP_FAILED.
   */
  async send(url: string, init: HttpRequest): Promise<HttpResponse> {
    await this.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        if (this.aborted) throw this.aborted;
        let retryAfterMs: number | undefined;
        let failure: AiscError<string> | undefined;
        let response: HttpResponse | undefined;
        try {
          response = await this.follow(url, init);
        } catch (error) {
          if (error instanceof AiscError) throw error;
          failure = new AiscError('HTTP_FAILED', `${init.what}: ${describeNetworkError(error, init.server)} (${redact(url)})`, { cause: error });
        }
        if (response) {
          if ((response.status >= 200 && response.status < 300) || init.accept?.(response.status)) return response;
          await response.body.dump();
          failure = new AiscError('HTTP_FAILED', `${init.what}: ${init.server ?? 'the server'} answered ${response.status} (${redact(response.url)})`, { details: { status: response.status } });
          if (response.status !== 429 && response.status < 500) throw failure;
          retryAfterMs = parseRetryAfter(response.headers['retry-after']);
          if (retryAfterMs !== undefined && retryAfterMs > this.options.maxRetryAfterMs) {
            throw new AiscError('HTTP_FAILED', `${init.what}: ${init.server ?? 'the server'} answered ${response.status} and asks to retry after ${Math.ceil(retryAfterMs / 1000)} s; try again later (${redact(response.url)})`, { details: { status: response.status } });
          }
        }
        if (attempt >= this.options.retries) throw failure ?? new AiscError('INTERNAL', `${init.what}: no answer and no error`);
        this.counts.retries++;
        await sleep(retryAfterMs ?? this.options.backoffMs * 2 ** attempt * (1 + Math.random() / 2), undefined, { signal: this.stopped.signal }).catch((error: unknown) => {
          throw this.aborted ?? error;
        });
      }
    } finally {
      this.release();
    }
  }

  /** A JSON document within `maxBytes`; `accept` statuses come back as `{status}` with no body parsed. */
  async getJson(url: string, init: HttpRequest & { maxBytes: number }): Promise<{ status: number; json?: unknown; headers: Record<string, string> }> {
    const response = await this.send(url, { ...init, headers: { accept: 'application/json', ...init.headers } });
    if (response.status < 200 || response.status >= 300) {
      await response.body.dump();
      return { status: response.status, headers: response.headers };
    }
    const bytes = await readBounded(response.body, init.maxBytes, init.what);
    try {
      return { status: response.status, json: JSON.parse(bytes.toString('utf8')) as unknown, headers: response.headers };
    } catch {
      throw new AiscError('HTTP_RESPONSE_INVALID', `${init.what}: the answer from ${redact(response.url)} is not JSON`);
    }
  }

  private async follow(url: string, init: HttpRequest): Promise<HttpResponse> {
    let current = url;
    let first: Record<string, string> | undefined;
    for (let hop = 0; ; hop++) {
      const target = new URL(current);
      const headers: Record<string, string> = { 'user-agent': 'aisc', ...init.headers };
      // Credentials belong to one origin: a redirect elsewhere (an LFS CDN) never sees them.
      if (init.credentials && target.origin === init.credentials.origin) Object.assign(headers, init.credentials.headers);
      if (init.from !== undefined && init.from > 0) headers.range = `bytes=${init.from}-`;
      this.counts.requests++;
      const response = await request(target, {
        method: init.method ?? 'GET',
        dispatcher: this.dispatcher,
        // No whole-request deadline (it would cut off a big download): a stall is caught by the
        // dispatcher's headersTimeout and bodyTimeout instead.
        headers,
      });
      const responseHeaders = flattenHeaders(response.headers);
      if (!REDIRECTS.has(response.statusCode)) {
        return { status: response.statusCode, headers: responseHeaders, url: current, ...(first ? { redirectedFrom: first } : {}), body: response.body };
      }
      await response.body.dump();
      first ??= responseHeaders;
      const location = responseHeaders.location;
      if (!location) throw new AiscError('HTTP_RESPONSE_INVALID', `${init.what}: ${redact(current)} redirects (${response.statusCode}) without a Location`);
      if (hop >= this.options.maxRedirects) throw new AiscError('HTTP_RESPONSE_INVALID', `${init.what}: more than ${this.options.maxRedirects} redirects from ${redact(url)}`);
      const next = new URL(location, target);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopbackHost(next.hostname))) {
        throw new AiscError('HTTP_RESPONSE_INVALID', `${init.what}: ${redact(current)} redirects to ${redact(next.href)}; only https is followed`);
      }
      current = next.href;
    }
  }

  private async acquire(): Promise<void> {
    if (this.aborted) throw this.aborted;
    if (this.active < this.options.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.active--;
  }

  /**
   * Gives up on everything not yet answered: requests waiting for a connection, retries and
   * requests in flight fail with `reason`. For a job that one failure has already failed (a lock
   * of 1,500 packages whose registry is down must not go on to retry the other 1,499).
   */
  abort(reason: AiscError<string>): void {
    if (this.aborted) return;
    this.aborted = reason;
    this.stopped.abort(reason);
    for (const waiting of this.waiting.splice(0)) waiting.reject(reason);
    this.dispatcher.destroy(reason).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (!this.aborted) await this.dispatcher.close();
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

