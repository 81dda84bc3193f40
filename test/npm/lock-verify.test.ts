import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings.js';
import type { Artifact, NpmArtifact } from '../../src/lockfile/types.js';
import { toEvidenceText } from '../../src/npm/evidence.js';
import { lockPackageLock } from '../../src/npm/lock-npm.js';
import { runAisc, runAiscAsync, type CliResult } from '../helpers/cli.js';
import { attestationsOf, lockedFrom, realVersions, registryRoutes, SIGSTORE_PROVENANCE, startNpmRegistry, tarballUrl, writePackageLock, type ServedVersion } from '../helpers/npm-registry.js';
import { json, type LoopbackServer, type Route } from '../helpers/registry-server.js';
import { makeTempDir } from '../helpers/temp.js';

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(versions: readonly ServedVersion[], extra: (url: string) => Record<string, Route> = () => ({})): Promise<LoopbackServer> {
  const server = await startNpmRegistry((url) => ({ ...registryRoutes(url, versions), ...extra(url) }));
  servers.push(server);
  return server;
}

const readLock = (dir: string): { artifacts: Record<string, Artifact> } => JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, Artifact> };
const npmArtifact = (dir: string, name: string): NpmArtifact => readLock(dir).artifacts[name] as NpmArtifact;
/** Writes an edited lockfile over the locked one and runs aisc verify on it. */
function verifyEdited(dir: string, lockfile: { artifacts: Record<string, Artifact> }): CliResult {
  writeFileSync(join(dir, 'aisc.lock.json'), JSON.stringify(lockfile));
  return runAisc(['verify'], dir);
}

/** Locks through the library (same code as the CLI) and returns the findings, or [] when it locked. */
async function lockFindings(dir: string, registry: string, client = {}): Promise<Finding[]> {
  const result = await lockPackageLock(join(dir, 'package-lock.json'), { lockfile: join(dir, 'aisc.lock.json'), registry, userConfig: join(dir, 'no-npmrc'), env: {}, client: { backoffMs: 5, ...client } });
  return result.ok ? [] : result.findings;
}

