import type { OciSource } from '../../lockfile/types.js';
import type { SourceKind } from '../kind.js';
import { getOciFolder } from '../oci/folder.js';
import { isOciSpec, parseOciSpec, toOciOrigin } from '../oci/reference.js';
import type { RecordedSource, RevisionChange } from '../source.js';

/**
 * An OCI artifact in a registry (a CNCF ModelPack, a KitOps ModelKit, any image manifest whose
 * layers are files or tars), pinned to its manifest digest: listed from the manifest without
 * downloading one-file layers, laid out by fetch in its folder (the `--path` given to lock, else
 * the aisc OCI cache) and verified there offline.
 */
export const ociKind: SourceKind<OciSource> = {
  type: 'oci',
  parse(spec, context, network) {
    if (!isOciSpec(spec)) return undefined;
    const reference = parseOciSpec(spec);
    return {
      spec,
      origin: toOciOrigin(reference),
      keepsDownload: true,
      choosesPlatform: true,
      async resolve() {
        const { resolveOci } = await import('../oci/resolve.js');
        return resolveOci(spec, reference, context, network);
      },
    };
  },
  recorded: recordedOci,
};

function recordedOci(source: OciSource): RecordedSource {
  const origin = toOciOrigin(source);
  return {
    source,
    origin,
    onDisk: false,
    signedDigest: source.digest,
    describe: () => `${origin}@${source.digest}${source.tag === undefined ? '' : ` (${source.tag})`}${source.platform === undefined ? '' : ` [${source.platform}]`}`,
    locate(name, _artifact, lockfile, env) {
      return { mode: 'files', root: getOciFolder(source, lockfile, env), hint: `run aisc fetch ${name}, or pass --artifact ${name}=DIR for a copy pulled elsewhere` };
    },
    mounted: () => ({}),
    async restore({ name, artifact, lockfile, env, network, gate, ociLayout }) {
      const { planOci } = await import('../oci/restore.js');
      return planOci({ name, artifact, source, lockfile, env, network, gate, ...(ociLayout === undefined ? {} : { ociLayout }) });
    },
    compare: (after) => compareDigests(source, after),
    sbom: () => ({
      version: source.digest,
      purl: toOciPurl(source),
      references: [{ type: 'distribution', url: `${origin}@${source.digest}` }],
    }),
  };
}

/** The same repository (and platform) at another manifest: a moved tag, with both digests. */
function compareDigests(before: OciSource, after: OciSource | { type: string }): RevisionChange | undefined {
  if (after.type !== 'oci') return undefined;
  const next = after as OciSource;
  if (before.registry !== next.registry || before.repository !== next.repository || before.platform !== next.platform || before.digest === next.digest) return undefined;
  const label = (s: OciSource): string => `${s.digest}${s.tag === undefined ? '' : ` (${s.tag})`}`;
  return {
    summary: `${toOciOrigin(next)}: manifest ${label(before)} → ${label(next)}`,
    from: { digest: before.digest, ...(before.tag === undefined ? {} : { tag: before.tag }) },
    to: { digest: next.digest, ...(next.tag === undefined ? {} : { tag: next.tag }) },
  };
}

/** purl-spec's oci type: the last path segment as name, the digest as version, the repository as repository_url. */
export function toOciPurl(source: OciSource): string {
  const name = source.repository.slice(source.repository.lastIndexOf('/') + 1);
  const qualifiers: [string, string][] = [];
  const arch = source.platform?.split('/')[1];
  if (arch !== undefined) qualifiers.push(['arch', arch]);
  qualifiers.push(['repository_url', `${source.registry}/${source.repository}`]);
  if (source.tag !== undefined) qualifiers.push(['tag', source.tag]);
  const query = qualifiers.map(([key, value]) => `${key}=${encodeURIComponent(value).replaceAll('%2F', '/').replaceAll('%3A', ':')}`).join('&');
  return `pkg:oci/${encodeURIComponent(name)}@${encodeURIComponent(source.digest)}?${query}`;
}
