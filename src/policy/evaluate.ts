import { toFinding, type Finding, type PolicyFindingCode } from '../findings.js';
import { getKeyFingerprint } from '../signing/keys.js';
import { toRecorded } from '../sources/index.js';
import { ARTIFACT_KINDS, type Lockfile, type RecordedSigner } from '../lockfile/types.js';
import { describeMatch, matchesArtifact } from './match.js';
import { evaluateNpmArtifact } from './npm-rules.js';
import { isUnderSource } from './source-match.js';
import type { LoadedPolicy, PolicyIdentity } from './types.js';

/**
 * Applies every rule to every artifact it matches. npm packages are judged by the npm terms
 * (with aisc's defaults, so also without a policy); files by the others. Pure: data in, findings out.
 */
export function evaluateRules(loaded: LoadedPolicy | undefined, lockfile: Lockfile): Finding[] {
  const findings: Finding[] = [];
  for (const [name, artifact] of lockfile.artifacts) {
    if (artifact.kind === 'npm') findings.push(...evaluateNpmArtifact(loaded, name, artifact));
  }
  if (!loaded) return findings;
  (loaded.policy.rules ?? []).forEach((rule, index) => {
    for (const [name, artifact] of lockfile.artifacts) {
      if (artifact.kind === 'npm' || !matchesArtifact(rule.match, { name, kind: artifact.kind })) continue;
      const add = (code: PolicyFindingCode, message: string): void => {
        findings.push(toFinding({ code, artifact: name, rule: index + 1, message: `rule ${index + 1} (${describeMatch(rule.match)}): ${message}` }));
      };
      const { signedBy, sources, denyFormats } = rule.require;
      if (signedBy) {
        const signer = artifact.signature?.signer;
        if (!signer) add('POLICY_UNSIGNED', `requires a signature by ${signedBy.join(' or ')}; the artifact is locked unsigned`);
        else if (!signedBy.some((id) => isSigner(loaded, id, signer))) add('POLICY_SIGNER', `requires a signature by ${signedBy.join(' or ')}; signed by ${describeRecorded(signer)}`);
      }
      const origin = sources ? toRecorded(artifact.source).origin : '';
      if (sources && !admitsOrigin(sources, origin)) add('POLICY_SOURCE', describeSourceRefusal(sources, origin));
      const denied = (artifact.format?.weights ?? []).filter((format) => denyFormats?.includes(format));
      if (denied.length > 0) add('POLICY_FORMAT', `denies ${denied.join(', ')} weights; the artifact has them`);
    }
  });
  return findings;
}

/**
 * Why the policy's `sources` refuse `origin` for an artifact (the first refusing rule's words, as
 * evaluateRules puts them), or undefined. Without a kind, refused only when refused under every
 * kind a rule could match: lock asks before the files are listed. Pure.
 */
export function getSourceRefusal(loaded: LoadedPolicy | undefined, artifact: { name: string; kind?: string }, origin: string): string | undefined {
  const rules = loaded?.policy.rules ?? [];
  const refusals = (artifact.kind !== undefined ? [artifact.kind] : [...ARTIFACT_KINDS]).map((kind) => {
    const index = rules.findIndex((rule) => matchesArtifact(rule.match, { name: artifact.name, kind }) && !admitsOrigin(rule.require.sources, origin));
    const rule = rules[index];
    return rule ? `rule ${index + 1} (${describeMatch(rule.match)}): ${describeSourceRefusal(rule.require.sources ?? [], origin)}` : undefined;
  });
  return refusals.every((refusal) => refusal !== undefined) ? refusals[0] : undefined;
}

function admitsOrigin(sources: readonly string[] | undefined, origin: string): boolean {
  return sources === undefined || sources.some((allowed) => isUnderSource(origin, allowed));
}

function describeSourceRefusal(sources: readonly string[], origin: string): string {
  return `allows sources ${sources.join(', ')}; locked from ${origin}`;
}

/**
 * The pickle imports a policy allows for one artifact beyond aisc's own allowlist: every matching
 * rule's `allow.pickleImports`. Pure.
 */
export function getAllowedImports(loaded: LoadedPolicy | undefined, name: string, kind: string): Set<string> {
  const allowed = new Set<string>();
  for (const rule of loaded?.policy.rules ?? []) {
    if (!rule.allow?.pickleImports || !matchesArtifact(rule.match, { name, kind })) continue;
    rule.allow.pickleImports.forEach((entry) => allowed.add(entry));
  }
  return allowed;
}

function isSigner(loaded: LoadedPolicy, name: string, recorded: RecordedSigner): boolean {
  const expected: PolicyIdentity | undefined = loaded.policy.signers?.get(name);
  if (!expected) return false;
  if (expected.key !== undefined) {
    const key = loaded.keys.get(expected.key);
    return recorded.kind === 'key' && key !== undefined && recorded.keyFingerprint === getKeyFingerprint(key);
  }
  if (recorded.kind !== 'keyless' || recorded.issuer !== expected.issuer) return false;
  if (expected.identity !== undefined) return recorded.identity === expected.identity;
  return expected.identityRegexp !== undefined && new RegExp(`^(?:${expected.identityRegexp})$`, 'u').test(recorded.identity);
}

function describeRecorded(signer: RecordedSigner): string {
  switch (signer.kind) {
    case 'keyless':
      return `${signer.identity} (${signer.issuer})`;
    case 'key':
      return `key sha256:${signer.keyFingerprint}`;
    case 'certificate':
      return `certificate ${signer.subject}`;
    default: {
      const never: never = signer;
      return never;
    }
  }
}

