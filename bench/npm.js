// npm benchmark: `aisc lock package-lock.json` for a generated 1,500-package tree against a
// registry on loopback (node:http, in this process), then `aisc verify` offline, as whole CLI
// processes. References in the same run: fetching and parsing the same packuments with undici at
// the same concurrency and nothing else (the floor for lock), and `npm ls --package-lock-only`
// reading the same package-lock.json (npm's own offline pass over it, for verify).
//
//   npm run bench:npm
//   AISC_BENCH_RUNS=9 AISC_BENCH_PACKAGES=3000 npm run bench:npm
//   AISC_BENCH_BASELINE=../old-checkout npm run bench:npm    (an older build's lock, same run)
//
// Three of the packages are the real sigstore, tuf-js and kms-demo 1.0.0 from shared/fixtures/npm:
// real registry signatures, and for two of them real SLSA provenance and publish attestations.
// The generated ones are unsigned (no one holds the registry's key), so the per-package cost of a
// registry signature (every package on registry.npmjs.org has one) and of Sigstore attestations is
// measured separately on the real ones and reported per package.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.AISC_BENCH_RUNS ?? 5);
const count = Number(process.env.AISC_BENCH_PACKAGES ?? 1500);
const VERSIONS_PER_PACKAGE = 30;
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
// Another checkout of aisc, built (npm ci && npm run build), whose lock is timed in the same runs.
const baseline = process.env.AISC_BENCH_BASELINE ? join(process.env.AISC_BENCH_BASELINE, 'bin', 'aisc.js') : undefined;
const fixtures = fileURLToPath(new URL('../../shared/fixtures/npm/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aisc-bench-npm-'));

const integrityOf = (text) => `sha512-${createHash('sha512').update(text).digest('base64')}`;
const tarball = (registry, name, version) => `${registry}${name}/-/${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;

/** Packuments shaped like the registry's: 30 versions, manifests with dependencies and scripts, time. */
function generate(registry) {
  const routes = new Map();
  const locked = [];
  for (let i = 0; i < count - 3; i++) {
    const name = i % 5 === 0 ? `@bench-scope${i % 40}/pkg-${i}` : `bench-pkg-${i}`;
    const versions = {};
    const time = { created: '2020-01-01T00:00:00.000Z' };
    for (let v = 0; v < VERSIONS_PER_PACKAGE; v++) {
      const version = `${1 + Math.floor(v / 10)}.${v % 10}.0`;
      versions[version] = {
        name,
        version,
        description: `generated package ${i}, version ${version}, for the aisc npm benchmark`,
        main: 'index.js',
        license: 'MIT',
        repository: { type: 'git', url: `git+https://github.com/bench/pkg-${i}.git` },
        dependencies: Object.fromEntries(Array.from({ length: 4 }, (_, d) => [`bench-pkg-${(i + d + 1) % count}`, `^${1 + (d % 3)}.0.0`])),
        scripts: { test: 'node test.js' },
        dist: { integrity: integrityOf(`${name}@${version}`), shasum: createHash('sha1').update(`${name}@${version}`).digest('hex'), tarball: tarball(registry, name, version) },
      };
      time[version] = new Date(Date.UTC(2021, 0, 1 + v)).toISOString();
    }
    const pick = `${1 + Math.floor((i % VERSIONS_PER_PACKAGE) / 10)}.${i % 10}.0`;
    routes.set(`/${name.replace('/', '%2f')}`, JSON.stringify({ _id: name, name, 'dist-tags': { latest: '3.9.0' }, versions, time }));
    locked.push({ name, version: pick, integrity: versions[pick].dist.integrity, resolved: tarball(registry, name, pick), dev: i % 3 === 0 });
  }
  const real = JSON.parse(readFileSync(join(fixtures, 'registry-signatures.json'), 'utf8')).packages;
  for (const p of real) {
    const attestationsUrl = `${registry}-/npm/v1/attestations/${p.name}@${p.version}`;
    const dist = { integrity: p.integrity, tarball: tarball(registry, p.name, p.version), signatures: p.signatures };
    if (p.attestations) {
      dist.attestations = { url: attestationsUrl, provenance: { predicateType: 'https://slsa.dev/provenance/v0.2' } };
      routes.set(`/-/npm/v1/attestations/${p.name}@${p.version}`, readFileSync(join(fixtures, p.attestations), 'utf8'));
    }
    routes.set(`/${p.name}`, JSON.stringify({ name: p.name, versions: { [p.version]: { name: p.name, version: p.version, dist } }, time: { [p.version]: '2023-02-09T17:56:00.000Z' } }));
    locked.push({ name: p.name, version: p.version, integrity: p.integrity, resolved: tarball(registry, p.name, p.version) });
  }
  const packages = { '': { name: 'bench-app', version: '1.0.0', dependencies: Object.fromEntries(locked.map((p) => [p.name, `^${p.version}`])) } };
  for (const p of locked) packages[`node_modules/${p.name}`] = { version: p.version, resolved: p.resolved, integrity: p.integrity, ...(p.dev ? { dev: true } : {}) };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', dependencies: packages[''].dependencies }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'bench-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
  return routes;
}

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('close', (status) => resolve({ status, seconds: Number(process.hrtime.bigint() - started) / 1e9, out }));
  });
}

