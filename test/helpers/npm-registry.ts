import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './fixtures.js';
import { json, startRegistry, type LoopbackServer, type Route } from './registry-server.js';

const NPM_FIXTURES = join(FIXTURES, 'npm');
const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';

/** A package version the registry serves: real signatures and attestations from shared/fixtures/npm. */
export interface ServedVersion {
  name: string;
  version: string;
  integrity: string;
  signatures?: { keyid: string; sig: string }[];
  /** The attestations response (as the registry serves it), when the version has any. */
  attestations?: unknown;
  /** time[version] in the packument. */
  publishedAt?: string;
  scripts?: Record<string, string>;
}

/**
 * The three real packages the npm CLI's tests use (kms-demo, sigstore and tuf-js 1.0.0), with
 * their real registry signatures (by the key valid until 2025-01-29) and, for sigstore and
 * tuf-js, their real attestations (SLSA provenance v0.2 + npm publish attestation, logged in
 * Rekor on 2023-02-09). Publish times are set inside the key's validity.
 */
export function realVersions(): ServedVersion[] {
  const data = JSON.parse(readFileSync(join(NPM_FIXTURES, 'registry-signatures.json'), 'utf8')) as {
    packages: { name: string; version: string; integrity: string; signatures: { keyid: string; sig: string }[]; attestations?: string }[];
  };
  return data.packages.map((p) => ({
    name: p.name,
    version: p.version,
    integrity: p.integrity,
    signatures: p.signatures,
    publishedAt: '2023-02-09T17:56:00.000Z',
    ...(p.attestations ? { attestations: JSON.parse(readFileSync(join(NPM_FIXTURES, p.attestations), 'utf8')) as unknown } : {}),
  }));
}

/** What sigstore@1.0.0's real provenance says, as aisc records it. */
export const SIGSTORE_PROVENANCE = {
  predicateType: 'https://slsa.dev/provenance/v0.2',
  repository: 'https://github.com/sigstore/sigstore-js',
  commit: '06528997c3c8ab9f864fad9a3658446aca7fd86d',
  workflow: '.github/workflows/publish.yml',
  ref: 'refs/tags/v1.0.0',
  builder: 'https://github.com/npm/cli@9.4.2',
  identity: 'https://github.com/sigstore/sigstore-js/.github/workflows/publish.yml@refs/tags/v1.0.0',
  issuer: 'https://token.actions.githubusercontent.com',
};

export function attestationsOf(name: string): unknown {
  return realVersions().find((v) => v.name === name)?.attestations;
}

const encode = (name: string): string => (name.startsWith('@') ? name.replace('/', '%2f') : name);

/** Routes for a registry at `url` serving these versions: packuments and attestations. */
export function registryRoutes(url: string, versions: readonly ServedVersion[]): Record<string, Route> {
  const routes: Record<string, Route> = {};
  const byName = new Map<string, ServedVersion[]>();
  for (const v of versions) byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
  for (const [name, list] of byName) {
    const packument = {
      name,
      versions: Object.fromEntries(
        list.map((v) => [
          v.version,
          {
            name,
            version: v.version,
            ...(v.scripts ? { scripts: v.scripts } : {}),
            dist: {
              integrity: v.integrity,
              tarball: tarballUrl(url, name, v.version),
              ...(v.signatures ? { signatures: v.signatures } : {}),
              ...(v.attestations ? { attestations: { url: `${url}-/npm/v1/attestations/${name}@${v.version}`, provenance: { predicateType: SLSA_V02 } } } : {}),
            },
          },
        ]),
      ),
      time: Object.fromEntries(list.filter((v) => v.publishedAt).map((v) => [v.version, v.publishedAt])),
    };
    routes[`/${encode(name)}`] = json(packument);
    for (const v of list) if (v.attestations) routes[`/-/npm/v1/attestations/${name}@${v.version}`] = json(v.attestations);
  }
  return routes;
}

/** A loopback registry: `build` gets its URL and returns the routes (packuments name their own tarball URLs). */
export async function startNpmRegistry(build: (url: string) => Record<string, Route>): Promise<LoopbackServer> {
  const routes: Record<string, Route> = {};
  const server = await startRegistry(routes);
  Object.assign(routes, build(server.url));
  return server;
}

export function tarballUrl(registry: string, name: string, version: string): string {
  return `${registry}${name}/-/${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;
}

export interface LockedPackage {
  name: string;
  version: string;
  integrity?: string;
  resolved?: string;
  hasInstallScript?: boolean;
  dev?: boolean;
}

/** Writes a lockfileVersion 3 package-lock.json installing these packages at the top level. */
export function writePackageLock(dir: string, packages: readonly LockedPackage[]): string {
  const path = join(dir, 'package-lock.json');
  const entries: Record<string, unknown> = { '': { name: 'app', version: '1.0.0' } };
  for (const p of packages) {
    entries[`node_modules/${p.name}`] = {
      version: p.version,
      ...(p.resolved ? { resolved: p.resolved } : {}),
      ...(p.integrity ? { integrity: p.integrity } : {}),
      ...(p.dev ? { dev: true } : {}),
      ...(p.hasInstallScript ? { hasInstallScript: true } : {}),
    };
  }
  writeFileSync(path, `${JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: entries }, null, 2)}\n`);
  return path;
}

/** The package-lock entries for served versions, resolved on `registry`. */
export function lockedFrom(registry: string, versions: readonly ServedVersion[]): LockedPackage[] {
  return versions.map((v) => ({ name: v.name, version: v.version, integrity: v.integrity, resolved: tarballUrl(registry, v.name, v.version) }));
}
