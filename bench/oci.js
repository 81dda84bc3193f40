/* global fetch */
// OCI benchmark, whole CLI processes against the real CNCF Distribution registry on loopback
// (Debian's docker-registry, storage in a temp folder):
//
// 1. `aisc lock oci://…` of a 200-layer ModelPack artifact: 190 `.raw` layers of 1 MiB that must
//    NOT be downloaded (their digest is their file's SHA-256), 8 safetensors layers of 4 MiB of
//    which only the header is read (Range), 2 tar layers read whole: wall time, requests the
//    registry answered and bytes it sent (from its access log).
// 2. `aisc fetch` of a 2 GiB layer, against `curl -o` of the same blob then `sha256sum`, from the
//    same registry in the same run: aisc hashes and gates while it downloads.
//
//   node bench/oci.js           (AISC_BENCH_RUNS=3, AISC_BENCH_FETCH_GIB=2)
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { makeSafetensors } from '../examples/make-example.js';

const runs = Number(process.env.AISC_BENCH_RUNS ?? 3);
const gib = Number(process.env.AISC_BENCH_FETCH_GIB ?? 2);
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const binary = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry', '/usr/bin/registry'].find((path) => existsSync(path));
if (!binary) {
  console.log('oci bench skipped: docker-registry is not installed (apt-get install docker-registry)');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'aisc-bench-oci-'));
