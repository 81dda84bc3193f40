import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { forEachConcurrent } from '../concurrent.js';
import { AiscError, isAiscError } from '../errors.js';
import { toCanonicalJson } from '../lockfile/canonical-json.js';
import { readBoundedText } from '../io/index.js';
import type { NpmArtifact } from '../lockfile/types.js';
import { fromLocalSource } from '../sources/local.js';
import type { AttestationVerifier } from '../npm/attestation-pool.js';
import { judgeEvidence, readEvidence, toRecordedEvidence, type NpmEvidence } from '../npm/evidence.js';
import { NpmFinding } from '../npm/findings.js';
import { MAX_PACKAGE_LOCK_BYTES, parsePackageLock, type NpmPackage } from '../npm/package-lock.js';
import { getNpmRegistryKeys, type RegistryKey } from '../npm/registry-keys.js';
import { toFinding, type Finding, type NpmFindingCode } from '../findings.js';
import type { PackageLockReport } from './findings.js';

export interface NpmCheck {
  name: string;
  artifact: NpmArtifact;
  findings: Finding[];
}

export interface NpmCheckOptions {
  keys?: readonly RegistryKey[];
  trustedRoot?: () => TrustedRoot;
}

/** Evidence files read and judged at once; more would only queue on the disk. */
const CONCURRENCY = 32;

/** The npm stage's result: each package's check, each package-lock.json's drift, and the text of each as read. */
export interface NpmChecked {
  checks: NpmCheck[];
  packageLocks: PackageLockReport[];
  /** Each package-lock.json's text as checked, by its recorded path: where its findings point. */
  texts: Map<string, string>;
}

/**
 * Offline, for every locked npm package: its package-lock.json still installs exactly what was
 * locked (nothing added, removed, re-versioned, with other integrity, another source or a new
 * install script), and its evidence is still there, unchanged, verifies again and proves what
 * the lockfile records.
 */
export async function checkNpmArtifacts(entries: readonly [string, NpmArtifact][], lockfilePath: string, options: NpmCheckOptions = {}): Promise<NpmChecked> {
  const checks = entries.map(([name, artifact]) => ({ name, artifact, findings: [] as Finding[] }));
  const groups = new Map<string, NpmCheck[]>();
  for (const check of checks) groups.set(check.artifact.source.packageLock, [...(groups.get(check.artifact.source.packageLock) ?? []), check]);
  const packageLocks: PackageLockReport[] = [];
  const texts = new Map<string, string>();
  for (const [packageLock, group] of groups) packageLocks.push(await checkDrift(packageLock, group, lockfilePath, texts));
  const keys = options.keys ?? getNpmRegistryKeys();
  // Sigstore's libraries and trusted root (~90 ms to load) only when an evidence file may hold
  // attestations: for the other packages the lockfile is the evidence.
  if (!checks.some((check) => check.artifact.evidence !== undefined)) {
    await forEachConcurrent(checks, CONCURRENCY, (check) => checkEvidence(check, lockfilePath, keys, noTrustedRoot));
    return { checks, packageLocks, texts };
  }
  const getTrustedRoot = options.trustedRoot ?? (await import('../signing/trust.js')).getPublicGoodTrustedRoot;
  const { AttestationPool } = await import('../npm/attestation-pool.js');
  const attestations = new AttestationPool(keys, getTrustedRoot);
  try {
    await forEachConcurrent(checks, CONCURRENCY, (check) => checkEvidence(check, lockfilePath, keys, getTrustedRoot, attestations.verify));
  } finally {
    await attestations.close();
  }
  return { checks, packageLocks, texts };
}

function noTrustedRoot(): TrustedRoot {
  throw new AiscError('INTERNAL', 'attestations were checked without an evidence file to hold them');
}

