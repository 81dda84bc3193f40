import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { AiscError } from '../errors.js';
import { confine, inPlace, type WriteRoot } from '../io/index.js';
import { getPathProblem } from '../lockfile/paths.js';
import { ContentInspector } from '../formats/inspect.js';
import type { Inspection } from '../formats/inspection.js';
import { describeOrigin } from '../lockfile/source.js';
import type { ArchiveSource, HubSource, UrlSource } from '../lockfile/types.js';
import { isArchivePath, listArchive } from './archive.js';
import { downloadFile } from './download.js';
import { toSelection } from './fnmatch.js';
import { findRefs, getRealBlobsFolder, parseSnapshotPath } from './hf-cache.js';
import type { HttpClient } from './http.js';
import { parseHttpsUrl } from './urls.js';
import { getHubConfig, HubClient, isHubSpec, parseHubSpec, toHubSource, type HubSpec } from './huggingface.js';
import { DEFAULT_IGNORED, type IgnoreMatcher } from './ignore.js';
import { resolveLocalTarget, toLocalSource } from './local.js';
import { listLocalFiles } from './local-listing.js';
import type { ArtifactSource, ListedFile, ResolvedSource } from './source.js';

/** What every source may need, made once per command (the HTTP client only when one is remote). */
export interface SourceContext {
  lockfile: string;
  /** --ignore globs and the defaults (local folders). */
  ignore: IgnoreMatcher;
  allowSymlinks: boolean;
  /** The user gave --ignore globs (they apply to folders on disk only). */
  ignoreGiven?: boolean;
  /** --include / --exclude (Hub repos). */
  include?: string[];
  exclude?: string[];
  /** --path: where a downloaded file or archive is kept. */
  keepAt?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Network clients made on first use (a local lock never loads undici), shared by every source of
 * one command and closed once at its end.
 */
export class Network {
  private httpClient?: Promise<HttpClient>;
  private hubClient?: Promise<HubClient>;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  http(): Promise<HttpClient> {
    this.httpClient ??= import('./http.js').then(({ HttpClient }) => new HttpClient());
    return this.httpClient;
  }

  hub(): Promise<HubClient> {
    this.hubClient ??= this.http().then((http) => new HubClient(http, getHubConfig(this.env)));
    return this.hubClient;
  }

  async close(): Promise<void> {
    await (await this.httpClient)?.close();
  }
}

export function isRemoteSpec(spec: string): boolean {
  return isHubSpec(spec) || /^https?:\/\//i.test(spec);
}

/**
 * The one factory: which origin a spec names, decided from the spec alone (pacote's Fetcher.get),
 * so the caller can hold every origin against the policy before any disk or network work.
 */
export function getSource(spec: string, context: SourceContext, network: Network): ArtifactSource {
  const hub = isHubSpec(spec);
  if (!hub && (context.include || context.exclude)) throw new AiscError('USAGE', `--include/--exclude: for hf:// sources, not ${spec}`);
  const source = pickSource(spec, hub, context, network);
  // --ignore is recorded for folders on disk and applied again by verify; any other source is
  // locked whole (or by --include/--exclude), so a glob that would silently do nothing is refused.
  if (context.ignoreGiven && !source.takesIgnore) throw new AiscError('USAGE', `--ignore: for folders on disk; ${spec} is locked whole${hub ? ' (select files with --include/--exclude)' : ''}`);
  return source;
}

function pickSource(spec: string, hub: boolean, context: SourceContext, network: Network): ArtifactSource & { takesIgnore?: boolean } {
  if (hub) return hubSource(parseHubSpec(spec), spec, context, network);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(spec)) {
    const url = parseHttpsUrl(spec, 'aisc lock');
    return isArchivePath(url.pathname) ? urlArchiveSource(url, spec, context, network) : urlSource(url, spec, context, network);
  }
  const snapshot = parseSnapshotPath(resolve(spec));
  if (snapshot) return snapshotSource(spec, context);
  if (isArchivePath(spec)) return archiveFileSource(spec, context);
  return { ...pathSource(spec, context), takesIgnore: true };
}

function pathSource(spec: string, context: SourceContext): ArtifactSource {
  return {
    spec,
    origin: toLocalSource(spec, context.lockfile).path,
    resolve() {
      const target = resolveLocalTarget(spec);
      const source = toLocalSource(spec, context.lockfile);
      const hidden: string[] = [];
      return Promise.resolve({
        source,
        layout: target.layout,
        name: basename(resolve(spec)),
        onDisk: { realRoot: target.realRoot, followSymlinks: context.allowSymlinks, hidden },
        followsLinks: context.allowSymlinks,
        list: () => Promise.resolve(listLocalFiles(spec, target, { lockfile: context.lockfile, ignore: context.ignore, allowSymlinks: context.allowSymlinks, hidden })),
      });
    },
  };
}

/**
 * A snapshot folder of the Hugging Face cache (`…/models--org--name/snapshots/<commit>`): locked as
 * that repo at that commit, its links followed only into the repo's own blobs/.
 */
