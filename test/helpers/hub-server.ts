import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One file of a repo at a commit: LFS files are served by the CDN, the rest by the Hub. */
export interface HubFile {
  path: string;
  content: Buffer;
  lfs?: boolean;
}

export interface HubRepo {
  type: 'model' | 'dataset';
  /** ref (branch, tag, refs/pr/N) → commit */
  refs: Record<string, string>;
  commits: Record<string, HubFile[]>;
  /** Needs this token (401 without, 403 GatedRepo with another). */
  gatedToken?: string;
}

export interface HubRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface HubBehaviour {
  /** Tree entries per page (the real Hub pages at 1,000 by default). */
  pageSize?: number;
  /** Answer the first N API requests with 429 and Retry-After: 1. */
  rateLimit?: number;
  /** Serve these bytes instead of the real ones for a path (a mirror that lies). */
  tamper?: Record<string, Buffer>;
  /** Cut the body off after this many bytes, once per path (a dropped connection). */
  truncateOnce?: Record<string, number>;
  /** Every tree page's `Link: rel="next"` points back at the page itself (a Hub stuck in a loop). */
  loopLink?: boolean;
}

export interface LoopbackHub {
  endpoint: string;
  cdn: string;
  requests: HubRequest[];
  behaviour: HubBehaviour;
  close(): Promise<void>;
}

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * A Hugging Face Hub on loopback with the real API's shapes: /api/{type}s/{repo}/revision/{ref},
 * the recursive tree paged with `Link: rel="next"`, /resolve/ answering LFS files with a 302 to a
 * CDN on another origin (X-Linked-Etag, X-Linked-Size), other files with their git blob SHA-1 as
 * ETag, X-Error-Code on 401/403/404, Range requests, 429 with Retry-After.
 */
