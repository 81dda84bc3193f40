// Sources benchmark, whole CLI processes against servers on loopback (node:http, in this process):
//
// 1. `aisc lock hf://bench/repo` of a 1,000-file Hub repo (900 small files outside LFS, 100 LFS
//    files of 1 GiB each that must NOT be downloaded): wall time, requests made, bytes served.
// 2. `aisc fetch` of a 2 GiB file locked from a URL, against the reference `curl -o` then
//    `sha256sum` (and `openssl dgst -sha256`) of the same file from the same server in the same run:
//    aisc hashes while it downloads, so it should be no slower than download-then-hash.
//
//   node bench/hub.js           (AISC_BENCH_RUNS=5, AISC_BENCH_FETCH_GIB=2)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.AISC_BENCH_RUNS ?? 3);
const gib = Number(process.env.AISC_BENCH_FETCH_GIB ?? 2);
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aisc-bench-hub-'));
const COMMIT = 'b'.repeat(40);

const sha1Blob = (content) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
const sha256 = (content) => createHash('sha256').update(content).digest('hex');

function repoFiles() {
  const files = [];
  for (let i = 0; i < 900; i++) files.push({ path: `configs/part-${String(i).padStart(4, '0')}.json`, content: Buffer.from(JSON.stringify({ part: i, pad: 'x'.repeat(900) })) });
  for (let i = 0; i < 100; i++) files.push({ path: `shards/model-${String(i).padStart(5, '0')}-of-00100.bin`, size: 1024 ** 3, lfs: sha256(`shard ${i}`) });
  return files;
}

function run(command, args, env = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

async function benchHubLock() {
  const files = repoFiles();
  const stats = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    stats.requests++;
    const url = new URL(request.url, 'http://x');
    if (url.pathname.endsWith(`/revision/main`)) return response.end(JSON.stringify({ sha: COMMIT }));
    if (url.pathname.includes('/tree/')) {
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = files.slice(cursor, cursor + 1000).map((f) =>
        f.lfs ? { type: 'file', path: f.path, size: f.size, oid: sha1Blob(Buffer.from(f.lfs)), lfs: { oid: f.lfs, size: f.size, pointerSize: 134 } } : { type: 'file', path: f.path, size: f.content.length, oid: sha1Blob(f.content) },
      );
      const body = Buffer.from(JSON.stringify(page));
      stats.bytes += body.length;
      const headers = cursor + 1000 < files.length ? { link: `<${endpoint}${url.pathname}?recursive=true&expand=false&cursor=${cursor + 1000}>; rel="next"` } : {};
      return response.writeHead(200, headers).end(body);
    }
    const match = /\/resolve\/[0-9a-f]{40}\/(.+)$/.exec(url.pathname);
    const file = match && files.find((f) => f.path === decodeURIComponent(match[1]));
    if (!file || file.lfs) return response.writeHead(404).end();
    stats.bytes += file.content.length;
    response.writeHead(200, { etag: `"${sha1Blob(file.content)}"`, 'content-length': file.content.length }).end(file.content);
  });
  const endpoint = await listen(server);
  const env = { HF_ENDPOINT: endpoint, HF_TOKEN: '', HF_HUB_CACHE: join(dir, 'cache') };
  const times = [];
  let perRun;
  for (let r = 0; r < runs; r++) {
    rmSync(join(dir, 'hub.lock.json'), { force: true });
    const before = { ...stats };
    times.push(await run(process.execPath, [aisc, 'lock', 'hf://bench/repo', '--kind', 'model', '--lockfile', 'hub.lock.json'], env));
    perRun = { requests: stats.requests - before.requests, bytes: stats.bytes - before.bytes };
  }
  server.close();
  const listed = files.reduce((sum, f) => sum + (f.size ?? f.content.length), 0);
  console.log(`hub lock, 1,000 files (900 small, 100 LFS × 1 GiB): median ${(median(times) / 1000).toFixed(2)} s of ${runs}; ${perRun.requests} requests; ${(perRun.bytes / 1024 / 1024).toFixed(2)} MiB downloaded of ${(listed / 1024 ** 3).toFixed(1)} GiB locked`);
}

async function benchFetch() {
  const source = join(dir, 'big.bin');
  const fd = openSync(source, 'w');
  const chunk = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let written = 0; written < gib * 1024 ** 3; written += chunk.length) writeSync(fd, chunk);
  closeSync(fd);
  const size = statSync(source).size;
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-length': size });
    createReadStream(source, { highWaterMark: 1024 * 1024 }).pipe(response);
  });
  const url = `${await listen(server)}/big.bin`;
  // Lock once (records the SHA-256), then time fetch against the references.
  await run(process.execPath, [aisc, 'lock', url, '--path', 'got.bin', '--kind', 'model', '--lockfile', 'url.lock.json']);
  const times = { aisc: [], curlSha256sum: [], curlOpenssl: [] };
  for (let r = 0; r < runs; r++) {
    rmSync(join(dir, 'got.bin'), { force: true });
    times.aisc.push(await run(process.execPath, [aisc, 'fetch', '--lockfile', 'url.lock.json']));
    rmSync(join(dir, 'curl.bin'), { force: true });
    times.curlSha256sum.push((await run('curl', ['-sf', '-o', 'curl.bin', url])) + (await run('sha256sum', ['curl.bin'])));
    rmSync(join(dir, 'curl.bin'), { force: true });
    times.curlOpenssl.push((await run('curl', ['-sf', '-o', 'curl.bin', url])) + (await run('openssl', ['dgst', '-sha256', 'curl.bin'])));
  }
  server.close();
  const [a, s, o] = [median(times.aisc), median(times.curlSha256sum), median(times.curlOpenssl)];
  const rate = (ms) => `${((size / 1024 ** 2) / (ms / 1000)).toFixed(0)} MiB/s`;
  console.log(`fetch ${gib} GiB from loopback, hashed while streaming: aisc fetch ${(a / 1000).toFixed(2)} s (${rate(a)}); curl -o + sha256sum ${(s / 1000).toFixed(2)} s; curl -o + openssl dgst ${(o / 1000).toFixed(2)} s; speed vs curl+sha256sum ${(s / a).toFixed(2)}×, vs curl+openssl ${(o / a).toFixed(2)}× (median of ${runs})`);
}

try {
  await benchHubLock();
  await benchFetch();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