function snapshotSource(spec: string, context: SourceContext): ArtifactSource {
  const guess = parseSnapshotPath(resolve(spec));
  const origin = guess ? describeOrigin({ type: 'huggingface', repo: guess.repo, repoType: guess.repoType, revision: guess.commit, ref: guess.commit }) : spec;
  return {
    spec,
    origin,
    resolve() {
      const target = resolveLocalTarget(spec);
      const cached = parseSnapshotPath(target.realRoot);
      if (target.layout !== 'directory' || !cached) throw new AiscError('SOURCE_NOT_FOUND', `${spec}: expected an HF cache snapshot folder (…/models--org--name/snapshots/<commit>)`);
      const blobs = getRealBlobsFolder(cached);
      const refs = findRefs(cached, cached.commit);
      const ref = refs.includes('main') ? 'main' : (refs[0] ?? cached.commit);
      const source: HubSource = { type: 'huggingface', repo: cached.repo, repoType: cached.repoType, revision: cached.commit, ref };
      const linkRoot = blobs ?? target.realRoot;
      return Promise.resolve({
        source,
        layout: 'directory',
        name: cached.repo.split('/')[1] ?? cached.repo,
        onDisk: { realRoot: target.realRoot, linkRoot, followSymlinks: true },
        list: () => Promise.resolve(listLocalFiles(spec, target, { lockfile: context.lockfile, ignore: context.ignore, allowSymlinks: true, linkRoot })),
      });
    },
  };
}

