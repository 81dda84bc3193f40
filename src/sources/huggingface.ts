import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AiscError } from '../errors.js';
import { getHubRefProblem, getHubRepoProblem } from '../lockfile/hub-names.js';
import { getPathProblem } from '../lockfile/paths.js';
import type { HubSource } from '../lockfile/types.js';
import { getHfHome, type RepoType } from './hf-cache.js';
import type { Credentials, HttpClient, HttpResponse } from './http.js';
import { parseHttpsUrl, readBounded, redact } from './urls.js';
import type { ListedFile } from './listing.js';

export interface HubSpec {
  repoType: RepoType;
  repo: string;
  /** What was asked for: a branch, tag, refs/pr/N or a commit (default main). */
  ref: string;
}

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

const COMMIT = /^[0-9a-f]{40}$/;
/** One tree page may be large (a thousand entries with LFS facts) but not unbounded. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGES = 10_000;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

export function isHubSpec(spec: string): boolean {
  return spec.startsWith('hf://');
}

/** `hf://[datasets/|models/]org/name[@revision]`. */
export function parseHubSpec(spec: string): HubSpec {
  const rest = spec.slice('hf://'.length);
  const at = rest.indexOf('@');
  let path = at === -1 ? rest : rest.slice(0, at);
  const ref = at === -1 ? 'main' : rest.slice(at + 1);
  let repoType: RepoType = 'model';
  if (path.startsWith('datasets/')) [repoType, path] = ['dataset', path.slice('datasets/'.length)];
  else if (path.startsWith('models/')) path = path.slice('models/'.length);
  if (path.startsWith('spaces/')) throw new AiscError('USAGE', `${spec}: Spaces are apps, not artifacts; lock a model or a dataset`);
  if (getHubRepoProblem(path)) {
    throw new AiscError('USAGE', `${spec}: expected hf://[datasets/]org/name[@revision], got the repo ${JSON.stringify(path)}`);
  }
  const refProblem = getHubRefProblem(ref);
  if (refProblem) {
    throw new AiscError('USAGE', `${spec}: expected a revision (a branch, tag, refs/pr/N or a 40-hex commit) after @, got ${JSON.stringify(ref)}, which ${refProblem}`);
  }
  return { repoType, repo: path, ref };
}

export function toHubSpecText(spec: HubSpec): string {
  return `hf://${spec.repoType === 'dataset' ? 'datasets/' : ''}${spec.repo}`;
}

/** How aisc reaches the Hub: HF_ENDPOINT, HF_TOKEN (then HUGGING_FACE_HUB_TOKEN, then the token file) and HF_HUB_OFFLINE. */
export interface HubConfig {
  /** Without a trailing slash. */
  endpoint: string;
  token?: string;
  offline: boolean;
}

export function getHubConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const endpoint = env.HF_ENDPOINT ? parseHttpsUrl(env.HF_ENDPOINT, 'HF_ENDPOINT').href.replace(/\/+$/, '') : DEFAULT_HUB_ENDPOINT;
  return { endpoint, token: readToken(env), offline: isTruthy(env.HF_HUB_OFFLINE) };
}

function readToken(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const path = env.HF_TOKEN_PATH || join(getHfHome(env), 'token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    return token === '' || token.length > 4096 ? undefined : token;
  } catch {
    return undefined;
  }
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'on', 'yes', 'true'].includes(value.trim().toLowerCase());
}

/** The Hub's API, through the one HTTP client, with the token sent only to the endpoint's origin. */
export class HubClient {
  private readonly credentials?: Credentials;

  constructor(
    readonly http: HttpClient,
    readonly config: HubConfig,
  ) {
    if (config.token) this.credentials = { origin: new URL(config.endpoint).origin, headers: { authorization: `Bearer ${config.token}` } };
  }

