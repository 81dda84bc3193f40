import picomatch from 'picomatch';
import type { PolicyMatch } from './types.js';

const toList = (value: string | string[] | undefined): string[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

/** A rule or approval applies when the kind is listed (if any are) and the name matches a glob (if any). */
export function matchesArtifact(match: PolicyMatch | undefined, artifact: { name: string; kind: string }): boolean {
  const kinds = toList(match?.kind);
  if (kinds && !kinds.includes(artifact.kind)) return false;
  const names = toList(match?.name);
  return !names || names.some((glob) => picomatch(glob, { dot: true })(artifact.name));
}

export function describeMatch(match: PolicyMatch | undefined): string {
  const parts = [match?.kind && `kind ${toList(match.kind)?.join('|') ?? ''}`, match?.name && `name ${toList(match.name)?.join('|') ?? ''}`].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'every artifact';
}