const env = { AISC_OCI_CACHE: join(dir, 'cache'), DOCKER_CONFIG: join(dir, 'no-docker'), REGISTRY_AUTH_FILE: '' };
const digestOf = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function run(command, args, extra = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: dir, env: { ...process.env, ...extra }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

async function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRegistry() {
  const port = await freePort();
  const config = join(dir, 'registry.yml');
  writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn(binary, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (c) => (log += c));
  child.stderr.on('data', (c) => (log += c));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/v2/`).then((r) => r.ok, () => false)) break;
    await sleep(50);
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    child,
    /** Requests and bytes sent since `from` (an offset into the access log). */
    mark: () => log.length,
    since: (from) => {
      const lines = [...log.slice(from).matchAll(/"(GET|HEAD) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+)/g)];
      return { requests: lines.length, bytes: lines.reduce((sum, m) => sum + Number(m[4]), 0) };
    },
  };
}

async function pushBlob(registry, repository, bytes, mediaType, annotations) {
  const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location'), registry.url);
  location.searchParams.set('digest', digestOf(bytes));
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`push: ${put.status}`);
  return { mediaType, digest: digestOf(bytes), size: bytes.length, ...(annotations ? { annotations } : {}) };
}

/** A large blob streamed from a file with curl -T (never held in memory). */
async function pushFile(registry, repository, path, digest, size, mediaType, annotations) {
  const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location'), registry.url);
  location.searchParams.set('digest', digest);
  const put = spawnSync('curl', ['-sf', '-X', 'PUT', '-H', 'content-type: application/octet-stream', '-T', path, location.href]);
  if (put.status !== 0) throw new Error(`curl push: ${put.stderr}`);
  return { mediaType, digest, size, annotations };
}

async function pushManifest(registry, repository, tag, config, layers) {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cncf.model.manifest.v1+json', config, layers }));
  const put = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (put.status !== 201) throw new Error(`manifest: ${put.status} ${await put.text()}`);
}

function tarOf(members) {
  const parts = [];
  for (const [name, data] of members) {
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write('0000644\0', 100);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    header.fill(0x20, 148, 156);
    header.write(`${header.reduce((a, b) => a + b, 0).toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

async function benchLock(registry) {
  const layers = [];
  let lockedBytes = 0;
  for (let i = 0; i < 190; i++) {
    const bytes = Buffer.alloc(1024 * 1024, i);
    bytes.write(`part ${i}`);
    layers.push(await pushBlob(registry, 'bench/model', bytes, 'application/vnd.cncf.model.weight.v1.raw', { 'org.cncf.model.filepath': `parts/part-${String(i).padStart(3, '0')}.bin` }));
    lockedBytes += bytes.length;
  }
  for (let i = 0; i < 8; i++) {
    const bytes = makeSafetensors({ w: { dtype: 'F32', shape: [1024, 1024] } }, i + 1);
    layers.push(await pushBlob(registry, 'bench/model', bytes, 'application/vnd.cncf.model.weight.v1.raw', { 'org.cncf.model.filepath': `model-${i}.safetensors` }));
    lockedBytes += bytes.length;
  }
  for (let i = 0; i < 2; i++) {
    const tar = tarOf([[`tok-${i}/tokenizer.json`, Buffer.from(JSON.stringify({ model: { vocab: 'x'.repeat(100_000) } }))], [`tok-${i}/config.json`, Buffer.from('{}')]]);
    layers.push(await pushBlob(registry, 'bench/model', tar, 'application/vnd.cncf.model.weight.config.v1.tar'));
    lockedBytes += tar.length;
  }
  const config = await pushBlob(registry, 'bench/model', Buffer.from(JSON.stringify({ descriptor: { name: 'bench' }, modelfs: { type: 'layers', diffIds: layers.map((l) => l.digest) } })), 'application/vnd.cncf.model.config.v1+json');
  await pushManifest(registry, 'bench/model', 'v1', config, layers);
  const times = [];
  let traffic;
  for (let r = 0; r < runs; r++) {
    rmSync(join(dir, 'lock.json'), { force: true });
    const mark = registry.mark();
    times.push(await run(process.execPath, [aisc, 'lock', `oci://${registry.host}/bench/model:v1`, '--lockfile', 'lock.json'], env));
    await sleep(100);
    traffic = registry.since(mark);
  }
  console.log(`oci lock, 200 layers (190 raw × 1 MiB, 8 safetensors × 4 MiB, 2 tar): median ${(median(times) / 1000).toFixed(2)} s of ${runs}; ${traffic.requests} requests; ${(traffic.bytes / 1024).toFixed(1)} KiB downloaded of ${(lockedBytes / 1024 / 1024).toFixed(1)} MiB locked`);
}

async function benchFetch(registry) {
  const path = join(dir, 'big.bin');
  const size = gib * 1024 ** 3;
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let done = 0; done < size; done += chunk.length) {
    chunk.writeUInt32LE(done / chunk.length, 0);
    writeSync(fd, chunk);
    hash.update(chunk);
  }
  closeSync(fd);
  const digest = `sha256:${hash.digest('hex')}`;
  const layer = await pushFile(registry, 'bench/big', path, digest, size, 'application/vnd.cncf.model.weight.v1.raw', { 'org.cncf.model.filepath': 'weights.bin' });
  rmSync(path);
  const config = await pushBlob(registry, 'bench/big', Buffer.from('{}'), 'application/vnd.cncf.model.config.v1+json');
  await pushManifest(registry, 'bench/big', 'v1', config, [layer]);
  mkdirSync(join(dir, 'fetch'), { recursive: true });
  await run(process.execPath, [aisc, 'lock', `oci://${registry.host}/bench/big:v1`, '--lockfile', 'big.json', '--path', 'fetched', '--kind', 'model'], env);
  const times = { aisc: [], curl: [] };
  const url = `${registry.url}/v2/bench/big/blobs/${digest}`;
  for (let r = 0; r < runs; r++) {
    rmSync(join(dir, 'fetched'), { recursive: true, force: true });
    times.aisc.push(await run(process.execPath, [aisc, 'fetch', '--lockfile', 'big.json'], env));
    rmSync(join(dir, 'fetched'), { recursive: true, force: true });
    rmSync(join(dir, 'curl.bin'), { force: true });
    times.curl.push((await run('curl', ['-sf', '-o', 'curl.bin', url])) + (await run('sha256sum', ['curl.bin'])));
    rmSync(join(dir, 'curl.bin'), { force: true });
  }
  const [a, c] = [median(times.aisc), median(times.curl)];
  const rate = (ms) => `${((size / 1024 ** 2) / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`oci fetch ${gib} GiB layer from loopback: aisc fetch ${(a / 1000).toFixed(2)} s (${rate(a)}); curl -o + sha256sum ${(c / 1000).toFixed(2)} s (${rate(c)}); speed vs curl+sha256sum ${(c / a).toFixed(2)}× (median of ${runs})`);
}

const registry = await startRegistry();
try {
  await benchLock(registry);
  await benchFetch(registry);
} finally {
  registry.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