  /** The 40-hex commit a branch, tag, refs/pr/N or commit names now. */
  async resolveRevision(spec: HubSpec): Promise<string> {
    this.assertOnline(spec);
    const url = `${this.config.endpoint}/api/${spec.repoType}s/${spec.repo}/revision/${encodeURIComponent(spec.ref)}?expand=sha`;
    const answer = await this.getJson(url, spec, MAX_JSON_BYTES);
    const sha = (answer as { sha?: unknown } | null)?.sha;
    if (typeof sha !== 'string' || !COMMIT.test(sha)) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: the Hub's answer for revision ${spec.ref} has no 40-hex "sha"`);
    if (COMMIT.test(spec.ref) && sha !== spec.ref) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: asked for commit ${spec.ref}, the Hub answered ${sha}`);
    return sha;
  }

  /**
   * Every file at `commit`, following the tree's `Link: rel="next"` pages (never to another
   * origin). LFS files carry their SHA-256 (`lfs.oid`); the others their git blob SHA-1 (`oid`).
   */
  async listTree(spec: HubSpec, commit: string): Promise<ListedFile[]> {
    const files: ListedFile[] = [];
    const seen = new Set<string>();
    // Page URLs read, by number: a link back to one is a loop, told at its first repeat.
    const pages = new Map<string, number>();
    let url: string | undefined = `${this.config.endpoint}/api/${spec.repoType}s/${spec.repo}/tree/${commit}?recursive=true&expand=false`;
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: the tree has more than ${MAX_PAGES} pages`);
      const before = pages.get(url);
      if (before !== undefined) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: the tree's page ${page + 1} link (${redact(url)}) leads back to page ${before}: a loop`);
      pages.set(url, page + 1);
      const response = await this.send(url, spec);
      const bytes = await readBounded(response.body, MAX_PAGE_BYTES, `${describe(spec)}: tree page ${page + 1}`);
      let items: unknown;
      try {
        items = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: tree page ${page + 1} is not JSON`);
      }
      if (!Array.isArray(items)) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: tree page ${page + 1}: expected a JSON array`);
      for (const item of items) {
        const file = toListedFile(item, spec);
        if (!file) continue;
        if (seen.has(file.path)) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: the tree lists ${JSON.stringify(file.path)} twice`);
        seen.add(file.path);
        files.push(file);
      }
      url = getNextLink(response.headers.link, url, this.config.endpoint, spec);
    }
    assertNoFileHoldsFiles(seen, spec);
    return files;
  }

  /** Where a file at a commit is downloaded from (the Hub answers LFS files with a redirect to its CDN). */
  getResolveUrl(spec: Pick<HubSpec, 'repoType' | 'repo'>, commit: string, path: string): string {
    const prefix = spec.repoType === 'dataset' ? 'datasets/' : '';
    return `${this.config.endpoint}/${prefix}${spec.repo}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** GET a file of a commit (from `from` on, to resume); answers are mapped to coded errors. */
  async download(spec: HubSpec, commit: string, path: string, from = 0, range?: string): Promise<HttpResponse> {
    this.assertOnline(spec);
    const url = this.getResolveUrl(spec, commit, path);
    return this.send(url, spec, range ? { range } : undefined, from);
  }

  private async getJson(url: string, spec: HubSpec, maxBytes: number): Promise<unknown> {
    const response = await this.send(url, spec);
    const bytes = await readBounded(response.body, maxBytes, describe(spec));
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: the Hub's answer from ${redact(url)} is not JSON`);
    }
  }

  private async send(url: string, spec: HubSpec, headers?: Record<string, string>, from?: number): Promise<HttpResponse> {
    const response = await this.http.send(url, { what: describe(spec), server: 'the Hub', credentials: this.credentials, headers, from, accept: (status) => status >= 400 && status < 500 && status !== 429 });
    if (response.status >= 400) {
      await response.body.dump();
      throw toHubError(response, spec, this.config);
    }
    return response;
  }

  private assertOnline(spec: HubSpec): void {
    if (this.config.offline) {
      throw new AiscError('HUB_OFFLINE', `${describe(spec)}: HF_HUB_OFFLINE is set, so the Hub is not contacted; lock a downloaded snapshot folder instead (aisc lock <HF cache>/${spec.repoType}s--${spec.repo.replace('/', '--')}/snapshots/<commit>)`);
    }
  }
}

function describe(spec: HubSpec): string {
  return `${toHubSpecText(spec)}@${spec.ref}`;
}

/** 401/403/404 and the Hub's X-Error-Code as one line saying what to do. */
function toHubError(response: HttpResponse, spec: HubSpec, config: HubConfig): AiscError {
  const code = response.headers['x-error-code'];
  const where = describe(spec);
  const page = `${config.endpoint}/${spec.repoType === 'dataset' ? 'datasets/' : ''}${spec.repo}`;
  const tokenHint = config.token ? 'the token in use cannot read it' : 'set HF_TOKEN to a token that can read it';
  if (code === 'GatedRepo') {
    if (!config.token || response.status === 401) return new AiscError('HUB_AUTH_REQUIRED', `${where}: a gated repository; set HF_TOKEN to a token of an account that has access (request it at ${page})`);
    return new AiscError('HUB_ACCESS_DENIED', `${where}: a gated repository and this token's account has no access; request access at ${page}`);
  }
  if (code === 'RepoNotFound') return new AiscError('HUB_REPO_NOT_FOUND', `${where}: no such repository, or it is private (${tokenHint})`);
  if (code === 'RevisionNotFound') return new AiscError('HUB_REVISION_NOT_FOUND', `${where}: the repository has no revision ${JSON.stringify(spec.ref)} (a branch, tag, refs/pr/N or commit)`);
  if (code === 'EntryNotFound') return new AiscError('HUB_ENTRY_NOT_FOUND', `${where}: a listed file is not at that commit (${redact(response.url)})`);
  if (response.status === 401) return new AiscError('HUB_AUTH_REQUIRED', `${where}: the Hub wants a token (401); ${config.token ? 'the token in use was refused: check HF_TOKEN' : 'set HF_TOKEN'}`);
  if (response.status === 403) return new AiscError('HUB_ACCESS_DENIED', `${where}: access denied (403); request access at ${page}, or use a token with read permission`);
  if (response.status === 404) return new AiscError('HUB_REPO_NOT_FOUND', `${where}: not found (404 from ${redact(response.url)})`);
  return new AiscError('HTTP_FAILED', `${where}: the Hub answered ${response.status} (${redact(response.url)})`, { details: { status: response.status } });
}

