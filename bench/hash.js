// Hashing benchmark, in one run on the same generated files: `aisc verify` (what a deployment runs,
// files with chunk digests spread over every core) and `aisc lock` against model_signing's own
// hashing code (files mode, as `model_signing sign` hashes a model), `openssl dgst -sha256` (one
// process per core at once over its share of the files: the machine's parallel limit), a Python
// hashlib thread pool and the Node floor (bench/node-floor.js: the same bytes hashed on every core
// by a Node program that does nothing else). Whole processes, medians of interleaved runs, warm page cache, aisc's peak RSS.
//
//   npm run bench                                  # data in a temp folder, removed afterwards
//   AISC_BENCH_MODEL_SIGNING=/path/to/model-transparency/src npm run bench
//   AISC_BENCH_DIR=/big/disk AISC_BENCH_RUNS=9 npm run bench
//   AISC_BENCH_SETS=pair,single npm run bench      # some of: single, pair, small, huge
//
// AISC_BENCH_MODEL_SIGNING is the src/ of a checkout of github.com/sigstore/model-transparency
// (nothing of it is part of aisc); bench/model-signing-hash.py drives its hashing API and says
// which of its imports it stands in for. Without it, model_signing is skipped.
import { spawn, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GiB = 1024 ** 3;
const runs = Number(process.env.AISC_BENCH_RUNS ?? 5);
const keep = Boolean(process.env.AISC_BENCH_DIR);
const base = process.env.AISC_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'aisc-bench-'));
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const driver = fileURLToPath(new URL('./model-signing-hash.py', import.meta.url));
const floor = fileURLToPath(new URL('./node-floor.js', import.meta.url));
const modelSigning = process.env.AISC_BENCH_MODEL_SIGNING;
const cores = availableParallelism();
// The targets of the chunk-digest work (issue 27), as ratios of whole-process medians.
const TARGETS = { single: { ms: 0.65 }, pair: { ms: 0.9, openssl: 1.15 }, small: { ms: 0.9 } };

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

/**
 * One `openssl dgst` per core, all started at once, each over its share of the files (largest
 * first to the least loaded): the most the cores give plain SHA-256 with no coordination at all.
 */
function opensslGroups(files) {
  const groups = Array.from({ length: cores }, () => ({ bytes: 0, files: [] }));
  for (const file of [...files].sort((a, b) => statSync(b).size - statSync(a).size)) {
    const least = groups.reduce((min, group) => (group.bytes < min.bytes ? group : min));
    least.files.push(file);
    least.bytes += statSync(file).size;
  }
  return groups.filter((group) => group.files.length > 0).map((group) => ['openssl', ['dgst', '-sha256', ...group.files]]);
}

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
  const all = {
    single: { label: 'one 2 GiB file', dir: join(base, 'single'), files: [['weights.dat', 2 * GiB]] },
    pair: { label: 'two 1 GiB files', dir: join(base, 'pair'), files: [['a.dat', GiB], ['b.dat', GiB]] },
    small: { label: '10,000 files of 4 KiB', dir: join(base, 'small'), files: [] },
    huge: { label: 'one 8 GiB file', dir: join(base, 'huge'), files: [['weights.dat', 8 * GiB]] },
  };
  for (let i = 0; i < 10_000; i++) all.small.files.push([`d${String(i % 100).padStart(2, '0')}/f${i}.dat`, 4096]);
  const chosen = (process.env.AISC_BENCH_SETS ?? 'single,pair,small,huge').split(',');
  const sets = Object.fromEntries(Object.entries(all).filter(([key]) => chosen.includes(key)));
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

/** Runs one process to its exit; its stderr is kept (aisc reports its peak RSS there). */
function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data) => (stderr += data));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(stderr) : reject(new Error(`${command} ${args.slice(0, 3).join(' ')} … failed (${status}): ${stderr}`))));
  });
}

