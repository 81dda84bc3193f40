import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { AiscError } from '../../errors.js';
import type { HubSource } from '../../lockfile/types.js';
import { toSelection } from '../fnmatch.js';
import { getHubCacheDir, getSnapshotFolder, toCachedRepo } from '../hf-cache.js';
import { DEFAULT_HUB_ENDPOINT, getHubConfig, isHubSpec, parseHubSpec, toHubSource } from '../huggingface.js';
import { isDefaultIgnored } from '../ignore.js';
import type { SourceKind } from '../kind.js';
import { readPrefix } from '../remote-read.js';
import type { ListedFile, RecordedSource, ResolvedSource } from '../source.js';

/**
 * A Hugging Face Hub repository pinned to one commit: listed from the Hub's tree (LFS files with
 * their SHA-256, so never downloaded to lock), verified in the Hugging Face cache's snapshot of
 * that commit, restored into that cache as huggingface_hub lays it out. An HF cache snapshot
 * folder locks as this kind too (kinds/hf-snapshot.ts).
 */
export const hubKind: SourceKind<HubSource> = {
  type: 'huggingface',
  parse(text, context, network) {
    if (!isHubSpec(text)) return undefined;
    const spec = parseHubSpec(text);
    const selected = toSelection(context.include, context.exclude);
    return {
      spec: text,
      origin: getHubOrigin(toHubSource(spec, '0'.repeat(40), getHubConfig(context.env), {})),
      selects: true,
      keptIn: 'a Hub repo is kept in the Hugging Face cache (aisc fetch)',
      async resolve() {
        const hub = await network.hub();
        const commit = await hub.resolveRevision(spec);
        const source = toHubSource(spec, commit, hub.config, { include: context.include, exclude: context.exclude });
        return {
          source,
          layout: 'directory',
          name: spec.repo.split('/')[1] ?? spec.repo,
          ...(spec.repoType === 'dataset' ? { kind: 'dataset' as const } : {}),
          async list() {
            // The publisher's bundle is listed whatever the selection: lock takes it out and checks it.
            const files = (await hub.listTree(spec, commit)).filter((file) => !isDefaultIgnored(file.path) && (selected(file.path) || file.path === context.bundlePath));
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
  },
  recorded: recordedHub,
};

function recordedHub(source: HubSource): RecordedSource {
  const origin = getHubOrigin(source);
  const selected = source.include || source.exclude ? toSelection(source.include, source.exclude) : undefined;
  return {
    source,
    origin,
    onDisk: false,
    describe: () => `${origin}@${source.revision}${source.ref === source.revision ? '' : ` (${source.ref})`}`,
    locate(name, _artifact, _lockfile, env) {
      // Snapshot files are links into the repo's blobs/; a selection leaves the rest of the commit out.
      const cached = toCachedRepo(getHubCacheDir(env), source.repoType, source.repo);
      const root = getSnapshotFolder(cached, source.revision);
      let blobs: string | undefined;
      try {
        blobs = realpathSync(join(cached.repoFolder, 'blobs'));
      } catch {
        blobs = undefined;
      }
      const hint = `not in the Hugging Face cache (${cached.cacheDir}); run aisc fetch ${name}, or pass --artifact ${name}=DIR for a local_dir copy`;
      return { mode: 'files', root, linkRoot: blobs ?? root, hint, ...(selected ? { selected } : {}) };
    },
    // A local_dir download keeps huggingface_hub's metadata in .cache/huggingface/: not content.
    mounted: () => ({ skip: (path) => path === '.cache/huggingface', ...(selected ? { selected } : {}) }),
    async restore({ name, artifact, env, network, gate, onNote }) {
      const { planHub } = await import('../hub-restore.js');
      return planHub(name, artifact, source, env, network, gate, onNote);
    },
    compare: (after) => compareCommits(source, after),
    sbom(artifact) {
      const base = getRepoPage(source);
      const card = artifact.files.some((file) => file.path === 'README.md') && source.repoType === 'model' ? [{ type: 'model-card' as const, url: `${base}/blob/${source.revision}/README.md` }] : [];
      return {
        version: source.revision,
        ...(source.repoType === 'model' ? { purl: toHubPurl(source) } : {}),
        references: [{ type: 'distribution', url: `${base}/tree/${source.revision}` }, ...card],
      };
    },
  };
}

/** `hf://[datasets/]org/name` on the default Hub; a mirror is named by its own URL, so an `hf://org/` rule never admits it. */
export function getHubOrigin(source: Pick<HubSource, 'repo' | 'repoType' | 'endpoint'>): string {
  const repo = `${source.repoType === 'dataset' ? 'datasets/' : ''}${source.repo}`;
  return source.endpoint === undefined ? `hf://${repo}` : `${source.endpoint}/${repo}`;
}

function getRepoPage(source: HubSource): string {
  return `${source.endpoint ?? DEFAULT_HUB_ENDPOINT}/${source.repoType === 'dataset' ? 'datasets/' : ''}${source.repo}`;
}

/** Where a Hub commit's page is, for a reviewer following a change. */
function getCommitUrl(source: HubSource): string {
  return `${getRepoPage(source)}/commit/${source.revision}`;
}

/**
 * The same Hub repo (same endpoint and type, same selection) at another commit: diff's
 * revision-changed, with both commits' pages, so a reviewer opens exactly what moved.
 */
function compareCommits(before: HubSource, after: HubSource | { type: string }): ReturnType<RecordedSource['compare']> {
  if (after.type !== 'huggingface') return undefined;
  const next = after as HubSource;
  if (before.repo !== next.repo || before.repoType !== next.repoType || before.endpoint !== next.endpoint) return undefined;
  if (!same(before.include, next.include) || !same(before.exclude, next.exclude) || before.revision === next.revision) return undefined;
  const short = (commit: string): string => commit.slice(0, 12);
  return {
    summary: `${getHubOrigin(next)}: commit ${short(before.revision)} (${before.ref}) → ${short(next.revision)} (${next.ref}); ${getCommitUrl(next)}`,
    from: { revision: before.revision, ref: before.ref, url: getCommitUrl(before) },
    to: { revision: next.revision, ref: next.ref, url: getCommitUrl(next) },
  };
}

function same(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** purl-spec's huggingface type: the commit as version, a mirror as repository_url. */
export function toHubPurl(source: HubSource): string {
  const segments = source.repo.split('/').map(encodeURIComponent).join('/');
  const qualifier = source.endpoint !== undefined && source.endpoint !== DEFAULT_HUB_ENDPOINT ? `?repository_url=${encodeURIComponent(source.endpoint)}` : '';
  return `pkg:huggingface/${segments}@${source.revision.toLowerCase()}${qualifier}`;
}
