// Chunk-size benchmark: how the chunk size aisc records (AISC_CHUNK_BYTES) moves `aisc verify` of
// one big file, spread over every core, and the lockfile's size. The default (64 MiB) was chosen
// from this: as fast as any size that parallelizes, and a small lockfile.
//
//   npm run bench:chunks            (AISC_BENCH_DIR, AISC_BENCH_RUNS as for bench/hash.js; AISC_BENCH_GIB=2)
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const runs = Number(process.env.AISC_BENCH_RUNS ?? 5);
const gib = Number(process.env.AISC_BENCH_GIB ?? 2);
const keep = Boolean(process.env.AISC_BENCH_DIR);
const base = process.env.AISC_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'aisc-bench-'));
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const SIZES = [4, 16, 64, 256, 1024].map((n) => n * MiB);

const dir = join(base, `chunks-${gib}g`);
const file = join(dir, 'weights.dat');
if (!existsSync(file) || statSync(file).size !== gib * 1024 * MiB) {
  mkdirSync(dir, { recursive: true });
  const block = Buffer.allocUnsafe(16 * MiB);
  const fd = openSync(file, 'w');
  for (let written = 0; written < gib * 1024 * MiB; written += block.length) {
    randomFillSync(block, 0, 4096);
    writeSync(fd, block);
  }
  closeSync(fd);
}
spawnSync('cat', [file], { stdio: 'ignore' });

function time(args, env = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(aisc, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`aisc ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const lockfiles = SIZES.map((size) => {
  const lockfile = join(base, `chunks-${size / MiB}.lock.json`);
  rmSync(lockfile, { force: true });
  time(['lock', dir, '--kind', 'model', '--name', 'bench', '--lockfile', lockfile], { AISC_CHUNK_BYTES: String(size) });
  return lockfile;
});
// Without chunks: the file read whole, in order (a lockfile made before chunk digests).
const whole = join(base, 'chunks-none.lock.json');
rmSync(whole, { force: true });
time(['lock', dir, '--kind', 'model', '--name', 'bench', '--lockfile', whole], { AISC_CHUNK_BYTES: String(4096 * MiB) });
const samples = [...lockfiles, whole].map(() => []);
for (let round = 0; round < runs; round++) [...lockfiles, whole].forEach((lockfile, i) => samples[i].push(time(['verify', '--lockfile', lockfile])));
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(`aisc chunk-size benchmark: verify of one ${gib} GiB file, ${availableParallelism()} cores, median of ${runs} interleaved runs, load ${loadavg()[0].toFixed(2)}`);
console.table(
  [...SIZES.map((size) => `${size / MiB} MiB`), 'none (whole file)'].map((label, i) => ({
    chunk: label,
    verify: `${median(samples[i]).toFixed(3)} s`,
    'lockfile bytes': statSync([...lockfiles, whole][i]).size,
  })),
);
if (!keep) rmSync(base, { recursive: true, force: true });