const FETCH_ONLY = `
import { Agent, request } from 'undici';
const [registry, names] = [process.argv[1], process.argv.slice(2)];
const agent = new Agent({ connections: 16 });
let next = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (next < names.length) {
    const name = names[next++];
    const response = await request(registry + name, { dispatcher: agent });
    JSON.parse(await response.body.text());
  }
}));
await agent.close();
`;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const routes = new Map();
  const server = createServer((req, res) => {
    const body = routes.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end('{}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const registry = `http://127.0.0.1:${server.address().port}/`;
  for (const [k, v] of generate(registry)) routes.set(k, v);
  const names = [...routes.keys()].filter((k) => !k.startsWith('/-/')).map((k) => k.slice(1));
  const bytes = [...routes.values()].reduce((sum, body) => sum + Buffer.byteLength(body), 0);
  console.log(`npm: ${count} packages (${count - 3} generated, 3 real), ${names.length} packuments, ${(bytes / 1e6).toFixed(1)} MB served on loopback; ${runs} runs, medians`);

  const times = { lock: [], fetch: [], verify: [], npmLs: [], baseline: [] };
  const env = { ...process.env, npm_config_fetch_retries: '0' };
  for (let i = 0; i < runs; i++) {
    rmSync(join(dir, 'aisc.lock.json'), { force: true });
    rmSync(join(dir, '.aisc'), { recursive: true, force: true });
    const lock = await run(process.execPath, [aisc, 'lock', 'package-lock.json', '--registry', registry], { env });
    if (lock.status !== 0) throw new Error(`aisc lock failed:\n${lock.out}`);
    times.lock.push(lock.seconds);
    if (baseline) {
      // Into a folder of its own, so verify below still reads this build's lockfile.
      mkdirSync(join(dir, 'baseline'));
      const old = await run(process.execPath, [baseline, 'lock', 'package-lock.json', '--registry', registry, '--lockfile', 'baseline/aisc.lock.json'], { env });
      if (old.status !== 0) throw new Error(`the baseline's lock failed:\n${old.out}`);
      times.baseline.push(old.seconds);
      rmSync(join(dir, 'baseline'), { recursive: true, force: true });
    }
    const fetch = await run(process.execPath, ['--input-type=module', '-e', FETCH_ONLY, registry, ...names], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
    if (fetch.status !== 0) throw new Error(`fetch-only reference failed:\n${fetch.out}`);
    times.fetch.push(fetch.seconds);
    const verify = await run(process.execPath, [aisc, 'verify']);
    if (verify.status !== 0) throw new Error(`aisc verify failed:\n${verify.out}`);
    times.verify.push(verify.seconds);
    const npmLs = await run('npm', ['ls', '--package-lock-only', '--all', '--json'], { env: { ...process.env, npm_config_registry: registry } });
    times.npmLs.push(npmLs.seconds);
  }
  server.close();

  const [lock, fetch, verify, npmLs] = [median(times.lock), median(times.fetch), median(times.verify), median(times.npmLs)];
  console.log(`  aisc lock      ${lock.toFixed(2)} s  (target ≤ 10 s: ${lock <= 10 ? 'met' : 'NOT met'}); fetch-and-parse floor ${fetch.toFixed(2)} s → ${(lock / fetch).toFixed(2)}× the floor`);
  if (baseline) console.log(`  baseline lock  ${median(times.baseline).toFixed(2)} s  (${process.env.AISC_BENCH_BASELINE}) → this build takes ${(lock / median(times.baseline)).toFixed(2)}× its time`);
  console.log(`  aisc verify    ${verify.toFixed(2)} s  (target ≤ 2 s: ${verify <= 2 ? 'met' : 'NOT met'}); npm ls --package-lock-only ${npmLs.toFixed(2)} s → ${(verify / npmLs).toFixed(2)}× npm`);

  // Sigstore cost per package with provenance, on the real attestations (two bundles each).
  // From a file: worker threads inherit --input-type, which they cannot use.
  const costScript = join(dir, 'sigstore-cost.mjs');
  writeFileSync(costScript, SIGSTORE_COST.replaceAll("'./dist/", `'${new URL('../dist/', import.meta.url).href}`));
  const perPackage = await run(process.execPath, [costScript, fixtures], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
  console.log(`  provenance     ${perPackage.out.trim()}`);
  rmSync(dir, { recursive: true, force: true });
}

const SIGSTORE_COST = `
import { readFileSync } from 'node:fs';
import { AttestationPool } from './dist/npm/attestation-pool.js';
import { verifyAttestations } from './dist/npm/attestations.js';
import { getNpmRegistryKeys } from './dist/npm/registry-keys.js';
import { verifyRegistrySignature } from './dist/npm/signatures.js';
import { getPublicGoodTrustedRoot } from './dist/signing/trust.js';
const dir = process.argv[2];
const p = JSON.parse(readFileSync(dir + 'registry-signatures.json', 'utf8')).packages.find((x) => x.name === 'sigstore');
const response = JSON.parse(readFileSync(dir + p.attestations, 'utf8'));
const keys = getNpmRegistryKeys(), root = getPublicGoodTrustedRoot();
// A registry signature: what lock and verify check for every signed package (ECDSA P-256).
const signed = { ...p, publishedAt: new Date('2023-02-09T17:56:00.000Z') };
verifyRegistrySignature(signed, p.signatures, keys);
let started = performance.now();
for (let i = 0; i < 3000; i++) if (verifyRegistrySignature(signed, p.signatures, keys).status !== 'verified') throw new Error('signature');
const signature = ((performance.now() - started) / 3000) * 1000;
verifyAttestations(p, response, keys, root);
const n = 300;
started = performance.now();
for (let i = 0; i < n; i++) verifyAttestations(p, response, keys, root);
const serial = (performance.now() - started) / n;
// What lock and verify do: as many at once as arrive, on the bounded pool (its boot included).
const pool = new AttestationPool(keys, getPublicGoodTrustedRoot);
started = performance.now();
await Promise.all(Array.from({ length: n }, () => pool.verify(p, response)));
const pooled = (performance.now() - started) / n;
await pool.close();
console.log(serial.toFixed(1) + ' ms per package with provenance on one thread; ' + pooled.toFixed(1) + ' ms on the attestation pool (' + (serial / pooled).toFixed(2) + 'x), ' + n + ' packages; a registry signature ' + signature.toFixed(0) + ' µs');
`;

await main();
