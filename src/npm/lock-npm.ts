import { dirname } from 'node:path';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { AiscError, isAiscError } from '../errors.js';
import { toFinding, type Finding } from '../findings.js';
import { compareCodePoints } from '../lockfile/canonical-json.js';
import { readBoundedText } from '../io/index.js';
import { readLockfileSnapshot } from '../lockfile/read.js';
import type { Lockfile, NpmArtifact } from '../lockfile/types.js';
import { updateLockfile } from '../lockfile/write.js';
import { toLocalSource } from '../sources/local.js';
import { getRegistryFor, readRegistryConfig, type RegistryConfig } from './config.js';
import { AttestationPool, type AttestationVerifier } from './attestation-pool.js';
import { EvidenceWriter, judgeEvidence, type NpmEvidence } from './evidence.js';
import { NpmFinding } from './findings.js';
import { MAX_PACKAGE_LOCK_BYTES, parsePackageLock, type NpmPackage } from './package-lock.js';
import { getNpmRegistryKeys, type RegistryKey } from './registry-keys.js';
import { RegistryClient, type RegistryClientOptions } from './registry.js';
import type { RegistrySignature } from './signatures.js';

export interface NpmLockOptions {
  lockfile: string;
  /** --registry: overrides npm_config_registry and .npmrc. */
  registry?: string;
  env?: NodeJS.ProcessEnv;
  /** The user's .npmrc (default ~/.npmrc); the project's is the one beside package-lock.json. */
  userConfig?: string;
  client?: RegistryClientOptions;
  /** The policy the packages must meet: its findings for a lockfile, and where it is (for messages). */
  rules?: NpmLockRules;
  force?: boolean;
  onWait?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
  keys?: readonly RegistryKey[];
  trustedRoot?: () => TrustedRoot;
}

/** What lock needs of the policy (given by the caller: npm sits below the policy). */
export interface NpmLockRules {
  /** The policy file, or "no policy file" when aisc's defaults apply. */
  where: string;
  evaluate: (lockfile: Lockfile) => Finding[];
}

/**
 * Locked: what was recorded (`packageLock` as recorded, relative to the lockfile's folder). Or not:
 * every package that failed a check or the policy, each a finding on `npm:name@version`, and
 * nothing was written (`path` as given).
 */
export type NpmLockResult = { ok: true; packageLock: string; lockfile: Lockfile; locked: { name: string; artifact: NpmArtifact }[] } | { ok: false; path: string; findings: Finding[] };

/**
 * `aisc lock package-lock.json`: every installed package checked against its registry — the
 * version exists with the same integrity, `resolved` points at that registry, the registry's
 * signature and attestations verify — then recorded with its evidence. Nothing is written unless
 * every package passes (the findings are the result then, exit 1); the packages locked earlier
 * from this package-lock.json are replaced.
 */
