import { X509Certificate } from 'node:crypto';
import { toFinding, type Finding, type PolicyFindingCode } from '../findings.js';
import { getKeyFingerprint } from '../signing/keys.js';
import { toRecorded } from '../sources/index.js';
import { describeRecordedSigner } from '../lockfile/signer.js';
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
      if (artifact.kind === 'npm') continue;
      const origin = toRecorded(artifact.source).origin;
      if (!matchesArtifact(rule.match, { name, kind: artifact.kind, origin })) continue;
      const add = (code: PolicyFindingCode, message: string): void => {
        findings.push(toFinding({ code, artifact: name, rule: index + 1, message: `rule ${index + 1} (${describeMatch(rule.match)}): ${message}` }));
      };
      const { signedBy, sources, denyFormats } = rule.require;
      if (signedBy) {
        const signer = artifact.signature?.signer;
        if (!signer) add('POLICY_UNSIGNED', `requires a signature by ${signedBy.join(' or ')}; the artifact is locked unsigned`);
        else if (!signedBy.some((id) => isSigner(loaded, id, signer))) add('POLICY_SIGNER', `requires a signature by ${signedBy.join(' or ')}; signed by ${describeRecordedSigner(signer)}`);
      }
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
    const index = rules.findIndex((rule) => matchesArtifact(rule.match, { name: artifact.name, kind, origin }) && !admitsOrigin(rule.require.sources, origin));
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
export function getAllowedImports(loaded: LoadedPolicy | undefined, name: string, kind: string, origin?: string): Set<string> {
  const allowed = new Set<string>();
  for (const rule of loaded?.policy.rules ?? []) {
    if (!rule.allow?.pickleImports || !matchesArtifact(rule.match, { name, kind, origin })) continue;
    rule.allow.pickleImports.forEach((entry) => allowed.add(entry));
  }
  return allowed;
}

/**
 * The signers the rules matching an artifact name (`signedBy`), each once, with who they are: who
 * lock asks a publisher's signature to be from. Pure.
 */
export function getRequiredSigners(loaded: LoadedPolicy | undefined, artifact: { name: string; kind: string; origin: string }): { name: string; identity: PolicyIdentity }[] {
  const names = new Set<string>();
  for (const rule of loaded?.policy.rules ?? []) {
    if (rule.require.signedBy && matchesArtifact(rule.match, artifact)) rule.require.signedBy.forEach((name) => names.add(name));
  }
  return [...names].flatMap((name) => {
    const identity = loaded?.policy.signers?.get(name);
    return identity ? [{ name, identity }] : [];
  });
}

function isSigner(loaded: LoadedPolicy, name: string, recorded: RecordedSigner): boolean {
  const expected: PolicyIdentity | undefined = loaded.policy.signers?.get(name);
  if (!expected) return false;
  if (expected.key !== undefined) {
    const key = loaded.keys.get(expected.key);
    return recorded.kind === 'key' && key !== undefined && recorded.keyFingerprint === getKeyFingerprint(key);
  }
  if (expected.certificateChain !== undefined) {
    // Every CA the signature was checked against must be one of the policy's (verify checks it
    // again against exactly those): one foreign CA among them could be the one the chain ends at.
    const trusted = new Set((loaded.anchors.get(expected.certificateChain) ?? []).map((anchor) => anchor.fingerprint256));
    if (recorded.kind !== 'certificate' || recorded.anchors.length === 0) return false;
    if (!recorded.anchors.every((pem) => trusted.has(toFingerprint(pem) ?? ''))) return false;
    return expected.subject === undefined || expected.subject === recorded.subject;
  }
  if (recorded.kind !== 'keyless' || recorded.issuer !== expected.issuer) return false;
  if (expected.identity !== undefined) return recorded.identity === expected.identity;
  return expected.identityRegexp !== undefined && new RegExp(`^(?:${expected.identityRegexp})$`, 'u').test(recorded.identity);
}

function toFingerprint(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch {
    return undefined;
  }
}


