import picomatch from 'picomatch';
import { isUnderSource } from './source-match.js';
import type { PolicyMatch } from './types.js';

const toList = (value: string | string[] | undefined): string[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

/** What a match is held against: an artifact's name and kind, and (for rules) the origin it was locked from. */
export interface MatchedArtifact {
  name: string;
  kind: string;
  origin?: string;
}

/**
 * A rule or approval applies when the kind is listed (if any are), the name matches a glob (if
 * any), and the origin lies under a listed source (if any: an artifact whose origin is not known
 * is not under one).
 */
export function matchesArtifact(match: PolicyMatch | undefined, artifact: MatchedArtifact): boolean {
  const kinds = toList(match?.kind);
  if (kinds && !kinds.includes(artifact.kind)) return false;
  const sources = toList(match?.source);
  if (sources && (artifact.origin === undefined || !sources.some((source) => isUnderSource(artifact.origin as string, source)))) return false;
  const names = toList(match?.name);
  return !names || names.some((glob) => picomatch(glob, { dot: true })(artifact.name));
}

export function describeMatch(match: PolicyMatch | undefined): string {
  const parts = [
    match?.kind && `kind ${toList(match.kind)?.join('|') ?? ''}`,
    match?.name && `name ${toList(match.name)?.join('|') ?? ''}`,
    match?.source && `source ${toList(match.source)?.join('|') ?? ''}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'every artifact';
}