describe('aisc lock package-lock.json against a loopback registry serving real signatures and attestations', () => {
  it('locks the three real packages: registry signatures, provenance and evidence, then verifies offline', async () => {
    const versions = realVersions();
    const server = await serve(versions);
    const dir = makeTempDir();
    writePackageLock(dir, lockedFrom(server.url, versions));
    const locked = await runAiscAsync(['lock', 'package-lock.json', '--registry', server.url], dir);
    expect(locked.stderr).toBe('');
    expect(locked.stdout).toContain('locked 3 npm packages from package-lock.json: 3 registry-signed, 2 with provenance');
    expect(locked.status).toBe(0);

    const sigstore = npmArtifact(dir, 'npm:sigstore@1.0.0');
    const served = versions.find((v) => v.name === 'sigstore')?.signatures?.[0];
    expect(sigstore.registrySignature).toEqual({ status: 'verified', keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA', sig: served?.sig });
    expect(sigstore.provenance).toEqual(SIGSTORE_PROVENANCE);
    expect(npmArtifact(dir, 'npm:tuf-js@1.0.0').provenance?.repository).toBe('https://github.com/theupdateframework/tuf-js');
    // kms-demo has no attestations: the lockfile holds its signature, and it needs no evidence file.
    const kms = npmArtifact(dir, 'npm:kms-demo@1.0.0');
    expect(kms.provenance).toBeUndefined();
    expect(kms.evidence).toBeUndefined();
    expect(kms.registrySignature).toEqual({ status: 'verified', keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA', sig: versions.find((v) => v.name === 'kms-demo')?.signatures?.[0]?.sig });
    expect(readdirSync(join(dir, '.aisc', 'evidence')).sort()).toEqual([`${sigstore.evidence ?? ''}.json`, `${npmArtifact(dir, 'npm:tuf-js@1.0.0').evidence ?? ''}.json`].sort());

    await server.close(); // verify is offline: the registry is gone
    const verified = runAisc(['verify'], dir);
    expect(verified.stdout).toContain('ok   package-lock.json: 3 npm packages locked, all match and their evidence verifies');
    expect(verified.status).toBe(0);
  });

  it('reports packages the registry serves unsigned, with the reason, and leaves them to the policy', async () => {
    const versions = realVersions().map(({ signatures: _s, attestations: _a, ...v }) => v);
    const server = await serve(versions);
    const dir = makeTempDir();
    writePackageLock(dir, lockedFrom(server.url, versions));
    const locked = await runAiscAsync(['lock', 'package-lock.json', '--registry', server.url], dir);
    expect(locked.stdout).toContain(`unsigned: 3 packages (kms-demo@1.0.0, sigstore@1.0.0, tuf-js@1.0.0): ${server.url} returned no dist.signatures for this version`);
    expect(locked.status).toBe(0);
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { kind: npm }\n    require: { registrySignature: true }\n');
    const verified = runAisc(['verify'], dir);
    expect(verified.stdout).toMatch(/FAIL npm:kms-demo@1\.0\.0 \(npm, from package-lock\.json\)\n\s+NPM_UNSIGNED: rule 1: requires the registry's signature; .* returned no dist\.signatures/);
    expect(verified.status).toBe(1);
  });

  it('catches a lockfile pinning other bytes, an unknown key, an expired key, a foreign attestation, another host, no integrity and a 404', async () => {
    const [kms, sigstore, tuf] = realVersions() as [ServedVersion, ServedVersion, ServedVersion];
    const served: ServedVersion[] = [
      kms,
      { ...sigstore, attestations: attestationsOf('tuf-js') }, // attestations for another package and digest
      { ...tuf, signatures: tuf.signatures?.map((s) => ({ ...s, keyid: 'SHA256:not-a-registry-key' })) },
      { ...kms, name: 'expired', signatures: kms.signatures }, // signed message names kms-demo: also wrong
    ];
    const server = await serve(served, (url) => ({
      '/late': json({ name: 'late', versions: { '1.0.0': { dist: { integrity: kms.integrity, tarball: tarballUrl(url, 'late', '1.0.0'), signatures: kms.signatures } } }, time: { '1.0.0': '2025-06-01T00:00:00.000Z' } }),
    }));
    const dir = makeTempDir();
    const other = 'sha512-' + Buffer.alloc(64, 7).toString('base64');
    writePackageLock(dir, [
      { name: 'kms-demo', version: '1.0.0', integrity: other, resolved: tarballUrl(server.url, 'kms-demo', '1.0.0') },
      { name: 'sigstore', version: '1.0.0', integrity: sigstore.integrity },
      { name: 'tuf-js', version: '1.0.0', integrity: tuf.integrity },
      { name: 'late', version: '1.0.0', integrity: kms.integrity },
      { name: 'elsewhere', version: '1.0.0', integrity: kms.integrity, resolved: 'https://evil.example/kms-demo/-/kms-demo-1.0.0.tgz' },
      { name: 'no-integrity', version: '1.0.0', resolved: tarballUrl(server.url, 'no-integrity', '1.0.0') },
      { name: 'missing', version: '1.0.0', integrity: kms.integrity },
    ]);
    writeFileSync(join(dir, 'aisc.lock.json'), '{"lockfileVersion":1,"artifacts":{}}\n');
    const before = readFileSync(join(dir, 'aisc.lock.json'), 'utf8');
    const result = await runAiscAsync(['lock', 'package-lock.json', '--registry', server.url], dir);
    expect(result.status).toBe(1);
    const lines = result.stdout.trim().split('\n');
    const find = (id: string): string => lines.find((line) => line.startsWith(`FAIL npm:${id}: `)) ?? `no finding for ${id}`;
    expect(find('kms-demo@1.0.0')).toContain(`NPM_INTEGRITY_MISMATCH: kms-demo@1.0.0: package-lock.json pins ${other} but ${server.url} publishes ${kms.integrity}`);
    expect(find('sigstore@1.0.0')).toMatch(/NPM_ATTESTATION_INVALID: sigstore@1\.0\.0: attestation 1 \(https:\/\/slsa\.dev\/provenance\/v0\.2\) is for pkg:npm\/tuf-js@1\.0\.0/);
    expect(find('tuf-js@1.0.0')).toContain('NPM_SIGNATURE_UNKNOWN_KEY: tuf-js@1.0.0: signed by SHA256:not-a-registry-key');
    expect(find('late@1.0.0')).toMatch(/NPM_SIGNATURE_KEY_EXPIRED: late@1\.0\.0: key SHA256:jl3bw\S+ is valid 1999-01-01T00:00:00\.000Z to 2025-01-29T00:00:00\.000Z; the version was published 2025-06-01/);
    expect(find('elsewhere@1.0.0')).toContain('NPM_RESOLVED_ELSEWHERE: elsewhere@1.0.0: resolved https://evil.example/kms-demo/-/kms-demo-1.0.0.tgz');
    expect(find('no-integrity@1.0.0')).toContain('NPM_INTEGRITY_MISSING');
    expect(find('missing@1.0.0')).toContain('NPM_NOT_IN_REGISTRY');
    expect(lines.at(-1)).toBe('FAILED: 7 findings in package-lock.json; nothing was written');
    expect(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, '.aisc'))).toBe(false);
  });

  it('signatures over another name do not verify', async () => {
    const [kms] = realVersions() as [ServedVersion];
    const server = await serve([{ ...kms, name: 'kms-demo-fork' }]);
    const dir = makeTempDir();
    writePackageLock(dir, [{ name: 'kms-demo-fork', version: '1.0.0', integrity: kms.integrity }]);
    const findings = await lockFindings(dir, server.url);
    expect(findings).toEqual([expect.objectContaining({ code: 'NPM_SIGNATURE_INVALID', artifact: 'npm:kms-demo-fork@1.0.0' })]);
  });

  it('retries a 500 until it passes; gives up clearly on a timeout, garbage JSON and an oversized body', async () => {
    const [kms] = realVersions() as [ServedVersion];
    let calls = 0;
    const server = await serve([kms], (url) => {
      const good = registryRoutes(url, [kms])['/kms-demo'] as Route;
      return {
        '/kms-demo': (req, res) => (++calls === 1 ? res.writeHead(500).end() : good(req, res)),
        '/slow': () => undefined,
        '/garbage': (_req, res) => res.writeHead(200).end('{"versions": '),
        '/huge': (_req, res) => res.writeHead(200).end(JSON.stringify({ versions: {}, padding: 'x'.repeat(200_000) })),
      };
    });
    const dir = makeTempDir();
    writePackageLock(dir, [{ name: 'kms-demo', version: '1.0.0', integrity: kms.integrity }]);
    expect(await lockFindings(dir, server.url)).toEqual([]);
    expect(calls).toBe(2);

    for (const [name, code, text, client] of [
      ['slow', 'REGISTRY_UNREACHABLE', 'did not answer in time', { timeoutMs: 200, retries: 0 }],
      ['garbage', 'REGISTRY_RESPONSE_INVALID', 'not JSON', {}],
      ['huge', 'REGISTRY_RESPONSE_INVALID', 'larger than 100000 bytes', { maxBytes: 100_000 }],
    ] as const) {
      writePackageLock(dir, [{ name, version: '1.0.0', integrity: kms.integrity }]);
      await expect(lockFindings(dir, server.url, client)).rejects.toMatchObject({ code, message: expect.stringContaining(text) as unknown });
    }
  });

  it('stops at the first package the registry cannot serve: the process does not go on retrying the rest', async () => {
    // A registry that is down: nothing listens on its port.
    const gone = await serve([]);
    const url = gone.url;
    await gone.close();
    const packages = Array.from({ length: 400 }, (_, i) => ({ name: `pkg-${i}`, version: '1.0.0', integrity: 'sha512-' + Buffer.alloc(64, i % 256).toString('base64') }));
    const dir = makeTempDir();
    writePackageLock(dir, packages);
    writeFileSync(join(dir, '.npmrc'), 'fetch-retries=2\n');
    const started = performance.now();
    const result = await runAiscAsync(['lock', 'package-lock.json', '--registry', url], dir);
    expect(result.stderr).toMatch(/^aisc: REGISTRY_UNREACHABLE pkg-\d+: cannot connect \(ECONNREFUSED\)/);
    expect(result.status).toBe(2);
    // One package's three tries (waits of ~0.3 s and ~0.6 s), then exit. Before, the process lived
    // on while the 399 others took their turns on 16 connections, each with the same waits: ~25 s.
    expect(performance.now() - started).toBeLessThan(8000);
    expect(existsSync(join(dir, '.aisc'))).toBe(false);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });

  it('exits 2 with one coded line when the registry times out (fetch-timeout from the project .npmrc)', async () => {
    const server = await serve([], () => ({ '/slow': () => undefined }));
    const dir = makeTempDir();
    writePackageLock(dir, [{ name: 'slow', version: '1.0.0', integrity: 'sha512-' + Buffer.alloc(64).toString('base64') }]);
    writeFileSync(join(dir, '.npmrc'), 'fetch-timeout=200\nfetch-retries=0\n');
    const result = await runAiscAsync(['lock', 'package-lock.json', '--registry', server.url], dir);
    expect(result.stderr).toBe(`aisc: REGISTRY_UNREACHABLE slow: the registry did not answer in time (${server.url}slow)\n`);
    expect(result.status).toBe(2);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });

  it('sends the .npmrc token for that registry and never writes it down', async () => {
    const versions = realVersions().slice(0, 1);
    const server = await serve(versions);
    const dir = makeTempDir();
    writePackageLock(dir, lockedFrom(server.url, versions));
    const token = 'npm_s3cr3tT0kenValue';
    writeFileSync(join(dir, '.npmrc'), `${server.url.replace('http:', '')}:_authToken=${token}\n`);
    const result = await runAiscAsync(['lock', 'package-lock.json', '--registry', server.url], dir);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(server.headers.every((h) => h.authorization === `Bearer ${token}`)).toBe(true);
    const evidence = join(dir, '.aisc', 'evidence');
    const written = [readFileSync(join(dir, 'aisc.lock.json'), 'utf8'), ...(existsSync(evidence) ? readdirSync(evidence).map((f) => readFileSync(join(evidence, f), 'utf8')) : [])];
    expect(written.join('\n') + result.stdout + result.stderr).not.toContain(token);
  });

  it('refuses lockfileVersion 1 with how to upgrade', () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'package-lock.json'), '{"name":"app","lockfileVersion":1,"dependencies":{}}');
    const result = runAisc(['lock', 'package-lock.json'], dir);
    expect(result.stderr).toBe('aisc: NPM_LOCK_UNSUPPORTED package-lock.json: lockfileVersion 1 has no "packages" section; upgrade it with npm 7 or newer: npm install --lockfile-version 3\n');
    expect(result.status).toBe(2);
  });
});

