// Incremental verify benchmark: an unchanged 4 GiB model verified in full, then with --cache (its
// records written by a first cached run), in the same run; plus `openssl dgst -sha256` over the
// same files as the reference for a full read. Prints medians and the cached/full ratio.
//
//   npm run bench:cache          (AISC_BENCH_DIR=/big/disk, AISC_BENCH_RUNS=9 as for bench/hash.js)
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const GiB = 1024 ** 3;
const runs = Number(process.env.AISC_BENCH_RUNS ?? 5);
const keep = Boolean(process.env.AISC_BENCH_DIR);
const base = process.env.AISC_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'aisc-bench-'));
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const model = join(base, 'model-4g');
const FILES = [['weights-1.dat', 2 * GiB], ['weights-2.dat', 2 * GiB]];

function writeRandomFile(path, bytes) {
  const block = Buffer.allocUnsafe(16 * 1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; ) {
      randomFillSync(block, 0, 4096);
      const n = Math.min(block.length, bytes - written);
      writeSync(fd, block, 0, n);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
}

function run(command, args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: base, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} … failed (${result.status}): ${result.stderr}${result.stdout.slice(0, 2000)}`);
  return { seconds, stdout: result.stdout };
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

mkdirSync(model, { recursive: true });
for (const [name, bytes] of FILES) {
  const path = join(model, name);
  if (!existsSync(path) || statSync(path).size !== bytes) writeRandomFile(path, bytes);
}
writeFileSync(join(model, 'config.json'), '{"hidden_size": 4096}\n');
run(aisc, ['lock', model, '--kind', 'model', '--name', 'big', '--lockfile', 'cache-bench.lock.json']);
// Files changed in the last 2 s are not remembered (their ctime may not move on a write in the same tick).
await sleep(2100);
const cacheDir = join(base, 'verify-cache');
rmSync(cacheDir, { recursive: true, force: true });
const filled = JSON.parse(run(aisc, ['verify', '--lockfile', 'cache-bench.lock.json', '--cache', cacheDir, '--format', 'json']).stdout);
const full = [];
const cached = [];
const openssl = [];
let last;
for (let round = 0; round < runs; round++) {
  full.push(run(aisc, ['verify', '--lockfile', 'cache-bench.lock.json']).seconds);
  const result = run(aisc, ['verify', '--lockfile', 'cache-bench.lock.json', '--cache', cacheDir, '--format', 'json']);
  cached.push(result.seconds);
  last = JSON.parse(result.stdout);
  openssl.push(run('openssl', ['dgst', '-sha256', ...FILES.map(([name]) => join(model, name)), join(model, 'config.json')]).seconds);
}
console.log(`aisc incremental verify benchmark: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}, median of ${runs} interleaved runs, warm page cache`);
console.log(`first cached run filled the cache: ${filled.cache.misses} files read, ${filled.cache.hits} from the cache; later runs: ${last.cache.hits} from the cache, ${last.cache.misses} read`);
console.table([
  {
    data: 'unchanged 4 GiB model (2 × 2 GiB + config)',
    'verify (full)': `${median(full).toFixed(3)} s`,
    'verify --cache': `${median(cached).toFixed(3)} s`,
    'openssl dgst': `${median(openssl).toFixed(3)} s`,
    'cached ÷ full': (median(cached) / median(full)).toFixed(3),
    'target': 'cached < 0.2 s and ≤ 0.1 × full',
  },
]);
if (!keep) rmSync(base, { recursive: true, force: true });