export async function lockPackageLock(path: string, options: NpmLockOptions): Promise<NpmLockResult> {
  const before = await readLockfileSnapshot(options.lockfile);
  const text = await readBoundedText(path, { limit: MAX_PACKAGE_LOCK_BYTES, what: 'package-lock.json' }).catch((error: unknown) => {
    if (isAiscError(error) && error.code === 'FILE_NOT_FOUND') throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file`, { cause: error });
    throw new AiscError('NPM_LOCK_INVALID', `${path}: ${(error as Error).message}`, { cause: error });
  });
  const packages = parsePackageLock(text, path);
  const config = await readRegistryConfig({ cwd: dirname(path), env: options.env, registry: options.registry, userConfig: options.userConfig });
  const packageLock = toLocalSource(path, options.lockfile).path;
  // The gate comes first: sources the policy does not allow are refused before any request.
  if (options.rules && !options.force) {
    const refused = getRefusedSources(packages.map((pkg) => toNpmArtifact(pkg, config, packageLock)), options.rules);
    if (refused.length > 0) return { ok: false, path, findings: refused };
  }
  const client = new RegistryClient(config, options.client);
  const keys = options.keys ?? getNpmRegistryKeys();
  // Sigstore's trusted root (and the libraries under it, ~90 ms) loads while the first packuments
  // are on their way: only packages with attestations need it, and they wait for it.
  let trustedRoot = options.trustedRoot;
  const trustLoaded = trustedRoot ? Promise.resolve() : import('../signing/trust.js').then((trust) => void (trustedRoot = trust.getPublicGoodTrustedRoot));
  trustLoaded.catch(() => undefined);
  const getTrustedRoot = (): TrustedRoot => {
    if (!trustedRoot) throw new AiscError('INTERNAL', 'the Sigstore trusted root was needed before it loaded');
    return trustedRoot();
  };
  const findings: Finding[] = [];
  const locked: { name: string; artifact: NpmArtifact }[] = [];
  const attestations = new AttestationPool(keys, getTrustedRoot);
  // Each package's evidence is written as soon as it is judged, and put in place only if the lock succeeds.
  const evidence = new EvidenceWriter(options.lockfile);
  let committed = false;
  try {
    try {
      const packuments = new Map<string, Promise<Packument | NpmFinding>>();
      // A packument (all versions of a package, tens of KB to MB) is let go once its last version is checked.
      const versionsLeft = new Map<string, number>();
      for (const pkg of packages) versionsLeft.set(pkg.name, (versionsLeft.get(pkg.name) ?? 0) + 1);
      let done = 0;
      await Promise.all(
        packages.map(async (pkg) => {
          try {
            const checked = await checkPackage(pkg, { config, client, packuments, keys, getTrustedRoot, trustLoaded, verify: attestations.verify, packageLock });
            if (checked.evidence) checked.artifact.evidence = evidence.add(checked.evidence);
            locked.push({ name: checked.name, artifact: checked.artifact });
          } catch (error) {
            if (!(error instanceof NpmFinding)) {
              // The lock has failed (exit 2): the packages still waiting are not fetched.
              client.abort(new AiscError('HTTP_FAILED', 'not fetched: an earlier package failed the lock'));
              throw error;
            }
            findings.push(toFinding({ code: error.code, artifact: `npm:${pkg.name}@${pkg.version}`, message: error.message }));
          } finally {
            const left = (versionsLeft.get(pkg.name) ?? 1) - 1;
            versionsLeft.set(pkg.name, left);
            if (left === 0) packuments.delete(pkg.name);
            options.onProgress?.(++done, packages.length);
          }
        }),
      );
    } finally {
      await Promise.all([client.close(), attestations.close()]);
    }
    if (findings.length > 0) return { ok: false, path, findings: findings.sort((a, b) => compareCodePoints(a.artifact ?? '', b.artifact ?? '')) };
    locked.sort((a, b) => compareCodePoints(a.name, b.name));
    // npm terms judge each package on its own facts: checked before anything is written.
    if (options.rules && !options.force) {
      const violations = options.rules.evaluate({ lockfileVersion: 1, artifacts: new Map(locked.map((l) => [l.name, l.artifact])) });
      if (violations.length > 0) {
        const { where } = options.rules;
        return { ok: false, path, findings: violations.map((v) => toFinding({ ...v, message: `${v.message} (${where}; --force records it anyway, verify will still fail)` })) };
      }
    }
    // In place before the lockfile that names them: an interrupted lock leaves unreferenced evidence, never a dangling reference.
    await evidence.commit();
    committed = true;
  } finally {
    if (!committed) await evidence.discard();
  }
  const lockfile = await updateLockfile(
    options.lockfile,
    (current) => {
      const artifacts = new Map(current.artifacts);
      for (const [name, artifact] of current.artifacts) {
        if (artifact.kind === 'npm' && artifact.source.packageLock === packageLock) artifacts.delete(name);
      }
      for (const { name, artifact } of locked) {
        const other = artifacts.get(name);
        if (other) {
          const from = other.kind === 'npm' ? other.source.packageLock : `a ${other.kind}`;
          throw new AiscError('USAGE', `${name} is already locked from ${from}; lock each package-lock.json into its own lockfile (--lockfile)`);
        }
        artifacts.set(name, artifact);
      }
      return { ...current, artifacts };
    },
    { onWait: options.onWait, reuse: before },
  );
  return { ok: true, packageLock, lockfile, locked };
}

interface CheckContext {
  config: RegistryConfig;
  client: RegistryClient;
  packuments: Map<string, Promise<Packument | NpmFinding>>;
  keys: readonly RegistryKey[];
  getTrustedRoot: () => TrustedRoot;
  /** Settles once getTrustedRoot can answer. */
  trustLoaded: Promise<void>;
  /** Attestations verified on the pool's threads. */
  verify?: AttestationVerifier;
  packageLock: string;
}

interface VersionManifest {
  dist?: { integrity?: unknown; tarball?: unknown; signatures?: unknown; attestations?: { url?: unknown; provenance?: unknown } };
  scripts?: Record<string, unknown>;
  hasInstallScript?: unknown;
}

interface Packument {
  versions: Record<string, VersionManifest | undefined>;
  time: Record<string, unknown>;
}

/** The packages whose source the policy refuses, as findings: none is fetched then. */
function getRefusedSources(artifacts: NpmArtifact[], rules: NpmLockRules): Finding[] {
  const lockfile: Lockfile = { lockfileVersion: 1, artifacts: new Map(artifacts.map((artifact) => [`npm:${artifact.package}@${artifact.version}`, artifact])) };
  const refused = rules.evaluate(lockfile).filter((finding) => finding.code === 'NPM_SOURCE');
  return refused.map((finding) => toFinding({ ...finding, message: `${finding.message} (${rules.where}; nothing was fetched)` }));
}

/** What package-lock.json says of a package, before the registry is asked anything. */
function toNpmArtifact(pkg: NpmPackage, config: RegistryConfig, packageLock: string): NpmArtifact {
  return {
    kind: 'npm',
    package: pkg.name,
    version: pkg.version,
    source: {
      type: 'npm',
      packageLock,
      from: pkg.type,
      // Credentials in a registry URL (https://user:token@host/) are used to fetch, never recorded.
      ...(pkg.type === 'registry' ? { registry: withoutCredentials(getRegistryFor(config, pkg.name)) } : {}),
      ...(pkg.resolved ? { resolved: pkg.resolved } : {}),
    },
    ...(pkg.integrity ? { integrity: pkg.integrity } : {}),
    ...(pkg.dev ? { dev: true as const } : {}),
    ...(pkg.optional ? { optional: true as const } : {}),
    ...(pkg.hasInstallScript ? { hasInstallScript: true as const } : {}),
  };
}

async function checkPackage(pkg: NpmPackage, context: CheckContext): Promise<{ name: string; artifact: NpmArtifact; evidence?: NpmEvidence }> {
  const id = `${pkg.name}@${pkg.version}`;
  const name = `npm:${id}`;
  const artifact = toNpmArtifact(pkg, context.config, context.packageLock);
  if (pkg.type === 'link' || pkg.type === 'file') return { name, artifact };
  if (pkg.type === 'git') {
    // npm pins a git dependency by the commit in `resolved`; there is no tarball integrity.
    if (!/#[0-9a-f]{40}$/.test(pkg.resolved ?? '')) throw new NpmFinding('NPM_INTEGRITY_MISSING', `${id}: a git dependency not pinned to a commit (${pkg.resolved ?? 'no resolved'})`);
    return { name, artifact };
  }
  if (!pkg.integrity) throw new NpmFinding('NPM_INTEGRITY_MISSING', `${id}: package-lock.json records no integrity, so nothing pins its bytes`);
  if (pkg.type === 'remote') return { name, artifact };

  const registry = artifact.source.registry ?? withoutCredentials(getRegistryFor(context.config, pkg.name));
  const expected = getRegistryTarball(registry, pkg.name, pkg.version);
  // A tarball on another host is caught before anything is fetched; the registry's own dist.tarball is accepted below.
  if (pkg.resolved !== undefined && pkg.resolved !== expected && !pkg.resolved.startsWith(new URL(registry).origin + '/')) {
    throw new NpmFinding('NPM_RESOLVED_ELSEWHERE', `${id}: resolved ${pkg.resolved} is not on the configured registry ${registry} (expected ${expected})`);
  }
  let packument = context.packuments.get(pkg.name);
  if (!packument) {
    packument = fetchPackument(context.client, pkg.name);
    context.packuments.set(pkg.name, packument);
  }
  const fetched = await packument;
  if (fetched instanceof NpmFinding) throw new NpmFinding(fetched.code, `${id}: ${fetched.message}`);
  const manifest = Object.hasOwn(fetched.versions, pkg.version) ? fetched.versions[pkg.version] : undefined;
  if (!manifest) throw new NpmFinding('NPM_NOT_IN_REGISTRY', `${id}: ${registry} has no version ${pkg.version} of ${pkg.name}`);
  const dist = manifest.dist ?? {};
  if (dist.integrity !== pkg.integrity && !sameStrongestHash(String(dist.integrity), pkg.integrity)) {
    throw new NpmFinding('NPM_INTEGRITY_MISMATCH', `${id}: package-lock.json pins ${pkg.integrity} but ${registry} publishes ${typeof dist.integrity === 'string' ? dist.integrity : 'no integrity'}`);
  }
  if (pkg.resolved !== undefined && pkg.resolved !== expected && pkg.resolved !== dist.tarball) {
    throw new NpmFinding('NPM_RESOLVED_ELSEWHERE', `${id}: resolved ${pkg.resolved} is not the configured registry's tarball (${expected})`);
  }
  const scripts = manifest.scripts ?? {};
  if (manifest.hasInstallScript === true || ['preinstall', 'install', 'postinstall'].some((s) => Object.hasOwn(scripts, s) && typeof scripts[s] === 'string')) artifact.hasInstallScript = true;
  const time = Object.hasOwn(fetched.time, pkg.version) ? fetched.time[pkg.version] : undefined;
  const evidence: NpmEvidence = {
    evidenceVersion: 1,
    package: pkg.name,
    version: pkg.version,
    integrity: pkg.integrity,
    registry,
    ...(typeof time === 'string' ? { publishedAt: time } : {}),
    ...(Array.isArray(dist.signatures) ? { signatures: dist.signatures as RegistrySignature[] } : {}),
  };
  if (evidence.publishedAt) artifact.publishedAt = evidence.publishedAt;
  const attestationsUrl = dist.attestations?.url;
  if (attestationsUrl !== undefined) {
    if (typeof attestationsUrl !== 'string' || !attestationsUrl.startsWith(new URL(registry).origin + '/')) {
      throw new NpmFinding('NPM_ATTESTATION_INVALID', `${id}: the attestations URL ${JSON.stringify(attestationsUrl)} is not on ${registry}`);
    }
    evidence.attestations = await context.client.getJson(attestationsUrl, `${id} attestations`).catch((error: unknown) => {
      if (isAiscError(error) && error.code === 'REGISTRY_NOT_FOUND') throw new NpmFinding('NPM_ATTESTATION_INVALID', `${id}: the registry lists attestations but serves none (${error.message})`);
      throw error;
    });
  }
  if (evidence.attestations !== undefined) await context.trustLoaded;
  const facts = await judgeEvidence(evidence, context.keys, context.getTrustedRoot, context.verify);
  artifact.registrySignature = facts.registrySignature;
  if (facts.provenance) artifact.provenance = facts.provenance;
  else if (dist.attestations?.provenance !== undefined) throw new NpmFinding('NPM_ATTESTATION_INVALID', `${id}: the registry says it has provenance, but its attestations carry none`);
  // Without attestations the lockfile holds all of the evidence (integrity, registry, publish time,
  // signature): no file of its own.
  return { name, artifact, ...(evidence.attestations !== undefined ? { evidence } : {}) };
}

async function fetchPackument(client: RegistryClient, name: string): Promise<Packument | NpmFinding> {
  let json: unknown;
  try {
    json = await client.getPackument(name);
  } catch (error) {
    if (isAiscError(error) && error.code === 'REGISTRY_NOT_FOUND') return new NpmFinding('NPM_NOT_IN_REGISTRY', error.message);
    throw error;
  }
  const packument = json as { versions?: unknown; time?: unknown } | null;
  if (typeof packument?.versions !== 'object' || packument.versions === null) {
    throw new AiscError('REGISTRY_RESPONSE_INVALID', `${name}: the registry's answer has no "versions" object`);
  }
  return { versions: packument.versions as Packument['versions'], time: typeof packument.time === 'object' && packument.time !== null ? (packument.time as Record<string, unknown>) : {} };
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/** Where npm fetches a registry package: REGISTRY/name/-/basename-version.tgz. */
export function getRegistryTarball(registry: string, name: string, version: string): string {
  return `${registry}${name}/-/${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;
}

const STRENGTH = ['sha512', 'sha384', 'sha256', 'sha1'];

/** SRI strings agree when the strongest algorithm both name has the same digest. */
function sameStrongestHash(a: string, b: string): boolean {
  const parse = (sri: string): Map<string, string> => new Map(sri.split(/\s+/).filter(Boolean).map((part) => [part.slice(0, part.indexOf('-')), part.slice(part.indexOf('-') + 1).replace(/\?.*$/, '')]));
  const left = parse(a);
  const right = parse(b);
  const algorithm = STRENGTH.find((alg) => left.has(alg) && right.has(alg));
  return algorithm !== undefined && algorithm !== 'sha1' && left.get(algorithm) === right.get(algorithm);
}
