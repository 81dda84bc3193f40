// `npm start`: the main job on the bundled example, in a temporary folder (no tracked file is
// touched): init, lock a model, a tokenizer, an adapter and a dataset, verify; then tamper with one
// weight shard and add a stray file, and show verify catching both. Then verify this project's own
// npm dependencies offline (lockfiles/aisc.lock.json and its evidence, copied) and catch an edited
// package-lock.json. Exits non-zero if aisc does not behave as described.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  console.log("\n# npm dependencies: aisc's own package-lock.json, locked in lockfiles/ with its registry evidence, verified offline:");
  const repo = fileURLToPath(new URL('..', import.meta.url));
  cpSync(join(repo, 'package-lock.json'), join(root, 'app', 'package-lock.json'));
  cpSync(join(repo, 'lockfiles'), join(root, 'app', 'lockfiles'), { recursive: true });
  const npmArgs = ['--lockfile', 'app/lockfiles/aisc.lock.json', '--policy', 'app/lockfiles/aisc.policy.yaml'];
  run(['verify', ...npmArgs], 0);
  console.log('\n# Now the package-lock.json is edited to install other bytes for one package:');
  const lockPath = join(root, 'app', 'package-lock.json');
  const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  lock.packages['node_modules/semver'].integrity = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;
  writeFileSync(lockPath, JSON.stringify(lock, null, 2));
  run(['verify', ...npmArgs], 1);
  console.log('\nThe example behaved as expected: the untouched deployment verified, the tampered one failed.');
} finally {
  if (!process.env.AISC_KEEP_EXAMPLE) rmSync(root, { recursive: true, force: true });
}
