// `npm start`: the main job on the bundled example, in a temporary folder (no tracked file is
// touched): init, lock a model, a tokenizer, an adapter and a dataset, verify; then tamper with one
// weight shard and add a stray file, and show verify catching both. Exits non-zero if aisc does not
// behave as described.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExample } from './make-example.js';

const aisc = fileURLToPath(new URL('../bin/aisc.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'aisc-example-'));
const paths = makeExample(root);

function run(args, expected) {
  console.log(`\n$ aisc ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [aisc, ...args], { cwd: root, encoding: 'utf8' });
  process.stdout.write(result.stdout);
  process.stdout.write(result.stderr);
  console.log(`(exit ${result.status})`);
  if (result.status !== expected) {
    console.error(`\nexample failed: expected exit ${expected}, got ${result.status}`);
    process.exit(1);
  }
}

try {
  console.log(`Example deployment in ${root}`);
  run(['init'], 0);
  run(['lock', paths.model, '--kind', 'model', '--name', 'tiny-llama'], 0);
  run(['lock', paths.tokenizer, '--kind', 'tokenizer'], 0);
  run(['lock', paths.adapter, '--kind', 'adapter', '--depends-on', 'tiny-llama'], 0);
  run(['lock', paths.dataset, '--kind', 'dataset'], 0);
  run(['verify'], 0);

  console.log('\n# Now an attacker flips one byte in a weight shard and drops a pickle beside it:');
  const shard = join(root, paths.model, 'model-00002-of-00002.safetensors');
  const bytes = readFileSync(shard);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(shard, bytes);
  writeFileSync(join(root, paths.model, 'pytorch_model.bin'), 'not really a pickle');
  run(['verify'], 1);
  console.log('\nThe example behaved as expected: the untouched deployment verified, the tampered one failed.');
} finally {
  if (!process.env.AISC_KEEP_EXAMPLE) rmSync(root, { recursive: true, force: true });
}
