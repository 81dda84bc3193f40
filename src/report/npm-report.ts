import type { Finding } from '../findings.js';
import type { NpmArtifact } from '../lockfile/types.js';

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

/**
 * Every package that failed, on stdout: these are findings. Packages that failed the same way (the
 * same code, the same message but for their own name and version) share one line and a list, so
 * a registry that signs nothing is a few lines, not one for each of 252 packages.
 */
export function renderNpmFindings(packageLock: string, findings: readonly Finding[]): string {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const key = `${finding.code} ${toTemplate(finding)}`;
    groups.set(key, [...(groups.get(key) ?? []), finding]);
  }
  const lines: string[] = [];
  for (const [first, ...rest] of groups.values()) {
    if (!first) continue;
    lines.push(`FAIL npm:${getPackage(first)}: ${first.code}: ${first.message}`);
    if (rest.length > 0) lines.push(`     and the same for ${rest.length} more: ${listSome(rest.map(getPackage))}`);
  }
  lines.push(`FAILED: ${findings.length} finding${findings.length === 1 ? '' : 's'} in ${packageLock}; nothing was written`);
  return `${lines.join('\n')}\n`;
}

/** The package a finding names, as name@version (its artifact is npm:name@version). */
function getPackage(finding: Finding): string {
  const artifact = finding.artifact ?? '';
  return artifact.startsWith('npm:') ? artifact.slice('npm:'.length) : artifact;
}

/** A finding's message with its package's name and version taken out: what packages share. */
function toTemplate(finding: Finding): string {
  const id = getPackage(finding);
  const at = id.lastIndexOf('@');
  const [name, version] = at > 0 ? [id.slice(0, at), id.slice(at + 1)] : [id, ''];
  let template = finding.message.split(id).join('\u0000');
  if (name) template = template.split(name).join('\u0001');
  if (version) template = template.split(version).join('\u0002');
  return template;
}

function listSome(ids: readonly string[]): string {
  return ids.length <= NAMES_SHOWN ? ids.join(', ') : `${ids.slice(0, NAMES_SHOWN).join(', ')} and ${ids.length - NAMES_SHOWN} more`;
}
