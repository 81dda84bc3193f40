import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLockWriter } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp.js';

// `npm run test:slow`: 160 writer processes, so not in `npm test` (CI runs both).
describe('lockfile writes, raced', () => {
  // Before the fix, a takeover deleted the stale lock by path and could delete a live one: about
  // one round in three lost an artifact, every writer exiting 0.
  it('loses no artifact when eight writers race over a stale lock, 20 rounds in a row', async () => {
    const host = (await import('node:os')).hostname();
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (let round = 0; round < 20; round++) {
      const dir = makeTempDir();
      const lockfile = join(dir, 'aisc.lock.json');
      writeFileSync(`${lockfile}.lock`, `999999999@${host}\n`);
      writeFileSync(join(dir, '.aisc.lock.json.999999998.0badc0de.tmp'), 'left by a killed writer');
      const codes = await Promise.all(names.map((name) => runLockWriter(lockfile, name)));
      expect(codes).toEqual(names.map(() => 0));
      const lockfileText = JSON.parse(readFileSync(lockfile, 'utf8')) as { artifacts: Record<string, unknown> };
      expect({ round, names: Object.keys(lockfileText.artifacts) }).toEqual({ round, names });
      expect(readdirSync(dir)).toEqual(['aisc.lock.json']);
    }
  }, 300_000);
});
