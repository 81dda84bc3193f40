import type { NpmArtifact } from '../lockfile/types.js';
import type { NpmProblem } from '../npm/findings.js';

/** At most this many package names on one line; the rest are counted. */
const NAMES_SHOWN = 5;

/** What `aisc lock package-lock.json` recorded, in a few lines however many packages. */
export function renderNpmLocked(packageLock: string, locked: readonly { artifact: NpmArtifact }[]): string {
  const artifacts = locked.map((l) => l.artifact);
  const count = (test: (a: NpmArtifact) => boolean): number => artifacts.filter(test).length;
  const lines = [
    `locked ${artifacts.length} npm package${artifacts.length === 1 ? '' : 's'} from ${packageLock}: ${count((a) => a.registrySignature?.status === 'verified')} registry-signed, ${count((a) => a.provenance !== undefined)} with provenance, ${count((a) => a.hasInstallScript === true)} with install scripts, ${count((a) => a.source.from !== 'registry')} not from a registry`,
  ];
  const unsigned = new Map<string, string[]>();
  for (const a of artifacts) {
    if (a.registrySignature?.status === 'unsigned') unsigned.set(a.registrySignature.reason, [...(unsigned.get(a.registrySignature.reason) ?? []), `${a.package}@${a.version}`]);
  }
  for (const [reason, ids] of unsigned) lines.push(`  unsigned: ${ids.length} package${ids.length === 1 ? '' : 's'} (${listSome(ids)}): ${reason}`);
  const scripts = artifacts.filter((a) => a.hasInstallScript).map((a) => `${a.package}@${a.version}`);
  if (scripts.length > 0) lines.push(`  install scripts: ${listSome(scripts)}`);
  return `${lines.join('\n')}\n`;
}

/** Every package that failed, one line each, on stdout: these are findings. */
export function renderNpmFindings(packageLock: string, findings: readonly NpmProblem[]): string {
  const lines = findings.map((f) => `FAIL npm:${f.package}: ${f.code}: ${f.message}`);
  lines.push(`FAILED: ${findings.length} finding${findings.length === 1 ? '' : 's'} in ${packageLock}; nothing was written`);
  return `${lines.join('\n')}\n`;
}

function listSome(ids: readonly string[]): string {
  return ids.length <= NAMES_SHOWN ? ids.join(', ') : `${ids.slice(0, NAMES_SHOWN).join(', ')} and ${ids.length - NAMES_SHOWN} more`;
}
