import { createHash } from 'node:crypto';
import { AiscError } from '../../errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../http.js';
import { parseHttpsUrl, readBounded, redact } from '../urls.js';
import { findLogin, type RegistryLogin } from './credentials.js';
import { DIGEST, getApiBase, toOciOrigin, type OciReference } from './reference.js';

/** What a registry's manifest endpoint may answer, in preference order. */
export const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
/** Registries must accept manifests of 4 MiB; nothing larger is read. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_TOKEN_BYTES = 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

/** A manifest as served, checked against its digest. */
export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  /** The Content-Type the registry sent (the document's own mediaType is checked against it). */
  contentType: string;
}

/**
 * One repository's distribution API (OCI distribution spec v1.1) through the one HTTP client:
 * anonymous first; on a 401 the registry's `WWW-Authenticate` challenge is answered once — a
 * Bearer token fetched from its realm (with the docker login as Basic credentials, when there is
 * one), or Basic credentials themselves. Credentials go only to the registry's origin (and the
 * realm's): a redirect to blob storage never carries them. Every answer is mapped to one coded
 * error: not found, unauthorized, denied, rate limited.
 */
export class OciClient {
  readonly base: string;
  private authorization?: string;
  /** One challenge answered once, however many requests met it at the same time. */
  private authorizing?: Promise<string>;
  private readonly login?: RegistryLogin;
  private readonly what: string;

  constructor(
    private readonly http: HttpClient,
    readonly reference: Pick<OciReference, 'registry' | 'repository'>,
    env: NodeJS.ProcessEnv,
  ) {
    this.base = getApiBase(reference.registry);
    this.login = findLogin(reference.registry, env);
    this.what = toOciOrigin(reference);
  }