function archiveFileSource(spec: string, context: SourceContext): ArtifactSource {
  return {
    spec,
    origin: toLocalSource(spec, context.lockfile).path,
    async resolve() {
      const stats = statOrThrow(spec);
      if (!stats.isFile()) throw new AiscError('NOT_A_FILE', `${spec}: expected a .tar or .tar.gz file`);
      const listed = await listArchive(createReadStream(spec, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, spec);
      const source: ArchiveSource = { type: 'archive', path: toLocalSource(spec, context.lockfile).path, sha256: listed.sha256, size: listed.size, compression: listed.compression };
      return archiveResolved(spec, source, listed.files, listed.hasLinks);
    },
  };
}

function archiveResolved(spec: string, source: ArchiveSource, files: ListedFile[], hasLinks: boolean): ResolvedSource {
  const kept = files.filter((file) => !isDefaultIgnored(file.path));
  return { source, layout: 'directory', name: archiveName(spec), followsLinks: hasLinks, list: () => Promise.resolve(kept) };
}

function hubSource(spec: HubSpec, text: string, context: SourceContext, network: Network): ArtifactSource {
  const selected = toSelection(context.include, context.exclude);
  if (context.keepAt !== undefined) throw new AiscError('USAGE', `--path: for https:// sources; a Hub repo is kept in the Hugging Face cache (aisc fetch)`);
  return {
    spec: text,
    origin: describeOrigin(toHubSource(spec, '0'.repeat(40), getHubConfig(context.env), {})),
    async resolve() {
      const hub = await network.hub();
      const commit = await hub.resolveRevision(spec);
      const source = toHubSource(spec, commit, hub.config, { include: context.include, exclude: context.exclude });
      return {
        source,
        layout: 'directory',
        name: spec.repo.split('/')[1] ?? spec.repo,
        async list() {
          const files = (await hub.listTree(spec, commit)).filter((file) => !isDefaultIgnored(file.path) && selected(file.path));
          if (files.length === 0) throw new AiscError('SOURCE_EMPTY', `${text}: no file at ${commit} is selected${context.include || context.exclude ? ' by --include/--exclude' : ''}`);
          return files;
        },
        async open(file: ListedFile) {
          const response = await hub.download(spec, commit, file.path);
          return response.body as AsyncIterable<Buffer>;
        },
        async readRange(file: ListedFile, start: number, end: number) {
          const response = await hub.download(spec, commit, file.path, 0, `bytes=${start}-${end - 1}`);
          return readPrefix(response.body as AsyncIterable<Buffer> & { destroy(): unknown }, response.status === 206 ? 0 : start, end - start);
        },
      } satisfies ResolvedSource;
    },
  };
}

function urlSource(url: URL, spec: string, context: SourceContext, network: Network): ArtifactSource {
  const name = decodeURIComponent(basename(url.pathname)) || url.hostname;
  return {
    spec,
    origin: url.href,
    resolve() {
      const source: UrlSource = { type: 'url', url: url.href };
      const kept = toKept(context);
      if (kept) source.path = kept.path;
      let listed: ListedFile[] | undefined;
      return Promise.resolve({
        source,
        layout: 'file',
        name,
        async list() {
          if (listed) return listed;
          // Hashed and inspected while it downloads, kept only with --path (written atomically, then
          // inspected from the file kept), never held whole.
          const fetched = await fetchUrl(url, spec, kept, network, (body) => inspectStream(body, name));
          if (fetched.etag) source.etag = fetched.etag;
          listed = [{ path: name, size: fetched.size, sha256: fetched.sha256, ...(fetched.result ? { inspection: fetched.result } : {}) }];
          return listed;
        },
      });
    },
  };
}

function urlArchiveSource(url: URL, spec: string, context: SourceContext, network: Network): ArtifactSource {
  return {
    spec,
    origin: url.href,
    async resolve() {
      const kept = toKept(context);
      const fetched = await fetchUrl(url, spec, kept, network, (body) => listArchive(body, spec));
      const listed = fetched.result;
      if (!listed) throw new AiscError('INTERNAL', `${spec}: the archive was not read`);
      const source: ArchiveSource = { type: 'archive', url: url.href, sha256: listed.sha256, size: listed.size, compression: listed.compression };
      if (fetched.etag) source.etag = fetched.etag;
      if (kept) source.path = kept.path;
      return archiveResolved(url.pathname, source, listed.files, listed.hasLinks);
    },
  };
}

/** Where --path keeps a download: recorded relative to the lockfile's folder, and only inside it. */
interface Kept {
  path: string;
  root: WriteRoot;
}

/**
 * --path as the lockfile records it. A path fetch could not write again (outside the lockfile's
 * folder: fetch writes nowhere else, whatever a lockfile says) is refused before any download.
 */
function toKept(context: SourceContext): Kept | undefined {
  if (context.keepAt === undefined) return undefined;
  const path = toLocalSource(context.keepAt, context.lockfile).path;
  const folder = dirname(resolve(context.lockfile));
  const problem = getPathProblem(path);
  if (problem) throw new AiscError('PATH_INVALID', `--path ${context.keepAt}: aisc keeps a download only under the lockfile's folder (${folder}), where aisc fetch can write it again; it would be recorded as ${JSON.stringify(path)}, which ${problem}`);
  return { path, root: { folder, what: "the lockfile's folder", hint: 'remove the link, or keep the file elsewhere' } };
}

/**
 * GETs a URL once: with a place to keep it, downloaded there atomically and then read back from
 * disk; without, read straight from the network. `consume` sees the bytes either way.
 */
async function fetchUrl<T = undefined>(url: URL, spec: string, kept: Kept | undefined, network: Network, consume?: (body: AsyncIterable<Buffer>) => Promise<T>): Promise<{ result?: T; sha256: string; size: number; etag?: string }> {
  if (kept !== undefined) {
    const keepAt = await confine(kept.root, kept.path).catch((error: unknown) => {
      throw inPlace(error, spec);
    });
    const downloaded = await downloadFile({ dest: keepAt, partial: `${keepAt}.aisc-download`, root: kept.root, what: spec, request: async () => (await network.http()).send(url.href, { what: spec }) }).catch((error: unknown) => {
      throw inPlace(error, spec);
    });
    const result = consume ? await consume(createReadStream(keepAt, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) : undefined;
    return { result, sha256: downloaded.sha256, size: downloaded.size, ...(downloaded.etag ? { etag: downloaded.etag } : {}) };
  }
  const response = await (await network.http()).send(url.href, { what: spec });
  const hashed = await hashTee(response.body as AsyncIterable<Buffer>, consume ?? drain);
  const etag = response.headers.etag;
  return { ...hashed, ...(etag ? { etag } : {}) };
}

/** SHA-256 and length of a stream while `consume` reads it too. */
async function hashTee<T>(body: AsyncIterable<Buffer>, consume: (body: AsyncIterable<Buffer>) => Promise<T>): Promise<{ result: T; sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  async function* tap(): AsyncIterable<Buffer> {
    for await (const chunk of body) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  const result = await consume(tap());
  return { result, sha256: hash.digest('hex'), size };
}

/** What a stream is, from its bytes: it is read to its end (from the network, the download being hashed). */
async function inspectStream(body: AsyncIterable<Buffer>, name: string): Promise<Inspection> {
  const inspector = new ContentInspector(undefined, name);
  for await (const chunk of body) inspector.feed(chunk);
  return inspector.end();
}

async function drain(body: AsyncIterable<Buffer>): Promise<undefined> {
  for await (const chunk of body) void chunk;
  return undefined;
}

/** `length` bytes after skipping `skip` (a server that ignored the Range), then the body is dropped. */
async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): unknown }, skip: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let at = -skip;
  for await (const chunk of body) {
    const start = Math.max(0, -at);
    if (start < chunk.length) chunk.copy(out, Math.max(0, at), start, Math.min(chunk.length, start + length - Math.max(0, at)));
    at += chunk.length;
    if (at >= length) break;
  }
  body.destroy();
  return at >= length ? out : out.subarray(0, Math.max(0, at));
}

function archiveName(path: string): string {
  return basename(path).replace(/\.(?:tar|tgz|tar\.gz)$/i, '');
}

/** What model_signing leaves out at an artifact's root (.git, .gitattributes, …), left out of origins' listings too. */
function isDefaultIgnored(path: string): boolean {
  const top = path.split('/')[0] ?? '';
  return (DEFAULT_IGNORED as readonly string[]).includes(top);
}

function statOrThrow(path: string): ReturnType<typeof statSync> & object {
  try {
    return statSync(path);
  } catch {
    throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file or folder`);
  }
}
