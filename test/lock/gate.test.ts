import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockArtifacts } from '../../src/lock/index.js';
import { errorLines, runAisc } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp.js';

function project(): string {
  const dir = makeTempDir();
  for (const folder of ['data', 'data-evil']) {
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'train.jsonl'), '{"x": 1}\n');
  }
  writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { kind: dataset }\n    require: { sources: ["./data"] }\n');
  return dir;
}

describe('policy sources gate aisc lock before any hashing', () => {
  // Before: "./data" admitted ./data-evil/x (a string prefix), and it was judged after hashing.
  it('refuses a sibling folder that only shares a prefix, exit 1, nothing written', () => {
    const dir = project();
    const result = runAisc(['lock', 'data-evil', '--kind', 'dataset'], dir);
    expect(result.status).toBe(1);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^aisc: POLICY_VIOLATION data-evil: rule 1 \(.*\): allows sources \.\/data; locked from data-evil \(aisc\.policy\.yaml; nothing was read or downloaded;/)]);
    expect(runAisc(['lock', 'data', '--kind', 'dataset'], dir).status).toBe(0);
  });

  it('decides before a byte is hashed', async () => {
    const dir = project();
    let hashing = false;
    const lock = lockArtifacts([join(dir, 'data-evil')], { lockfile: join(dir, 'aisc.lock.json'), kind: 'dataset', policy: join(dir, 'aisc.policy.yaml'), onHashing: () => (hashing = true) });
    await expect(lock).rejects.toMatchObject({ code: 'POLICY_VIOLATION' });
    expect(hashing).toBe(false);
  });
});
