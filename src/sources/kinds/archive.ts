import { createReadStream } from 'node:fs';
import { AiscError } from '../../errors.js';
import type { ArchiveSource } from '../../lockfile/types.js';
import { getArchiveName, isArchivePath } from '../archive-path.js';
import { isDefaultIgnored } from '../ignore.js';
import type { SourceContext, SourceKind } from '../kind.js';
import { fromLockfileFolder, resolveLocalTarget, toLocalSource } from '../local.js';
import type { Network } from '../network.js';
import { fetchUrl, toKept } from '../remote-read.js';
import { planKeptDownload } from '../restore.js';
import type { ArtifactSource, ListedFile, ResolvedSource } from '../source.js';
import { parseHttpsUrl } from '../urls.js';
import { isUrlSpec } from './url.js';

/**
 * A .tar / .tar.gz, on disk or at an https URL, whose members are the artifact's files: read as it
 * streams, never extracted (tar is loaded only then). Verified by the kept archive's own digest,
 * which every member's digest was derived from; restored by downloading it again to its place.
 */
export const archiveKind: SourceKind<ArchiveSource> = {
  type: 'archive',
  parse(spec, context, network) {
    if (isUrlSpec(spec)) {
      const url = parseHttpsUrl(spec, 'aisc lock');
      return isArchivePath(url.pathname) ? urlArchive(url, spec, context, network) : undefined;
    }
    return isArchivePath(spec) ? fileArchive(spec, context) : undefined;
  },
  recorded(source) {
    const origin = source.url ?? source.path ?? '';
    const unfetchable = source.url === undefined || source.path === undefined ? `locked from ${origin} ${source.url === undefined ? 'on disk' : 'without --path'}, so there is nothing to download it to` : undefined;
    return {
      source,
      origin,
      onDisk: false,
      verifiedWhole: source.path !== undefined,
      describe: () => origin,
      locate(name, _artifact, lockfile) {
        if (source.path === undefined) return { mode: 'none', hint: `locked from ${source.url ?? 'an archive'} without --path; pass --artifact ${name}=DIR (an extracted copy)` };
        return { mode: 'archive', path: fromLockfileFolder(source.path, lockfile), sha256: source.sha256, size: source.size };
      },
      mounted: () => ({}),
      ...(unfetchable ? { unfetchable } : {}),
      restore({ name, lockfile, network, gate, onNote }) {
        if (source.url === undefined || source.path === undefined) return Promise.reject(new AiscError('USAGE', `${name}: ${unfetchable ?? ''}; nothing to fetch`));
        const path = source.path;
        // Judged as the archive its loader would open.
        const judgedAs = path.slice(path.lastIndexOf('/') + 1);
        return Promise.resolve(planKeptDownload({ name, url: source.url, lockfile, path, expected: { size: source.size, sha256: source.sha256 }, judgedAs, network, gate, onNote }));
      },
      compare: () => undefined,
      sbom: () => ({ references: source.url ? [{ type: 'distribution', url: source.url, hashes: [{ alg: 'SHA-256', content: source.sha256 }] }] : [] }),
    };
  },
};

function fileArchive(spec: string, context: SourceContext): ArtifactSource {
  return {
    spec,
    origin: toLocalSource(spec, context.lockfile).path,
    async resolve() {
      if (resolveLocalTarget(spec).layout !== 'file') throw new AiscError('NOT_A_FILE', `${spec}: expected a .tar or .tar.gz file`);
      const { listArchive } = await import('../archive.js');
      const listed = await listArchive(createReadStream(spec, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, spec);
      const source: ArchiveSource = { type: 'archive', path: toLocalSource(spec, context.lockfile).path, sha256: listed.sha256, size: listed.size, compression: listed.compression };
      return toResolved(spec, source, listed.files, listed.hasLinks);
    },
  };
}

function urlArchive(url: URL, spec: string, context: SourceContext, network: Network): ArtifactSource {
  return {
    spec,
    origin: url.href,
    keepsDownload: true,
    async resolve() {
      const { listArchive } = await import('../archive.js');
      const kept = toKept(context.keepAt, context.lockfile);
      const fetched = await fetchUrl(url, spec, kept, network, (body) => listArchive(body, spec));
      const listed = fetched.result;
      if (!listed) throw new AiscError('INTERNAL', `${spec}: the archive was not read`);
      const source: ArchiveSource = { type: 'archive', url: url.href, sha256: listed.sha256, size: listed.size, compression: listed.compression };
      if (fetched.etag) source.etag = fetched.etag;
      if (kept) source.path = kept.path;
      return { ...toResolved(url.pathname, source, listed.files, listed.hasLinks), commit: () => fetched.commit(), discard: () => fetched.discard() };
    },
  };
}

function toResolved(spec: string, source: ArchiveSource, files: ListedFile[], hasLinks: boolean): ResolvedSource {
  const kept = files.filter((file) => !isDefaultIgnored(file.path));
  return { source, layout: 'directory', name: getArchiveName(spec), followsLinks: hasLinks, list: () => Promise.resolve(kept) };
}
