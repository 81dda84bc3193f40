import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeSafetensors } from '../../examples/make-example.js';

/** A small model folder: two safetensors shards, config, tokenizer; returns its path. */
export function makeModel(root: string, name = 'tiny'): string {
  const dir = join(root, name);
  const files: Record<string, string | Buffer> = {
    'config.json': '{"hidden_size": 16}\n',
    'tokenizer.json': '{"model": {"type": "BPE"}}\n',
    'model-00001-of-00002.safetensors': makeSafetensors({ 'a.weight': { dtype: 'F32', shape: [16, 16] } }, 1),
    'model-00002-of-00002.safetensors': makeSafetensors({ 'b.weight': { dtype: 'F16', shape: [16, 32] } }, 2),
    'nested/deeper/notes.txt': 'release notes\n',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