  /** A manifest by tag or digest, its digest checked: against the one asked for, and against Docker-Content-Digest. */
  async getManifest(ref: string): Promise<FetchedManifest> {
    const url = `${this.base}/v2/${this.reference.repository}/manifests/${ref}`;
    const what = `${this.what}: manifest ${ref}`;
    const response = await this.send(url, what, { headers: { accept: MANIFEST_TYPES.join(', ') } });
    const bytes = await readBounded(response.body, MAX_MANIFEST_BYTES, what).catch((error: unknown) => {
      throw error instanceof AiscError ? new AiscError('OCI_RESPONSE_INVALID', error.message) : error;
    });
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (DIGEST.test(ref) && digest !== ref) throw new AiscError('CONTENT_MISMATCH', `${what}: the registry served a manifest whose digest is ${digest}; nothing was kept`);
    const claimed = response.headers['docker-content-digest'];
    if (claimed !== undefined && claimed !== digest) throw new AiscError('CONTENT_MISMATCH', `${what}: Docker-Content-Digest says ${claimed}, the bytes served are ${digest}`);
    return { bytes, digest, contentType: (response.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '' };
  }

  /** Whether a manifest exists (a tag-schema fallback looks for `sha256-<hex>` tags): 404 is no. */
  async findManifest(ref: string): Promise<FetchedManifest | undefined> {
    try {
      return await this.getManifest(ref);
    } catch (error) {
      if (error instanceof AiscError && error.code === 'OCI_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** The referrers API (OCI 1.1): undefined where the registry does not serve it (404), so the tag schema is asked instead. */
  async getReferrers(digest: string): Promise<Buffer | undefined> {
    const url = `${this.base}/v2/${this.reference.repository}/referrers/${digest}`;
    const what = `${this.what}: referrers of ${digest}`;
    let response: HttpResponse;
    try {
      response = await this.send(url, what, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    } catch (error) {
      // 404 is the spec's "no referrers API"; some registries say it with 400 or 405 instead.
      const status = error instanceof AiscError ? (error.details as { status?: number } | undefined)?.status : undefined;
      if (error instanceof AiscError && (error.code === 'OCI_NOT_FOUND' || status === 400 || status === 405)) return undefined;
      throw error;
    }
    const type = (response.headers['content-type'] ?? '').split(';')[0]?.trim();
    const bytes = await readBounded(response.body, MAX_MANIFEST_BYTES, what);
    // A registry without the API may answer with something else than an index (an HTML page).
    return type === 'application/vnd.oci.image.index.v1+json' ? bytes : undefined;
  }

  /** A blob's bytes from `from` on (a resumed download), unread; redirects are followed without the credentials. */
  blob(digest: string, from = 0, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return this.send(`${this.base}/v2/${this.reference.repository}/blobs/${digest}`, `${this.what}: blob ${digest}`, { from, headers });
  }

  /** A small blob (a config, a signature payload) read whole within `maxBytes` and checked against its digest. */
  async readBlob(digest: string, size: number, maxBytes: number): Promise<Buffer> {
    const what = `${this.what}: blob ${digest}`;
    if (size > maxBytes) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: ${size} bytes, more than the ${maxBytes} read for a config or signature`);
    const response = await this.blob(digest);
    const bytes = await readBounded(response.body, size, what).catch((error: unknown) => {
      throw error instanceof AiscError ? new AiscError('CONTENT_MISMATCH', `${what}: the registry sent more than the ${size} bytes the manifest says`) : error;
    });
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (bytes.length !== size || actual !== digest) throw new AiscError('CONTENT_MISMATCH', `${what}: the registry sent ${bytes.length} bytes hashing to ${actual}; the manifest pins ${size} bytes, ${digest}`);
    return bytes;
  }

  /** Sends with the credentials earned so far; a 401 is answered once with the challenge it carries. */
  private async send(url: string, what: string, init: Partial<HttpRequest>): Promise<HttpResponse> {
    const sent = this.authorization;
    let response = await this.attempt(url, what, init);
    if (response.status === 401) {
      const challenge = response.headers['www-authenticate'];
      await response.body.dump();
      // Unless another request earned credentials meanwhile, the challenge is answered, once for all that wait on it.
      if (this.authorization === sent) {
        this.authorizing ??= this.answer(challenge, what).finally(() => (this.authorizing = undefined));
        this.authorization = await this.authorizing;
      }
      response = await this.attempt(url, what, init);
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw await this.toError(response, what);
  }

  private async attempt(url: string, what: string, init: Partial<HttpRequest>): Promise<HttpResponse> {
    try {
      return await this.http.send(url, {
        ...init,
        what,
        server: 'the registry',
        ...(this.authorization ? { credentials: { origin: new URL(this.base).origin, headers: { authorization: this.authorization } } } : {}),
        accept: (status) => status === 400 || status === 401 || status === 403 || status === 404 || status === 405,
      });
    } catch (error) {
      if (error instanceof AiscError && error.code === 'HTTP_FAILED' && (error.details as { status?: number } | undefined)?.status === 429) {
        throw new AiscError('OCI_RATE_LIMITED', `${error.message.replace(/answered 429/, 'is rate limiting (429)')}`, { cause: error });
      }
      throw error;
    }
  }

  /** The Authorization header a challenge asks for: a Bearer token from its realm, or Basic. */
  private async answer(challenge: string | undefined, what: string): Promise<string> {
    const parsed = parseChallenge(challenge ?? '');
    const login = this.login;
    if (parsed?.scheme === 'basic') {
      if (!login) throw this.authRequired(what);
      return `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
    }
    if (parsed?.scheme !== 'bearer' || parsed.params.realm === undefined) {
      throw new AiscError('OCI_RESPONSE_INVALID', `${what}: the registry answered 401 without a Bearer or Basic challenge`);
    }
    let realm: URL;
    try {
      realm = parseHttpsUrl(parsed.params.realm, 'token realm');
    } catch {
      throw new AiscError('OCI_RESPONSE_INVALID', `${what}: the registry's token realm ${redact(parsed.params.realm)} is not https (plain http only to loopback)`);
    }
    if (parsed.params.service !== undefined) realm.searchParams.set('service', parsed.params.service);
    realm.searchParams.set('scope', parsed.params.scope ?? `repository:${this.reference.repository}:pull`);
    const credentials = login ? { origin: realm.origin, headers: { authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}` } } : undefined;
    const response = await this.http.send(realm.href, { what: `${what}: token`, server: 'the token service', ...(credentials ? { credentials } : {}), accept: (status) => status === 401 || status === 403 });
    if (response.status === 401 || response.status === 403) {
      await response.body.dump();
      throw login ? new AiscError('OCI_AUTH_REQUIRED', `${what}: the token service refused the login from ${login.from} (${response.status})`) : this.authRequired(what);
    }
    const bytes = await readBounded(response.body, MAX_TOKEN_BYTES, `${what}: token`);
    let token: unknown;
    try {
      const json = JSON.parse(bytes.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = json.token ?? json.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '' || /[\s]/.test(token)) throw new AiscError('OCI_RESPONSE_INVALID', `${what}: the token service's answer has no token`);
    return `Bearer ${token}`;
  }

  private authRequired(what: string): AiscError {
    return new AiscError('OCI_AUTH_REQUIRED', `${what}: the registry requires a login, and none for ${this.reference.registry} is in REGISTRY_AUTH_FILE, $DOCKER_CONFIG/config.json or ~/.docker/config.json (docker login ${this.reference.registry})`);
  }

  private async toError(response: HttpResponse, what: string): Promise<AiscError> {
    const detail = await readErrorCodes(response);
    const said = detail ? ` (${detail})` : '';
    switch (response.status) {
      case 404:
        return new AiscError('OCI_NOT_FOUND', `${what}: not found in ${this.reference.registry}${said}`);
      case 401:
        return new AiscError('OCI_AUTH_REQUIRED', this.login ? `${what}: the registry refused the login from ${this.login.from}${said}` : this.authRequired(what).message);
      case 403:
        return new AiscError('OCI_ACCESS_DENIED', `${what}: access denied${this.login ? ` to the login from ${this.login.from}` : ''}${said}`);
      default:
        return new AiscError('HTTP_FAILED', `${what}: the registry answered ${response.status}${said}`, { details: { status: response.status } });
    }
  }
}

/** The registry's error codes (`MANIFEST_UNKNOWN`, `DENIED`…), from the distribution spec's error body. */
async function readErrorCodes(response: HttpResponse): Promise<string | undefined> {
  try {
    const bytes = await readBounded(response.body, MAX_ERROR_BYTES, 'error');
    const errors = (JSON.parse(bytes.toString('utf8')) as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return undefined;
    const codes = errors.map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string' && /^[A-Z_]{1,64}$/.test(c));
    return codes.length > 0 ? [...new Set(codes)].join(', ') : undefined;
  } catch {
    return undefined;
  }
}

/** `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"` (RFC 7235 auth-params; quoted strings may hold commas). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const pattern = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = match[2] ?? '';
  let param: RegExpExecArray | null;
  while ((param = pattern.exec(rest)) !== null && param[0] !== '') {
    params[(param[1] ?? '').toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
  }
  return { scheme: (match[1] ?? '').toLowerCase(), params };
}
