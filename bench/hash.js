// Hashing benchmark: aisc against `openssl dgst -sha256` and a Python hashlib thread pool (what
// model_signing does), on the same generated files in the same run. Prints seconds, throughput,
// the ratio to each reference, and aisc's peak RSS.
//
//   npm run bench                 # data in a temp folder, removed afterwards
//   AISC_BENCH_DIR=/big/disk npm run bench
//   AISC_BENCH_RUNS=9 npm run bench
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GiB = 1024 ** 3;
const runs = Number(process.env.AISC_BENCH_RUNS ?? 5);
const keep = Boolean(process.env.AISC_BENCH_DIR);
const base = process.env.AISC_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'aisc-bench-'));
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));

const PYTHON_POOL = `
import hashlib, os, sys
from concurrent.futures import ThreadPoolExecutor
def digest(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return path, h.hexdigest()
paths = sorted(os.path.join(d, n) for d, _, names in os.walk(sys.argv[1]) for n in names)
with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
    results = list(pool.map(digest, paths))
print(len(results))
`;

function writeRandomFile(path, bytes) {
  const block = Buffer.allocUnsafe(16 * 1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; ) {
      randomFillSync(block, 0, 4096); // a changing prefix is enough to defeat any dedup
      const n = Math.min(block.length, bytes - written);
      writeSync(fd, block, 0, n);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
}

function generate() {
  const sets = {
    'two 1 GiB files': { dir: join(base, 'pair'), files: [['a.dat', GiB], ['b.dat', GiB]] },
    'one 2 GiB file': { dir: join(base, 'single'), files: [['weights.dat', 2 * GiB]] },
    '10,000 files of 4 KiB': { dir: join(base, 'small'), files: [] },
  };
  for (let i = 0; i < 10_000; i++) sets['10,000 files of 4 KiB'].files.push([`d${String(i % 100).padStart(2, '0')}/f${i}.dat`, 4096]);
  for (const set of Object.values(sets)) {
    for (const [name, bytes] of set.files) {
      const path = join(set.dir, name);
      if (existsSync(path) && statSync(path).size === bytes) continue;
      mkdirSync(join(path, '..'), { recursive: true });
      writeRandomFile(path, bytes);
    }
    set.bytes = set.files.reduce((sum, [, bytes]) => sum + bytes, 0);
  }
  return sets;
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

function timeRun(command, args, env) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} … failed (${result.status}): ${result.stderr}`);
  const rss = /peak RSS (\d+) KiB/.exec(result.stderr ?? '');
  return { seconds, rssKiB: rss ? Number(rss[1]) : undefined };
}

/** Runs the commands in turn, `runs` rounds, so drift on the machine hits each alike; medians. */
function interleaved(commands) {
  const samples = commands.map(() => []);
  for (let round = 0; round < runs; round++) commands.forEach(([command, args, env], i) => samples[i].push(timeRun(command, args, env)));
  return samples.map((list) => {
    const sorted = [...list].sort((a, b) => a.seconds - b.seconds);
    return { seconds: sorted[Math.floor(sorted.length / 2)].seconds, rssKiB: Math.max(...list.map((s) => s.rssKiB ?? 0)) };
  });
}

const sets = generate();
console.log(`aisc hashing benchmark: ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}, median of ${runs} interleaved runs, warm page cache`);
const table = [];
let peak = 0;
for (const [label, set] of Object.entries(sets)) {
  const files = listFiles(set.dir);
  const lockfile = join(base, `${label.replace(/\W+/g, '-')}.lock.json`);
  spawnSync('cat', files, { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 }); // warm the page cache
  const [ours, python, openssl] = interleaved([
    // Run as a user does (`npx aisc`): the executable itself, its shebang picking node from PATH.
    [aisc, ['lock', set.dir, '--kind', 'model', '--name', 'bench', '--lockfile', lockfile], { AISC_REPORT_RSS: '1' }],
    ['python3', ['-c', PYTHON_POOL, set.dir]],
    ['openssl', ['dgst', '-sha256', ...files]],
  ]);
  peak = Math.max(peak, ours.rssKiB);
  const rate = (s) => `${(set.bytes / s / 1e9).toFixed(2)} GB/s`;
  table.push({
    data: label,
    aisc: `${ours.seconds.toFixed(3)} s (${rate(ours.seconds)})`,
    'python pool': `${python.seconds.toFixed(3)} s (${rate(python.seconds)})`,
    openssl: `${openssl.seconds.toFixed(3)} s (${rate(openssl.seconds)})`,
    'aisc speed ÷ python': (python.seconds / ours.seconds).toFixed(2),
    'aisc speed ÷ openssl': (openssl.seconds / ours.seconds).toFixed(2),
    'aisc peak RSS': `${(ours.rssKiB / 1024).toFixed(0)} MB`,
  });
}
console.table(table);
console.log(`aisc peak RSS over all runs: ${(peak / 1024).toFixed(0)} MB (target ≤ 120 MB)`);
if (!keep) rmSync(base, { recursive: true, force: true });
