import type { FileArtifact, HubSource, Source } from './types.js';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/**
 * Where a recorded source comes from, as one string for people and for the policy's `sources`:
 * a path, a URL, or `hf://[datasets/]org/name` on the default Hub. A Hub mirror is named by its
 * own URL, so an `hf://org/` rule never admits an artifact pulled from another endpoint.
 */
export function describeOrigin(source: Source): string {
  switch (source.type) {
    case 'local':
      return source.path;
    case 'huggingface': {
      const repo = `${source.repoType === 'dataset' ? 'datasets/' : ''}${source.repo}`;
      return source.endpoint === undefined ? `hf://${repo}` : `${source.endpoint}/${repo}`;
    }
    case 'url':
      return source.url;
    case 'archive':
      return source.url ?? source.path ?? '';
    default: {
      const never: never = source;
      return never;
    }
  }
}

/** The origin and, for a Hub repo, the commit: what a reviewer reads. */
export function describeSource(source: Source): string {
  if (source.type === 'huggingface') return `${describeOrigin(source)}@${source.revision}${source.ref === source.revision ? '' : ` (${source.ref})`}`;
  return describeOrigin(source);
}

/** Where a Hub commit's page is, for a reviewer following a change. */
export function getHubCommitUrl(source: HubSource): string {
  const repo = `${source.repoType === 'dataset' ? 'datasets/' : ''}${source.repo}`;
  return `${source.endpoint ?? DEFAULT_HUB_ENDPOINT}/${repo}/commit/${source.revision}`;
}

/** A path the source keeps on this machine (relative to the lockfile's folder), if any. */
export function getKeptPath(artifact: FileArtifact): string | undefined {
  const source = artifact.source;
  if (source.type === 'local' || source.type === 'url' || source.type === 'archive') return source.path;
  return undefined;
}
