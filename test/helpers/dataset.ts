import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A dataset of `count` small files in folders of 1,000, as real datasets are laid out. */
export function makeDataset(root: string, count: number, name = 'data'): string {
  const dir = join(root, name);
  for (let i = 0; i < count; i++) {
    const folder = join(dir, `shard-${String(Math.floor(i / 1000)).padStart(4, '0')}`);
    if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `sample-${String(i).padStart(7, '0')}.json`), `{"i":${i}}\n`);
  }
  return dir;
}