function toListedFile(item: unknown, spec: HubSpec): ListedFile | undefined {
  const bad = (why: string): AiscError => new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: a tree entry ${why}`);
  if (typeof item !== 'object' || item === null) throw bad('is not an object');
  const entry = item as { type?: unknown; path?: unknown; size?: unknown; oid?: unknown; lfs?: unknown };
  if (entry.type === 'directory') return undefined;
  if (entry.type !== 'file') throw bad(`has type ${JSON.stringify(entry.type)}`);
  if (typeof entry.path !== 'string') throw bad('has no path');
  const problem = getPathProblem(entry.path);
  if (problem) throw bad(`has an unsafe path ${JSON.stringify(entry.path)} (${problem})`);
  if (typeof entry.size !== 'number' || !Number.isSafeInteger(entry.size) || entry.size < 0) throw bad(`${JSON.stringify(entry.path)} has no valid size`);
  const xetHash = (item as { xetHash?: unknown }).xetHash;
  const xet = typeof xetHash === 'string' ? { xetHash } : {};
  if (entry.lfs !== undefined && entry.lfs !== null) {
    const lfs = entry.lfs as { oid?: unknown; size?: unknown };
    if (typeof lfs.oid !== 'string' || !/^[0-9a-f]{64}$/.test(lfs.oid)) throw bad(`${JSON.stringify(entry.path)} has an LFS oid that is not a SHA-256`);
    if (lfs.size !== entry.size) throw bad(`${JSON.stringify(entry.path)} has an LFS size other than its size`);
    // The oid of an LFS file is its pointer's git blob: kept for the tree cache, never checked against the bytes.
    const hub = typeof entry.oid === 'string' && COMMIT.test(entry.oid) ? { hub: { size: entry.size, blobId: entry.oid, lfsSha256: lfs.oid, lfsSize: lfs.size, ...xet } } : {};
    return { path: entry.path, size: entry.size, sha256: lfs.oid, ...hub };
  }
  if (typeof entry.oid !== 'string' || !COMMIT.test(entry.oid)) throw bad(`${JSON.stringify(entry.path)} has no git blob oid`);
  return { path: entry.path, size: entry.size, gitOid: entry.oid, hub: { size: entry.size, blobId: entry.oid, ...xet } };
}

/** A path listed as a file and as a folder of another file (`a` and `a/b`): no checkout holds both. */
function assertNoFileHoldsFiles(paths: ReadonlySet<string>, spec: HubSpec): void {
  for (const path of paths) {
    for (let at = path.indexOf('/'); at !== -1; at = path.indexOf('/', at + 1)) {
      const folder = path.slice(0, at);
      if (paths.has(folder)) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: the tree lists ${JSON.stringify(folder)} as a file and ${JSON.stringify(path)} under it; no checkout holds both`);
    }
  }
}

/** The `rel="next"` URL of a Link header, which must stay on the endpoint's origin. */
function getNextLink(header: string | undefined, current: string, endpoint: string, spec: HubSpec): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match || !/\brel\s*=\s*"?next"?/.test(match[2] ?? '')) continue;
    const next = new URL(match[1] ?? '', current);
    if (next.origin !== new URL(endpoint).origin) throw new AiscError('HUB_RESPONSE_INVALID', `${describe(spec)}: the tree's next page is on another origin (${redact(next.href)})`);
    return next.href;
  }
  return undefined;
}

export function toHubSource(spec: HubSpec, commit: string, config: HubConfig, selection: { include?: string[]; exclude?: string[] }): HubSource {
  const source: HubSource = { type: 'huggingface', repo: spec.repo, repoType: spec.repoType, revision: commit, ref: spec.ref };
  if (config.endpoint !== DEFAULT_HUB_ENDPOINT) source.endpoint = config.endpoint;
  if (selection.include && selection.include.length > 0) source.include = [...selection.include];
  if (selection.exclude && selection.exclude.length > 0) source.exclude = [...selection.exclude];
  return source;
}
