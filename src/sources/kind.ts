import type { Source } from '../lockfile/types.js';
import type { IgnoreMatcher } from './ignore.js';
import type { Network } from './network.js';
import type { ArtifactSource, RecordedSource } from './source.js';

/** What every source may need while locking, made once per command. */
export interface SourceContext {
  lockfile: string;
  /** --ignore globs and the defaults (folders on disk). */
  ignore: IgnoreMatcher;
  allowSymlinks: boolean;
  /** The user gave --ignore globs (they apply to folders on disk only). */
  ignoreGiven?: boolean;
  /** --include / --exclude (Hub repos). */
  include?: string[];
  exclude?: string[];
  /** --platform os/arch[/variant]: which manifest of an OCI index. */
  platform?: string;
  /** --path: where a downloaded file or archive is kept. */
  keepAt?: string;
  /** Where the publisher's bundle is inside a remote artifact (model.sig, or --signature): listed whatever --include/--exclude select. */
  bundlePath?: string;
  /** Bytes a chunk: a file downloaded while listing gets its chunk digests in the same pass (lockfile.md). */
  chunkSize?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * One kind of origin. `parse` recognises a spec of this kind from its text alone (so the policy's
 * `sources` are checked before any disk or network work); `recorded` gives what the commands after
 * `lock` do with a lockfile entry of this kind.
 */
export interface SourceKind<S extends Source = Source> extends Partial<SpecParser> {
  readonly type: S['type'];
  recorded(source: S): RecordedSource;
}

/** Recognises a spec from its text alone; undefined when the spec is not of this kind. */
export interface SpecParser {
  parse(spec: string, context: SourceContext, network: Network): ArtifactSource | undefined;
}
