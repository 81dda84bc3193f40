import picomatch from 'picomatch';
import type { NpmArtifact } from '../lockfile/types.js';
import { normalizeRepository } from '../npm/repository.js';
import { DEFAULT_REGISTRY } from '../npm/config.js';
import { toFinding, type Finding, type NpmFindingCode } from '../findings.js';
import { matchesArtifact } from './match.js';
import { isUnderSource } from './source-match.js';
import type { LoadedPolicy, PolicyRule } from './types.js';

type Term = 'registrySignature' | 'provenance' | 'provenanceFrom' | 'installScripts' | 'sources';

/** What one package must show, and which rule (1-based; 0 = aisc's default) asked for each term. */
export interface NpmRequirements {
  registrySignature: boolean;
  provenance: 'required' | 'optional';
  provenanceFrom: Record<string, string>;
  installScripts: 'deny' | 'allow';
  sources?: string[];
  rule: Record<Term, number>;
}

/**
 * The requirements for one package: aisc's defaults (a registry signature from the public
 * registry, which signs every version; nothing else), then each matching rule in order, the last
 * rule that sets a term deciding it — so `installScripts: deny` for all can be followed by an
 * `allow` for one package. provenanceFrom maps merge, later globs overriding the same glob.
 */
export function getNpmRequirements(policy: LoadedPolicy | undefined, artifact: NpmArtifact): NpmRequirements {
  const requirements: NpmRequirements = {
    registrySignature: artifact.source.from === 'registry' && artifact.source.registry === DEFAULT_REGISTRY,
    provenance: 'optional',
    provenanceFrom: {},
    installScripts: 'allow',
    rule: { registrySignature: 0, provenance: 0, provenanceFrom: 0, installScripts: 0, sources: 0 },
  };
  (policy?.policy.rules ?? []).forEach((rule: PolicyRule, index) => {
    if (!matchesArtifact(rule.match, { name: artifact.package, kind: 'npm' })) return;
    const { registrySignature, provenance, provenanceFrom, installScripts, sources } = rule.require;
    const at = index + 1;
    if (registrySignature !== undefined) [requirements.registrySignature, requirements.rule.registrySignature] = [registrySignature, at];
    if (provenance !== undefined) [requirements.provenance, requirements.rule.provenance] = [provenance, at];
    if (provenanceFrom !== undefined) [requirements.provenanceFrom, requirements.rule.provenanceFrom] = [{ ...requirements.provenanceFrom, ...provenanceFrom }, at];
    if (installScripts !== undefined) [requirements.installScripts, requirements.rule.installScripts] = [installScripts, at];
    if (sources !== undefined) [requirements.sources, requirements.rule.sources] = [sources, at];
  });
  return requirements;
}

/**
 * Judges one locked package by its requirements. Pure: the facts were verified at lock time and
 * again from the evidence. A finding names its rule; aisc's defaults are no rule of the file's.
 */
export function evaluateNpmArtifact(policy: LoadedPolicy | undefined, name: string, artifact: NpmArtifact): Finding[] {
  const required = getNpmRequirements(policy, artifact);
  const findings: Finding[] = [];
  const add = (term: Term, code: NpmFindingCode, message: string): void => {
    const rule = required.rule[term];
    findings.push(toFinding({ code, artifact: name, ...(rule > 0 ? { rule } : {}), message: `${rule === 0 ? 'by default' : `rule ${rule}`}: ${message}` }));
  };
  if (required.registrySignature && artifact.registrySignature?.status !== 'verified') {
    const reason = artifact.registrySignature?.status === 'unsigned' ? artifact.registrySignature.reason : `it comes from ${artifact.source.from === 'registry' ? 'a registry' : `a ${artifact.source.from} source`}, which nothing signs`;
    const waiver = required.rule.registrySignature === 0 ? ` (${artifact.source.registry ?? 'that registry'} signs every version; a rule with registrySignature: false waives this)` : '';
    add('registrySignature', 'NPM_UNSIGNED', `requires the registry's signature${waiver}; ${reason}`);
  }
  const wantedFrom = Object.entries(required.provenanceFrom).filter(([glob]) => picomatch(glob, { dot: true })(artifact.package));
  if ((required.provenance === 'required' || wantedFrom.length > 0) && !artifact.provenance) {
    add(wantedFrom.length > 0 ? 'provenanceFrom' : 'provenance', 'NPM_PROVENANCE_MISSING', `requires SLSA provenance${wantedFrom.length > 0 ? ` from ${wantedFrom.map(([, repo]) => repo).join(' and ')}` : ''}; the package has none`);
  }
  for (const [glob, repository] of wantedFrom) {
    if (artifact.provenance && normalizeRepository(artifact.provenance.repository) !== normalizeRepository(repository)) {
      add('provenanceFrom', 'NPM_PROVENANCE_REPOSITORY', `requires provenance from ${repository} for ${glob}; built from ${artifact.provenance.repository}`);
    }
  }
  if (required.installScripts === 'deny' && artifact.hasInstallScript) add('installScripts', 'NPM_INSTALL_SCRIPT', 'denies install scripts; the package has one (preinstall, install or postinstall)');
  if (required.sources) {
    const from = getTarballUrl(artifact);
    if (!required.sources.some((allowed) => isUnderSource(from, allowed))) add('sources', 'NPM_SOURCE', `allows sources ${required.sources.join(', ')}; fetched from ${from}`);
  }
  return findings;
}

/** Where the bytes come from: `resolved`, or the registry's tarball URL when the lock leaves it out. */
export function getTarballUrl(artifact: NpmArtifact): string {
  if (artifact.source.resolved) return artifact.source.resolved;
  const base = artifact.package.slice(artifact.package.lastIndexOf('/') + 1);
  return `${artifact.source.registry ?? DEFAULT_REGISTRY}${artifact.package}/-/${base}-${artifact.version}.tgz`;
}