describe('aisc verify: package-lock.json drift and evidence, offline', () => {
  async function lockedProject(): Promise<{ dir: string; server: LoopbackServer; versions: ServedVersion[] }> {
    const versions = realVersions();
    const server = await serve(versions);
    const dir = makeTempDir();
    writePackageLock(dir, lockedFrom(server.url, versions));
    expect(await lockFindings(dir, server.url)).toEqual([]);
    return { dir, server, versions };
  }

  it('names a package added, removed, re-versioned, with other integrity, another source or a new install script', async () => {
    const { dir, server, versions } = await lockedProject();
    const [kms, sigstore, tuf] = lockedFrom(server.url, versions) as [ReturnType<typeof lockedFrom>[number], ReturnType<typeof lockedFrom>[number], ReturnType<typeof lockedFrom>[number]];
    writePackageLock(dir, [
      { ...kms, integrity: 'sha512-' + Buffer.alloc(64, 1).toString('base64'), hasInstallScript: true },
      { ...sigstore, version: '2.0.0', resolved: tarballUrl(server.url, 'sigstore', '2.0.0') },
      { name: 'left-pad', version: '1.3.0', integrity: tuf.integrity },
    ]);
    const result = runAisc(['verify', '--format', 'json'], dir);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { artifacts: { name: string; findings: { code: string }[] }[]; packageLocks: { findings: { code: string; artifact: string }[] }[] };
    const codes = (name: string): string[] => report.artifacts.find((a) => a.name === name)?.findings.map((f) => f.code) ?? [];
    expect(codes('npm:kms-demo@1.0.0')).toEqual(['NPM_INSTALL_SCRIPT_ADDED', 'NPM_INTEGRITY_CHANGED']);
    expect(codes('npm:sigstore@1.0.0')).toEqual(['NPM_VERSION_CHANGED']);
    expect(codes('npm:tuf-js@1.0.0')).toEqual(['NPM_PACKAGE_REMOVED']);
    expect(report.packageLocks[0]?.findings).toEqual([expect.objectContaining({ code: 'NPM_PACKAGE_ADDED', artifact: 'npm:left-pad@1.3.0' })]);
  });

  it('fails when evidence is gone, edited, or proves less than the lockfile claims', async () => {
    const { dir } = await lockedProject();
    const lockfile = readLock(dir);
    const evidenceOf = (name: string): string => join(dir, '.aisc', 'evidence', `${(lockfile.artifacts[name] as NpmArtifact).evidence ?? ''}.json`);
    writeFileSync(evidenceOf('npm:tuf-js@1.0.0'), readFileSync(evidenceOf('npm:tuf-js@1.0.0'), 'utf8').replace(/"sig": ?"/, '$&A'));
    (lockfile.artifacts['npm:sigstore@1.0.0'] as NpmArtifact).provenance!.repository = 'https://github.com/someone/else';
    // The signature the lockfile itself holds (kms-demo has no attestations, so no evidence file).
    const kms = lockfile.artifacts['npm:kms-demo@1.0.0'] as NpmArtifact & { registrySignature: { sig: string } };
    kms.registrySignature.sig = `A${kms.registrySignature.sig.slice(1)}`;
    let result = verifyEdited(dir, lockfile);
    expect(result.stdout).toMatch(/FAIL npm:kms-demo@1\.0\.0 .*\n\s+NPM_SIGNATURE_INVALID: kms-demo@1\.0\.0: the signature by SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA does not verify/);
    expect(result.stdout).toMatch(/FAIL npm:tuf-js@1\.0\.0 .*\n\s+NPM_EVIDENCE_CHANGED: tuf-js@1\.0\.0: \.aisc\/evidence\/[0-9a-f]{64}\.json has changed since it was locked/);
    expect(result.stdout).toMatch(/FAIL npm:sigstore@1\.0\.0 .*\n\s+NPM_EVIDENCE_MISMATCH: sigstore@1\.0\.0: the evidence proves verified, provenance from https:\/\/github\.com\/sigstore\/sigstore-js; the lockfile records verified, provenance from https:\/\/github\.com\/someone\/else/);
    expect(result.status).toBe(1);

    // Gone: an evidence file, a signature's bytes, the registry facts of a registry package.
    rmSync(evidenceOf('npm:tuf-js@1.0.0'));
    delete (kms as { registrySignature: { sig?: string } }).registrySignature.sig;
    const sigstore = lockfile.artifacts['npm:sigstore@1.0.0'] as NpmArtifact;
    delete sigstore.evidence;
    result = verifyEdited(dir, lockfile);
    expect(result.stdout).toMatch(/NPM_EVIDENCE_MISSING: tuf-js@1\.0\.0: its evidence \.aisc\/evidence\/[0-9a-f]{64}\.json cannot be read/);
    expect(result.stdout).toContain("NPM_EVIDENCE_MISSING: kms-demo@1.0.0: the lockfile names the registry signature's key but holds no signature, and no evidence file does; run aisc lock again");
    expect(result.stdout).toContain('NPM_EVIDENCE_MISSING: sigstore@1.0.0: the lockfile records provenance but no evidence file that proves it; run aisc lock again');
    expect(result.status).toBe(1);

    // A signature with its bytes, but the registry it was checked against is gone from the entry.
    kms.registrySignature = { status: 'verified', keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA', sig: 'AAAA' };
    delete kms.source.registry;
    result = verifyEdited(dir, lockfile);
    expect(result.stdout).toContain('NPM_EVIDENCE_MISSING: kms-demo@1.0.0: the lockfile records no registry signature status, integrity or registry for a registry package; run aisc lock again');
    expect(result.status).toBe(1);
  });

  it('refuses provenance or a signature status that a lockfile edit gives a git package (nothing vouches for one)', async () => {
    const versions = realVersions().slice(0, 1);
    const server = await serve(versions);
    const dir = makeTempDir();
    writePackageLock(dir, [...lockedFrom(server.url, versions), { name: 'from-git', version: '1.0.0', resolved: `git+ssh://git@github.com/example/from-git.git#${'a'.repeat(40)}` }]);
    expect(await lockFindings(dir, server.url)).toEqual([]);
    expect(runAisc(['verify'], dir).status).toBe(0);
    const lockfile = readLock(dir);
    const git = lockfile.artifacts['npm:from-git@1.0.0'] as NpmArtifact;
    expect(git.source.from).toBe('git');
    git.provenance = { ...SIGSTORE_PROVENANCE };
    let result = verifyEdited(dir, lockfile);
    expect(result.stdout).toContain('NPM_EVIDENCE_MISSING: from-git@1.0.0: the lockfile records provenance for a git package, with no evidence file that proves it');
    expect(result.status).toBe(1);
    delete git.provenance;
    git.registrySignature = { status: 'verified', keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA' };
    result = verifyEdited(dir, lockfile);
    expect(result.stdout).toContain('NPM_EVIDENCE_MISSING: from-git@1.0.0: the lockfile records a registry signature status for a git package, with no evidence file that proves it');
    expect(result.status).toBe(1);
  });

  it('still verifies a lockfile from before signatures were recorded in it (each signature in its evidence file)', async () => {
    const { dir, versions } = await lockedProject();
    const lockfile = readLock(dir);
    const kms = lockfile.artifacts['npm:kms-demo@1.0.0'] as NpmArtifact;
    const served = versions.find((v) => v.name === 'kms-demo');
    // What earlier versions wrote: the key id in the lockfile, the signature in an evidence file.
    const text = toEvidenceText({ evidenceVersion: 1, package: kms.package, version: kms.version, integrity: kms.integrity ?? '', registry: kms.source.registry ?? '', publishedAt: kms.publishedAt, signatures: served?.signatures });
    kms.evidence = createHash('sha256').update(text).digest('hex');
    writeFileSync(join(dir, '.aisc', 'evidence', `${kms.evidence}.json`), text);
    kms.registrySignature = { status: 'verified', keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA' };
    let result = verifyEdited(dir, lockfile);
    expect(result.stdout).toContain('ok   package-lock.json: 3 npm packages locked, all match and their evidence verifies');
    expect(result.status).toBe(0);

    // Its evidence still binds: a lockfile that now calls the package unsigned is a mismatch.
    kms.registrySignature = { status: 'unsigned', reason: 'edited' };
    result = verifyEdited(dir, lockfile);
    expect(result.stdout).toContain('NPM_EVIDENCE_MISMATCH: kms-demo@1.0.0: the evidence proves verified, no provenance; the lockfile records unsigned, no provenance');
    expect(result.status).toBe(1);
  });

  it('applies the npm policy terms: provenance, provenanceFrom, installScripts, sources', async () => {
    const { dir } = await lockedProject();
    writeFileSync(
      join(dir, 'aisc.policy.yaml'),
      [
        'version: 1',
        'rules:',
        '  - match: { kind: npm }',
        "    require: { provenance: required, installScripts: deny, sources: ['https://registry.example/'] }",
        '  - match: { kind: npm, name: tuf-js }',
        "    require: { provenanceFrom: { 'tuf-*': https://github.com/sigstore/sigstore-js } }",
        '  - match: { kind: npm, name: kms-demo }',
        '    require: { provenance: optional }',
      ].join('\n'),
    );
    const result = runAisc(['verify', '--format', 'json'], dir);
    const report = JSON.parse(result.stdout) as { artifacts: { name: string; findings: { code: string; message: string }[] }[] };
    const messages = (name: string): string[] => report.artifacts.find((a) => a.name === name)?.findings.map((f) => `${f.code} ${f.message}`) ?? [];
    expect(messages('npm:kms-demo@1.0.0')).toEqual([expect.stringMatching(/^NPM_SOURCE rule 1: allows sources https:\/\/registry\.example\/; fetched from http:\/\/127\.0\.0\.1/)]);
    expect(messages('npm:tuf-js@1.0.0')).toContain('NPM_PROVENANCE_REPOSITORY rule 2: requires provenance from https://github.com/sigstore/sigstore-js for tuf-*; built from https://github.com/theupdateframework/tuf-js');
    expect(result.status).toBe(1);
  });

  it('refuses a source the policy does not allow before asking the registry anything', async () => {
    const versions = realVersions();
    const server = await serve(versions);
    const dir = makeTempDir();
    writePackageLock(dir, lockedFrom(server.url, versions));
    // The registry's host with a suffix is another origin, not a path under the allowed one.
    writeFileSync(join(dir, 'aisc.policy.yaml'), `version: 1\nrules:\n  - match: { kind: npm }\n    require: { sources: ['${server.url.replace('127.0.0.1', '127.0.0.1.evil.test')}'] }\n`);
    const result = await runAiscAsync(['lock', 'package-lock.json', '--registry', server.url], dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/NPM_SOURCE/);
    expect(result.stdout).toMatch(/nothing was fetched/);
    expect(server.hits.size).toBe(0);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });
});
