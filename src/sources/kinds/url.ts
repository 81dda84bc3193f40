import { basename } from 'node:path';
import { AiscError } from '../../errors.js';
import type { UrlSource } from '../../lockfile/types.js';
import { isArchivePath } from '../archive-path.js';
import type { SourceKind } from '../kind.js';
import { fromLockfileFolder } from '../local.js';
import { fetchUrl, inspectStream, toKept } from '../remote-read.js';
import { getFetchChunkSize, planKeptDownload, toExpected } from '../restore.js';
import type { ListedFile } from '../source.js';
import { parseHttpsUrl } from '../urls.js';

/**
 * One file from an https URL: hashed and inspected while it downloads, kept only with --path (then
 * verified there and restored there by fetch), never held whole.
 */
export const urlKind: SourceKind<UrlSource> = {
  type: 'url',
  parse(spec, context, network) {
    if (!isUrlSpec(spec)) return undefined;
    const url = parseHttpsUrl(spec, 'aisc lock');
    if (isArchivePath(url.pathname)) return undefined;
    const name = decodeURIComponent(basename(url.pathname)) || url.hostname;
    return {
      spec,
      origin: url.href,
      keepsDownload: true,
      resolve() {
        const source: UrlSource = { type: 'url', url: url.href };
        const kept = toKept(context.keepAt, context.lockfile);
        if (kept) source.path = kept.path;
        let listed: ListedFile[] | undefined;
        let fetched: Awaited<ReturnType<typeof fetchUrl>> | undefined;
        return Promise.resolve({
          source,
          layout: 'file' as const,
          name,
          async list() {
            if (listed) return listed;
            const got = await fetchUrl(url, spec, kept, network, (body) => inspectStream(body, name), context.chunkSize);
            fetched = got;
            if (got.etag) source.etag = got.etag;
            listed = [{ path: name, size: got.size, sha256: got.sha256, ...(got.chunks ? { chunks: got.chunks } : {}), ...(got.result ? { inspection: got.result } : {}) }];
            return listed;
          },
          commit: async () => fetched?.commit(),
          discard: async () => fetched?.discard(),
        });
      },
    };
  },
  recorded(source) {
    const unfetchable = source.path === undefined ? `locked from ${source.url} without --path, so it has no place on disk` : undefined;
    return {
      source,
      origin: source.url,
      onDisk: false,
      describe: () => source.url,
      locate(name, _artifact, lockfile) {
        if (source.path === undefined) return { mode: 'none', hint: `locked from ${source.url} without --path; pass --artifact ${name}=FILE` };
        return { mode: 'files', root: fromLockfileFolder(source.path, lockfile), hint: `run aisc fetch ${name}` };
      },
      mounted: () => ({}),
      ...(unfetchable ? { unfetchable } : {}),
      restore({ name, artifact, lockfile, network, gate, onNote, env }) {
        const file = artifact.files[0];
        if (source.path === undefined || !file) return Promise.reject(new AiscError('USAGE', `${name}: ${unfetchable ?? 'no file is locked'}; nothing to fetch`));
        const chunkSize = getFetchChunkSize(file, env);
        // Judged under its locked name, as the loader that opens it would see it.
        return Promise.resolve(planKeptDownload({ name, url: source.url, lockfile, path: source.path, expected: toExpected(file), ...(chunkSize === undefined ? {} : { chunkSize }), judgedAs: file.path, network, gate, onNote }));
      },
      compare: () => undefined,
      sbom: (artifact) => {
        const sha256 = artifact.layout === 'file' ? artifact.files[0]?.sha256 : undefined;
        return { references: [{ type: 'distribution', url: source.url, ...(sha256 ? { hashes: [{ alg: 'SHA-256' as const, content: sha256 }] } : {}) }] };
      },
    };
  },
};

/** `scheme://…`: a URL, whichever scheme (the parser refuses all but https and loopback http). */
export function isUrlSpec(spec: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(spec);
}