async function checkDrift(packageLock: string, group: NpmCheck[], lockfilePath: string, texts: Map<string, string>): Promise<PackageLockReport> {
  const path = fromLocalSource({ type: 'local', path: packageLock }, lockfilePath);
  const report: PackageLockReport = { path: packageLock, packages: group.length, ok: true, findings: [] };
  let installed: NpmPackage[];
  try {
    const text = await readBoundedText(path, { limit: MAX_PACKAGE_LOCK_BYTES, what: 'package-lock.json' });
    texts.set(packageLock, text);
    installed = parsePackageLock(text, packageLock);
  } catch (error) {
    if (!isAiscError(error) || error.code === 'INTERNAL') throw error;
    report.findings.push(toFinding({ code: 'NPM_PACKAGE_LOCK_MISSING', artifact: packageLock, message: `${packageLock}: cannot be read or parsed (${error.message}); ${group.length} packages were locked from it` }));
    report.ok = false;
    return report;
  }
  const byId = new Map(installed.map((pkg) => [`${pkg.name}@${pkg.version}`, pkg]));
  const unclaimed = new Set(byId.keys());
  const add = (check: NpmCheck, code: NpmFindingCode, message: string): void => {
    check.findings.push(toFinding({ code, artifact: check.name, message }));
  };
  for (const check of group) {
    const { artifact } = check;
    const id = `${artifact.package}@${artifact.version}`;
    const pkg = byId.get(id);
    if (!pkg) {
      const now = installed.filter((p) => p.name === artifact.package && unclaimed.has(`${p.name}@${p.version}`)).map((p) => p.version);
      if (now.length > 0) {
        for (const version of now) unclaimed.delete(`${artifact.package}@${version}`);
        add(check, 'NPM_VERSION_CHANGED', `${packageLock} now installs ${artifact.package}@${now.join(', ')}; ${artifact.version} was locked`);
      } else {
        add(check, 'NPM_PACKAGE_REMOVED', `${packageLock} no longer installs ${id}`);
      }
      continue;
    }
    unclaimed.delete(id);
    if (pkg.integrity !== artifact.integrity) add(check, 'NPM_INTEGRITY_CHANGED', `${packageLock} pins ${pkg.integrity ?? 'no integrity'} for ${id}; ${artifact.integrity ?? 'none'} was locked`);
    if (pkg.type !== artifact.source.from || pkg.resolved !== artifact.source.resolved) {
      add(check, 'NPM_SOURCE_CHANGED', `${packageLock} resolves ${id} to ${pkg.resolved ?? `the ${pkg.type}`}; ${artifact.source.resolved ?? `the ${artifact.source.from}`} was locked`);
    }
    if (pkg.hasInstallScript && !artifact.hasInstallScript) add(check, 'NPM_INSTALL_SCRIPT_ADDED', `${packageLock} says ${id} has an install script; it was locked without one`);
  }
  for (const id of unclaimed) {
    report.findings.push(toFinding({ code: 'NPM_PACKAGE_ADDED', artifact: `npm:${id}`, message: `${packageLock} installs ${id}, which is not locked (run aisc lock ${packageLock})` }));
  }
  report.ok = report.findings.length === 0;
  return report;
}

async function checkEvidence(check: NpmCheck, lockfilePath: string, keys: readonly RegistryKey[], getTrustedRoot: () => TrustedRoot, verify?: AttestationVerifier): Promise<void> {
  const { artifact, name } = check;
  const id = `${artifact.package}@${artifact.version}`;
  if (artifact.source.from !== 'registry' && artifact.evidence === undefined) {
    // Nothing vouches for a git, file, link or remote package: a lockfile that says something does
    // (an edit; lock never records it) would have the policy credit it.
    if (artifact.provenance || artifact.registrySignature) {
      check.findings.push(toFinding({ code: 'NPM_EVIDENCE_MISSING', artifact: name, message: `${id}: the lockfile records ${artifact.provenance ? 'provenance' : 'a registry signature status'} for a ${artifact.source.from} package, with no evidence file that proves it` }));
    }
    return;
  }
  try {
    let evidence: NpmEvidence;
    if (artifact.evidence !== undefined) {
      evidence = await readEvidence(lockfilePath, artifact.evidence, { id, package: artifact.package, version: artifact.version, integrity: artifact.integrity });
      if (evidence.registry !== artifact.source.registry || evidence.publishedAt !== artifact.publishedAt) {
        throw new NpmFinding('NPM_EVIDENCE_MISMATCH', `${id}: the evidence is from ${evidence.registry} (published ${evidence.publishedAt ?? '?'}); the lockfile says ${artifact.source.registry ?? 'no registry'} (${artifact.publishedAt ?? '?'})`);
      }
    } else {
      // A package without attestations: the lockfile's own fields are its evidence.
      const recorded = toRecordedEvidence(artifact);
      if (!recorded) throw new NpmFinding('NPM_EVIDENCE_MISSING', `${id}: ${whyNoEvidence(artifact)}; run aisc lock again`);
      evidence = recorded;
    }
    const facts = await judgeEvidence(evidence, keys, getTrustedRoot, verify);
    // Lockfiles from before signatures were recorded name the key only; the evidence holds the signature.
    const signature = artifact.registrySignature?.status === 'verified' && artifact.registrySignature.sig === undefined && facts.registrySignature.status === 'verified' ? { status: 'verified', keyid: facts.registrySignature.keyid } : facts.registrySignature;
    const recorded = { registrySignature: artifact.registrySignature ?? null, provenance: artifact.provenance ?? null };
    const proven = { registrySignature: signature, provenance: facts.provenance ?? null };
    if (toCanonicalJson(recorded) !== toCanonicalJson(proven)) {
      throw new NpmFinding('NPM_EVIDENCE_MISMATCH', `${id}: the evidence proves ${describe(proven)}; the lockfile records ${describe(recorded)}`);
    }
  } catch (error) {
    if (!(error instanceof NpmFinding)) throw error;
    check.findings.push(toFinding({ code: error.code, artifact: name, message: error.message }));
  }
}

/** Why toRecordedEvidence could not stand in for an evidence file, in its order of checks. */
function whyNoEvidence(artifact: NpmArtifact): string {
  if (artifact.integrity === undefined || artifact.source.registry === undefined || artifact.registrySignature === undefined) {
    return 'the lockfile records no registry signature status, integrity or registry for a registry package';
  }
  if (artifact.provenance) return 'the lockfile records provenance but no evidence file that proves it';
  return "the lockfile names the registry signature's key but holds no signature, and no evidence file does";
}

function describe(facts: { registrySignature: { status: string } | null; provenance: { repository: string } | null }): string {
  return `${facts.registrySignature?.status ?? 'no signature status'}, ${facts.provenance ? `provenance from ${facts.provenance.repository}` : 'no provenance'}`;
}
