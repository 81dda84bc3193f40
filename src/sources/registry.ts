import { AiscError } from '../errors.js';
import type { FileArtifactKind, Source } from '../lockfile/types.js';
import type { SourceContext, SourceKind, SpecParser } from './kind.js';
import { archiveKind } from './kinds/archive.js';
import { hfSnapshotSpec } from './kinds/hf-snapshot.js';
import { hubKind } from './kinds/hub.js';
import { localKind } from './kinds/local.js';
import { ociKind } from './kinds/oci.js';
import { urlKind } from './kinds/url.js';
import type { Network } from './network.js';
import type { ArtifactSource, RecordedSource } from './source.js';

/** Every kind a lockfile can record, by its `source.type`: the lockfile schema names the same. */
const KINDS: { readonly [T in Source['type']]: SourceKind<Extract<Source, { type: T }>> } = {
  local: localKind,
  huggingface: hubKind,
  url: urlKind,
  archive: archiveKind,
  oci: ociKind,
};

/** Who recognises a spec, in this order: the first that does owns it; a path on disk is the last resort. */
const PARSERS: readonly SpecParser[] = [hubKind as SpecParser, ociKind as SpecParser, urlKind as SpecParser, archiveKind as SpecParser, hfSnapshotSpec, localKind as SpecParser];

/**
 * Why the policy refuses an origin for an artifact (undefined when it allows it). Without a kind,
 * refused only when every kind would be: the kind is not known until the files are listed.
 */
export type OriginGate = (origin: string, artifact: { name: string; kind?: FileArtifactKind }) => string | undefined;

/**
 * The one factory (pacote's Fetcher.get): which origin each spec names, decided from the text
 * alone, and held against the policy before any disk or network work (its `canUse` gate). Every
 * refusal is reported at once.
 */
export function getSources(specs: readonly string[], context: SourceContext, network: Network, gate?: { allows: OriginGate; where: string }): ArtifactSource[] {
  const sources = specs.map((spec) => getSource(spec, context, network));
  const refused: string[] = [];
  for (const source of sources) {
    const why = gate?.allows(source.origin, { name: source.spec });
    if (why !== undefined) refused.push(`${source.spec}: ${why}`);
  }
  if (gate && refused.length > 0) {
    const [first, ...rest] = refused;
    throw new AiscError('POLICY_VIOLATION', `${first ?? ''} (${gate.where}; nothing was read or downloaded; --force records it anyway, verify will still fail)`, { problems: rest });
  }
  return sources;
}

function getSource(spec: string, context: SourceContext, network: Network): ArtifactSource {
  let source: ArtifactSource | undefined;
  for (const parser of PARSERS) {
    source = parser.parse(spec, context, network);
    if (source) break;
  }
  if (!source) throw new AiscError('USAGE', `${spec}: not a path, hf:// repo, oci:// reference or https:// URL`);
  if ((context.include || context.exclude) && !source.selects) throw new AiscError('USAGE', `--include/--exclude: for hf:// sources, not ${spec}`);
  // --ignore is recorded for folders on disk and applied again by verify; any other source is
  // locked whole (or by --include/--exclude), so a glob that would silently do nothing is refused.
  if (context.ignoreGiven && !source.takesIgnore) throw new AiscError('USAGE', `--ignore: for folders on disk; ${spec} is locked whole${source.selects ? ' (select files with --include/--exclude)' : ''}`);
  if (context.platform !== undefined && !source.choosesPlatform) throw new AiscError('USAGE', `--platform: for oci:// sources, not ${spec}`);
  if (context.keepAt !== undefined && !source.keepsDownload) throw new AiscError('USAGE', source.keptIn ? `--path: for https:// sources; ${source.keptIn}` : '--path: for https:// and oci:// sources (where to keep the download, or lay an OCI artifact out)');
  return source;
}

/** What verify, fetch, diff and the SBOM do with a lockfile's source, from its recorded type. */
export function toRecorded(source: Source): RecordedSource {
  return (KINDS[source.type] as SourceKind).recorded(source);
}
