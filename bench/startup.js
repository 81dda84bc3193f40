// Start-up benchmark: `aisc --version` and `aisc verify` of a one-file lockfile against `node -e 0`
// (the same Node), in the same run. Targets: within 2× and 5× of node -e 0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.env.AISC_BENCH_RUNS ?? 21);
const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aisc-bench-'));
writeFileSync(join(dir, 'weights.bin'), 'x'.repeat(1024));

function time(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

time([aisc, 'lock', 'weights.bin', '--kind', 'model']);
const commands = { 'node -e 0': ['-e', '0'], 'aisc --version': [aisc, '--version'], 'aisc verify (1 file)': [aisc, 'verify'] };
const samples = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
for (let round = 0; round < runs + 2; round++) {
  for (const [name, args] of Object.entries(commands)) {
    const seconds = time(args);
    if (round >= 2) samples[name].push(seconds); // two warm-up rounds
  }
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const base = median(samples['node -e 0']);
console.log(`aisc start-up benchmark: Node ${process.version}, median of ${runs} interleaved runs`);
console.table(
  Object.entries(samples).map(([name, list]) => ({
    command: name,
    median: `${(median(list) * 1000).toFixed(1)} ms`,
    '÷ node -e 0': (median(list) / base).toFixed(2),
    target: name === 'aisc --version' ? '≤ 2' : name === 'node -e 0' ? '' : '≤ 5',
  })),
);
rmSync(dir, { recursive: true, force: true });
