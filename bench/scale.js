// Scale benchmark: lock and verify of a dataset of 1,000,000 one-byte files (1,000 folders of
// 1,000), against a Python hashlib thread pool hashing the same files (what model_signing does),
// in the same run. Prints medians, the ratios, aisc's peak RSS and the lockfile's and manifest's
// sizes.
//
//   npm run bench:scale
//   AISC_BENCH_FILES=300000 AISC_BENCH_RUNS=5 npm run bench:scale
//   AISC_BENCH_DIR=/big/disk npm run bench:scale      # keeps the generated files for next time
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const count = Number(process.env.AISC_BENCH_FILES ?? 1_000_000);
const runs = Number(process.env.AISC_BENCH_RUNS ?? 3);
const keep = Boolean(process.env.AISC_BENCH_DIR);
const base = process.env.AISC_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'aisc-bench-scale-'));
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const data = join(base, `files-${count}`);

const PYTHON_POOL = `
import hashlib, os, sys
from concurrent.futures import ThreadPoolExecutor
def digest(path):
    with open(path, 'rb') as f:
        return path, hashlib.sha256(f.read()).hexdigest()
paths = sorted(os.path.join(d, n) for d, _, names in os.walk(sys.argv[1]) for n in names)
with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
    results = list(pool.map(digest, paths))
print(len(results))
`;

function generate() {
  const marker = join(data, '.complete');
  if (existsSync(marker)) return;
  for (let i = 0; i < count; i++) {
    const folder = join(data, `shard-${String(Math.floor(i / 1000)).padStart(4, '0')}`);
    if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${String(i).padStart(7, '0')}`), String.fromCharCode(97 + (i % 26)));
  }
  writeFileSync(marker, '');
}

function timeRun(command, args, env = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: base, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 2).join(' ')} … failed (${result.status}): ${result.stderr}`);
  const rss = /peak RSS (\d+) KiB/.exec(result.stderr ?? '');
  return { seconds, rssKiB: rss ? Number(rss[1]) : 0 };
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

generate();
// .complete sits beside the shards and is part of what is locked; nothing else is in the folder.
console.log(`aisc scale benchmark: ${count.toLocaleString('en')} files of 1 byte, ${cpus().length} cores, Node ${process.version}, median of ${runs} interleaved runs, warm page cache`);
const lockfile = join(base, 'scale.lock.json');
const samples = { lock: [], verify: [], python: [] };
for (let round = 0; round < runs; round++) {
  rmSync(lockfile, { force: true });
  samples.lock.push(timeRun(aisc, ['lock', data, '--kind', 'dataset', '--name', 'scale', '--lockfile', lockfile], { AISC_REPORT_RSS: '1' }));
  samples.verify.push(timeRun(aisc, ['verify', '--lockfile', lockfile], { AISC_REPORT_RSS: '1' }));
  samples.python.push(timeRun('python3', ['-c', PYTHON_POOL, data]));
}
const seconds = (name) => median(samples[name].map((s) => s.seconds));
const rss = (name) => Math.max(...samples[name].map((s) => s.rssKiB)) / 1024;
const manifests = join(base, '.aisc', 'manifests');
const manifestBytes = readdirSync(manifests).reduce((sum, name) => Math.max(sum, statSync(join(manifests, name)).size), 0);
console.table([
  { step: 'aisc lock', seconds: seconds('lock').toFixed(2), 'python pool ÷ aisc (speed)': (seconds('python') / seconds('lock')).toFixed(2), 'peak RSS': `${rss('lock').toFixed(0)} MB` },
  { step: 'aisc verify', seconds: seconds('verify').toFixed(2), 'python pool ÷ aisc (speed)': (seconds('python') / seconds('verify')).toFixed(2), 'peak RSS': `${rss('verify').toFixed(0)} MB` },
  { step: 'python hashlib pool (hash only)', seconds: seconds('python').toFixed(2), 'python pool ÷ aisc (speed)': '1.00', 'peak RSS': '' },
]);
console.log(`lockfile ${statSync(lockfile).size} bytes; manifest ${(manifestBytes / 1e6).toFixed(1)} MB (.aisc/manifests beside it)`);
if (!keep) rmSync(base, { recursive: true, force: true });
