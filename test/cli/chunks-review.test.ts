import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAisc } from '../helpers/cli.js';
import { chunkDigests, CHUNKED, lockedModel, MiB, readLock, sha256, weightsOf, type LockedFile } from '../helpers/chunked-model.js';


const POLICY = `version: 1
reviewers:
  alice: { key: keys/alice.pub, groups: [ml-security] }
approvals:
  - on: [weights-changed, files-changed]
    require: { count: 1, from: [ml-security] }
`;

describe('chunk digests under review: a change to them is a change to the file', () => {
  function reviewed(): { dir: string; weights: Buffer; file: string } {
    const locked = lockedModel();
    mkdirSync(join(locked.dir, 'keys'));
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(locked.dir, 'keys', 'alice.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(locked.dir, 'aisc.policy.yaml'), POLICY);
    copyFileSync(join(locked.dir, 'aisc.lock.json'), join(locked.dir, 'base.lock.json'));
    return locked;
  }

  it('chunk digests of tampered bytes under the approved SHA-256 show in aisc diff and need the approvals a weight change needs', () => {
    const { dir, weights, file } = reviewed();
    // The attack: other bytes, the approved sha256 kept, chunk digests made to match the new bytes.
    const tampered = Buffer.from(weights);
    tampered[3 * MiB] = (tampered[3 * MiB] ?? 0) ^ 0xff;
    writeFileSync(file, tampered);
    const lock = readLock(dir);
    (weightsOf(lock) as LockedFile).chunks = { size: MiB, sha256: chunkDigests(tampered) };
    writeFileSync(join(dir, 'aisc.lock.json'), JSON.stringify(lock, null, 2));
    // Verify alone trusts the lockfile it is given: the chunks match the bytes.
    expect(runAisc(['verify'], dir).status).toBe(0);
    const diff = runAisc(['diff', 'base.lock.json', 'aisc.lock.json'], dir);
    expect(diff.status).toBe(0);
    expect(diff.stdout).toMatch(/weights-changed model: weights: 1 modified \(same SHA-256, other chunk digests: weights\.bin\)/);
    expect(diff.stdout).toContain('~ weights.bin (12.0 MiB → 12.0 MiB); same SHA-256, chunk digests changed (verify checks the chunks: make sure they are of these bytes)');
    const json = JSON.parse(runAisc(['diff', 'base.lock.json', 'aisc.lock.json', '--format', 'json'], dir).stdout) as { changes: { class: string; files: { before: { chunks: string }; after: { chunks: string; sha256: string } }[] }[] };
    expect(json.changes).toEqual([expect.objectContaining({ class: 'weights-changed', files: [expect.objectContaining({ before: expect.objectContaining({ sha256: sha256(weights) }) as unknown, after: expect.objectContaining({ sha256: sha256(weights) }) as unknown })] })]);
    const gated = runAisc(['verify', '--base', 'base.lock.json', '--format', 'json'], dir);
    expect(gated.status).toBe(1);
    const report = JSON.parse(gated.stdout) as { gate: { findings: { code: string; artifact: string; message: string }[] } };
    expect(report.gate.findings).toEqual([expect.objectContaining({ code: 'APPROVALS_MISSING', artifact: 'model', message: expect.stringMatching(/^weights-changed on model needs 1 approval/) as unknown })]);
  });

  it('chunk digests appearing where there were none, same SHA-256, are a change too', () => {
    const { dir } = lockedModel({});
    copyFileSync(join(dir, 'aisc.lock.json'), join(dir, 'base.lock.json'));
    expect(runAisc(['lock', 'model', '--kind', 'model'], dir, CHUNKED).status).toBe(0);
    const diff = runAisc(['diff', 'base.lock.json', 'aisc.lock.json'], dir);
    expect(diff.stdout).toContain('same SHA-256, chunk digests added');
    // The same artifact under a new name is not "the same files" when its chunks moved.
    const lock = readLock(dir);
    const renamed = { lockfileVersion: 1, artifacts: { moved: lock.artifacts.model } };
    writeFileSync(join(dir, 'renamed.lock.json'), JSON.stringify(renamed));
    const moved = runAisc(['diff', 'base.lock.json', 'renamed.lock.json'], dir);
    expect(moved.stdout).toMatch(/artifact-added +moved/);
    expect(moved.stdout).not.toMatch(/artifact-renamed/);
  });
});
