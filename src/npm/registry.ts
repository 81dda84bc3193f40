import { AiscError, isAiscError } from '../errors.js';
import { HttpClient, type HttpClientOptions } from '../sources/http.js';
import { getRegistryFor, getTokenFor, type RegistryConfig } from './config.js';

export interface RegistryClientOptions extends HttpClientOptions {
  /** A response body larger than this is refused (packuments of popular packages reach tens of MB). */
  maxBytes?: number;
}

/**
 * Fetches package documents from npm registries through the one HTTP client (keep-alive, bounded
 * concurrency, retries honouring Retry-After, timeouts, proxies), with npm's fetch-timeout and
 * fetch-retries, scoped registries and tokens from .npmrc. A token goes only to the origin of the
 * registry it is for, and never appears in an error.
 */
export class RegistryClient {
  private readonly http: HttpClient;
  private readonly maxBytes: number;

  constructor(
    private readonly config: RegistryConfig,
    options: RegistryClientOptions = {},
  ) {
    // npm's fetch-timeout and fetch-retries (from .npmrc or the environment) apply unless the caller says otherwise.
    const fromConfig = { ...(config.fetchTimeout !== undefined ? { timeoutMs: config.fetchTimeout } : {}), ...(config.fetchRetries !== undefined ? { retries: config.fetchRetries } : {}) };
    const { maxBytes = 64 * 1024 * 1024, ...http } = { ...fromConfig, ...options };
    this.maxBytes = maxBytes;
    this.http = new HttpClient(http);
  }

  /** The full packument of `name` (all versions, `time`, dist.signatures and attestations). */
  async getPackument(name: string): Promise<unknown> {
    const url = `${getRegistryFor(this.config, name)}${name.startsWith('@') ? name.replace('/', '%2f') : encodeURIComponent(name)}`;
    return this.getJson(url, name);
  }

  async getJson(url: string, what: string): Promise<unknown> {
    const token = getTokenFor(this.config, url);
    try {
      const answer = await this.http.getJson(url, {
        what,
        server: 'the registry',
        maxBytes: this.maxBytes,
        credentials: token ? { origin: new URL(url).origin, headers: { authorization: `Bearer ${token}` } } : undefined,
        accept: (status) => status === 404,
      });
      if (answer.status === 404) throw new AiscError('REGISTRY_NOT_FOUND', `${what}: not found in the registry (404 from ${redact(url)})`);
      return answer.json;
    } catch (error) {
      // The registry's own codes, so a report says which service failed.
      if (isAiscError(error) && error.code === 'HTTP_FAILED') throw new AiscError('REGISTRY_UNREACHABLE', error.message, { cause: error });
      if (isAiscError(error) && error.code === 'HTTP_RESPONSE_INVALID') throw new AiscError('REGISTRY_RESPONSE_INVALID', error.message, { cause: error });
      throw error;
    }
  }

  /** Gives up on every request not yet answered (see HttpClient.abort). */
  abort(reason: AiscError<string>): void {
    this.http.abort(reason);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** URLs in messages lose any credentials they carry. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}
