import semver from 'semver';
import { toCanonicalJson } from '../lockfile/canonical-json.js';
import type { NpmArtifact } from '../lockfile/types.js';
import { classifyBump } from '../npm/semver-class.js';
import type { Change } from './types.js';

const same = (a: unknown, b: unknown): boolean => toCanonicalJson(a ?? null) === toCanonicalJson(b ?? null);

/**
 * npm packages between two lockfiles, by package name: versions only in the base and only in the
 * new lockfile are paired in semver order and classed by semver (major, minor, patch, prerelease,
 * downgrade); the rest are added or removed. For a version in both, and across a bump: other
 * integrity, another source, a new install script, and who vouches for it (registry signature,
 * provenance repository) are changes of their own. A change's `artifact` is the package name.
 */
export function diffNpmArtifacts(base: readonly NpmArtifact[], next: readonly NpmArtifact[]): Change[] {
  const changes: Change[] = [];
  const names = new Set([...base, ...next].map((a) => a.package));
  for (const name of names) {
    const before = new Map(base.filter((a) => a.package === name).map((a) => [a.version, a]));
    const after = new Map(next.filter((a) => a.package === name).map((a) => [a.version, a]));
    const removed = [...before.keys()].filter((v) => !after.has(v)).sort(compareVersions);
    const added = [...after.keys()].filter((v) => !before.has(v)).sort(compareVersions);
    for (const [version, artifact] of after) {
      const old = before.get(version);
      if (old) changes.push(...diffVersion(old, artifact, false));
    }
    const pairs = Math.min(removed.length, added.length);
    for (let i = 0; i < pairs; i++) {
      const old = before.get(removed[i] ?? '') as NpmArtifact;
      const now = after.get(added[i] ?? '') as NpmArtifact;
      const cls = classifyBump(old.version, now.version) ?? 'npm-major';
      changes.push({ class: cls, artifact: name, kind: 'npm', summary: `${name} ${old.version} → ${now.version}${describeFlags(now)}`, from: old.version, to: now.version });
      changes.push(...diffVersion(old, now, true));
    }
    for (const version of added.slice(pairs)) {
      const artifact = after.get(version) as NpmArtifact;
      changes.push({ class: 'npm-added', artifact: name, kind: 'npm', summary: `added ${name}@${version}${describeFlags(artifact)}`, to: version });
      if (artifact.hasInstallScript) changes.push({ class: 'npm-install-script-added', artifact: name, kind: 'npm', summary: `${name}@${version} runs an install script`, to: version });
    }
    for (const version of removed.slice(pairs)) {
      changes.push({ class: 'npm-removed', artifact: name, kind: 'npm', summary: `removed ${name}@${version}`, from: version });
    }
  }
  return changes;
}

function diffVersion(before: NpmArtifact, after: NpmArtifact, bumped: boolean): Change[] {
  const changes: Change[] = [];
  const base = { artifact: after.package, kind: 'npm' };
  const at = bumped ? `${after.package} ${before.version} → ${after.version}` : `${after.package}@${after.version}`;
  if (!bumped && before.integrity !== after.integrity) {
    changes.push({ ...base, class: 'npm-integrity-changed', summary: `${at}: other bytes under the same version (integrity ${before.integrity ?? 'none'} → ${after.integrity ?? 'none'})`, from: before.integrity ?? null, to: after.integrity ?? null });
  }
  const source = (a: NpmArtifact): unknown => ({ from: a.source.from, registry: a.source.registry, resolved: bumped ? undefined : a.source.resolved });
  if (!same(source(before), source(after))) {
    changes.push({ ...base, class: 'npm-source-changed', summary: `${at}: source ${describeSource(before)} → ${describeSource(after)}`, from: before.source, to: after.source });
  }
  if (after.hasInstallScript && !before.hasInstallScript) {
    changes.push({ ...base, class: 'npm-install-script-added', summary: `${at}: now runs an install script`, from: before.version, to: after.version });
  }
  const vouch = (a: NpmArtifact): unknown => ({ signed: a.registrySignature?.status === 'verified', repository: a.provenance?.repository ?? null });
  if (!same(vouch(before), vouch(after))) {
    changes.push({ ...base, class: 'signer-changed', summary: `${at}: ${describeVouch(before)} → ${describeVouch(after)}`, from: vouch(before), to: vouch(after) });
  }
  return changes;
}

function compareVersions(a: string, b: string): number {
  const va = semver.valid(a);
  const vb = semver.valid(b);
  if (va && vb) return semver.compare(va, vb);
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeFlags(artifact: NpmArtifact): string {
  const flags = [artifact.dev && 'dev', artifact.optional && 'optional', artifact.source.from !== 'registry' && artifact.source.from].filter(Boolean);
  return flags.length > 0 ? ` (${flags.join(', ')})` : '';
}

function describeSource(artifact: NpmArtifact): string {
  return artifact.source.resolved ?? artifact.source.registry ?? artifact.source.from;
}

function describeVouch(artifact: NpmArtifact): string {
  const signed = artifact.registrySignature?.status === 'verified' ? 'registry-signed' : 'unsigned';
  return artifact.provenance ? `${signed}, built from ${artifact.provenance.repository}` : `${signed}, no provenance`;
}