/** A command, or several started at once (openssl per core): from the first start to the last exit. */
async function timeRun(commands) {
  const started = process.hrtime.bigint();
  const stderr = await Promise.all(commands.map(([command, args, env]) => run(command, args, env)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = /peak RSS (\d+) KiB/.exec(stderr.join(''));
  return { seconds, rssKiB: rss ? Number(rss[1]) : undefined };
}

/** Runs the commands in turn, `runs` rounds, so drift on the machine hits each alike; medians. */
async function interleaved(commands) {
  const samples = commands.map(() => []);
  for (let round = 0; round < runs; round++) for (const [i, group] of commands.entries()) samples[i].push(await timeRun(group));
  return samples.map((list) => {
    const sorted = [...list].sort((a, b) => a.seconds - b.seconds);
    return { seconds: sorted[Math.floor(sorted.length / 2)].seconds, min: sorted[0].seconds, max: sorted[sorted.length - 1].seconds, rssKiB: Math.max(...list.map((s) => s.rssKiB ?? 0)) };
  });
}

/** Reads the files once so every command finds them in the page cache. */
function warm(files) {
  for (let i = 0; i < files.length; i += 2000) spawnSync('cat', files.slice(i, i + 2000), { stdio: ['ignore', 'ignore', 'ignore'] });
}

const sets = generate();
console.log(`aisc hashing benchmark: ${cores} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.version}, median of ${runs} interleaved runs, warm page cache, load ${loadavg()[0].toFixed(2)} at start`);
if (!modelSigning) console.log('model_signing: skipped (set AISC_BENCH_MODEL_SIGNING)');
const table = [];
const verdicts = [];
let peak = 0;
for (const [key, set] of Object.entries(sets)) {
  const files = listFiles(set.dir);
  const lockfile = join(base, `${key}.lock.json`);
  rmSync(lockfile, { force: true });
  // Locked once for verify: files of two chunks or more get chunk digests (64 MiB chunks).
  await run(aisc, ['lock', set.dir, '--kind', 'model', '--name', 'bench', '--lockfile', lockfile]);
  warm(files);
  // Run as a user does (`npx aisc`): the executable itself, its shebang picking node from PATH.
  const commands = [
    [[aisc, ['verify', '--lockfile', lockfile], { AISC_REPORT_RSS: '1' }]],
    [[aisc, ['lock', set.dir, '--kind', 'model', '--name', 'bench', '--lockfile', join(base, `${key}.relock.json`)], { AISC_REPORT_RSS: '1' }]],
    opensslGroups(files),
    [['python3', ['-c', PYTHON_POOL, set.dir]]],
    [[process.execPath, [floor, set.dir]]],
    ...(modelSigning ? [[['python3', [driver, modelSigning, set.dir]]]] : []),
  ];
  const [verify, lock, openssl, pool, nodeFloor, ms] = await interleaved(commands);
  peak = Math.max(peak, verify.rssKiB, lock.rssKiB);
  const rate = (s) => `${(set.bytes / s / 1e9).toFixed(2)} GB/s`;
  const ratio = (a, b) => (b ? (a.seconds / b.seconds).toFixed(2) : '–');
  table.push({
    data: set.label,
    'aisc verify': `${verify.seconds.toFixed(3)} s (${rate(verify.seconds)})`,
    'aisc lock': `${lock.seconds.toFixed(3)} s`,
    model_signing: ms ? `${ms.seconds.toFixed(3)} s` : 'skipped',
    [`openssl ×${cores}`]: `${openssl.seconds.toFixed(3)} s`,
    'hashlib pool': `${pool.seconds.toFixed(3)} s`,
    'Node floor': `${nodeFloor.seconds.toFixed(3)} s`,
    'verify ÷ model_signing': ratio(verify, ms),
    'floor ÷ model_signing': ratio(nodeFloor, ms),
    'verify ÷ openssl': ratio(verify, openssl),
    'verify ÷ hashlib': ratio(verify, pool),
    'peak RSS verify / lock': `${(verify.rssKiB / 1024).toFixed(0)} / ${(lock.rssKiB / 1024).toFixed(0)} MB`,
  });
  const target = TARGETS[key];
  if (target?.ms !== undefined && ms) verdicts.push(`${set.label}: verify ${ratio(verify, ms)}× model_signing (target ≤ ${target.ms}): ${verify.seconds / ms.seconds <= target.ms ? 'met' : 'NOT met'}; the Node floor ${ratio(nodeFloor, ms)}×`);
  if (target?.openssl !== undefined) verdicts.push(`${set.label}: verify ${ratio(verify, openssl)}× ${cores} openssl at once (target ≤ ${target.openssl}): ${verify.seconds / openssl.seconds <= target.openssl ? 'met' : 'NOT met'}`);
}
console.table(table);
for (const line of verdicts) console.log(line);
console.log(`aisc peak RSS over all runs: ${(peak / 1024).toFixed(0)} MB (target ≤ 120 MB); load ${loadavg()[0].toFixed(2)} at the end`);
if (!keep) rmSync(base, { recursive: true, force: true });