export async function startHub(repos: Record<string, HubRepo>, behaviour: HubBehaviour = {}): Promise<LoopbackHub> {
  const requests: HubRequest[] = [];
  let rateLimited = 0;
  const truncated = new Set<string>();
  const cdnServer = createServer((request, response) => {
    requests.push({ server: 'cdn', method: request.method ?? 'GET', path: request.url ?? '', headers: request.headers });
    const match = /^\/blob\/([0-9a-f]{64})\/(.*)$/.exec(request.url ?? '');
    const file = match ? findBlob(repos, match[1] ?? '') : undefined;
    if (!file) return void response.writeHead(404).end();
    serveBytes(request, response, file.path, behaviour.tamper?.[file.path] ?? file.content, {});
  });
  const hubServer = createServer((request, response) => {
    requests.push({ server: 'hub', method: request.method ?? 'GET', path: request.url ?? '', headers: request.headers });
    const url = new URL(request.url ?? '/', 'http://hub');
    const fail = (status: number, code?: string): void => void response.writeHead(status, code ? { 'x-error-code': code, 'x-error-message': code } : {}).end(JSON.stringify({ error: code ?? 'error' }));
    const api = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/(revision|tree)\/(.+)$/.exec(url.pathname);
    const resolve = /^\/(?:(datasets)\/)?([^/]+\/[^/]+)\/resolve\/([0-9a-f]{40})\/(.+)$/.exec(url.pathname);
    const repoName = api?.[2] ?? resolve?.[2] ?? '';
    const repo = repos[repoName];
    const type = api ? (api[1] === 'datasets' ? 'dataset' : 'model') : resolve?.[1] ? 'dataset' : 'model';
    if (api && behaviour.rateLimit !== undefined && rateLimited < behaviour.rateLimit) {
      rateLimited++;
      return void response.writeHead(429, { 'retry-after': '1' }).end('slow down');
    }
    if (!repo || repo.type !== type) return fail(401, 'RepoNotFound');
    if (repo.gatedToken !== undefined) {
      const auth = request.headers.authorization;
      if (auth === undefined) return fail(401, 'GatedRepo');
      if (auth !== `Bearer ${repo.gatedToken}`) return fail(403, 'GatedRepo');
    }
    if (api?.[3] === 'revision') {
      const ref = decodeURIComponent(api[4] ?? '');
      const sha = repo.refs[ref] ?? (repo.commits[ref] ? ref : undefined);
      if (!sha) return fail(404, 'RevisionNotFound');
      return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: repoName, sha }));
    }
    if (api?.[3] === 'tree') {
      const files = repo.commits[api[4] ?? ''];
      if (!files) return fail(404, 'RevisionNotFound');
      const entries = toTree(files);
      const size = behaviour.pageSize ?? 1000;
      const cursor = Number(url.searchParams.get('cursor') ?? '0');
      const page = entries.slice(cursor, cursor + size);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (behaviour.loopLink) {
        headers.link = `<${new URL(request.url ?? '/', `http://${request.headers.host ?? ''}`).href}>; rel="next"`;
      } else if (cursor + size < entries.length) {
        const next = new URL(url.pathname, `http://${request.headers.host ?? ''}`);
        next.search = url.search;
        next.searchParams.set('cursor', String(cursor + size));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return void response.writeHead(200, headers).end(JSON.stringify(page));
    }
    if (resolve) {
      const files = repo.commits[resolve[3] ?? ''];
      if (!files) return fail(404, 'RevisionNotFound');
      const path = decodeURIComponent(resolve[4] ?? '');
      const file = files.find((f) => f.path === path);
      if (!file) return fail(404, 'EntryNotFound');
      if (file.lfs) {
        const digest = sha256(file.content);
        return void response.writeHead(302, { location: `${cdnUrl}/blob/${digest}/${encodeURIComponent(path)}?sig=secret`, 'x-linked-etag': `"${digest}"`, 'x-linked-size': String(file.content.length), 'x-repo-commit': resolve[3] ?? '' }).end();
      }
      return serveBytes(request, response, path, behaviour.tamper?.[path] ?? file.content, { etag: `"${gitBlobSha1(file.content)}"`, 'x-repo-commit': resolve[3] ?? '' });
    }
    fail(404);
  });

  function serveBytes(request: IncomingMessage, response: ServerResponse, path: string, content: Buffer, headers: Record<string, string>): void {
    let body = content;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      // As real servers do: a range that starts at or past the end cannot be satisfied.
      if (start >= content.length) return void response.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
      const end = range[2] === '' ? content.length - 1 : Math.min(Number(range[2]), content.length - 1);
      body = content.subarray(start, end + 1);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${content.length}`;
    }
    const cut = behaviour.truncateOnce?.[path];
    if (cut !== undefined && !truncated.has(path) && !range) {
      truncated.add(path);
      response.writeHead(status, { ...headers, 'content-length': String(body.length) });
      response.write(body.subarray(0, cut));
      setTimeout(() => response.destroy(), 20);
      return;
    }
    response.writeHead(status, { ...headers, 'content-length': String(body.length) }).end(body);
  }

  const listen = async (server: Server): Promise<string> => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const cdnUrl = await listen(cdnServer);
  const endpoint = await listen(hubServer);
  const close = (server: Server): Promise<void> =>
    new Promise((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });
  return { endpoint, cdn: cdnUrl, requests, behaviour, close: async () => void (await Promise.all([close(hubServer), close(cdnServer)])) };
}

function toTree(files: HubFile[]): unknown[] {
  const folders = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  const entries: { path: string; entry: unknown }[] = [...folders].map((path) => ({ path, entry: { type: 'directory', oid: '0'.repeat(40), size: 0, path } }));
  for (const file of files) {
    const entry: Record<string, unknown> = { type: 'file', oid: gitBlobSha1(file.lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(file.content)}\nsize ${file.content.length}\n`) : file.content), size: file.content.length, path: file.path };
    if (file.lfs) entry.lfs = { oid: sha256(file.content), size: file.content.length, pointerSize: 134 };
    entries.push({ path: file.path, entry });
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : 1)).map((e) => e.entry);
}

function findBlob(repos: Record<string, HubRepo>, digest: string): HubFile | undefined {
  for (const repo of Object.values(repos)) for (const files of Object.values(repo.commits)) for (const file of files) if (file.lfs && sha256(file.content) === digest) return file;
  return undefined;
}
