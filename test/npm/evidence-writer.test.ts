import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvidenceWriter, toEvidenceText, type NpmEvidence } from '../../src/npm/evidence.js';
import { makeTempDir } from '../helpers/temp.js';

const evidenceOf = (version: string): NpmEvidence => ({ evidenceVersion: 1, package: 'left-pad', version, integrity: `sha512-${version}`, registry: 'https://registry.npmjs.org/' });
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('EvidenceWriter: npm evidence written on its own thread, in place only on commit', () => {
  it('puts each file under the SHA-256 of its bytes on commit, and leaves no temp file', async () => {
    const dir = makeTempDir();
    const writer = new EvidenceWriter(join(dir, 'aisc.lock.json'));
    const digests = ['1.0.0', '1.0.1', '1.0.0'].map((version) => writer.add(evidenceOf(version)));
    expect(digests[0]).toBe(digests[2]);
    await writer.commit();
    const folder = join(dir, '.aisc', 'evidence');
    expect(readdirSync(folder).sort()).toEqual([...new Set(digests)].map((digest) => `${digest}.json`).sort());
    for (const digest of digests) expect(sha256(readFileSync(join(folder, `${digest}.json`), 'utf8'))).toBe(digest);
    expect(readFileSync(join(folder, `${digests[1]}.json`), 'utf8')).toBe(toEvidenceText(evidenceOf('1.0.1')));
  });

  it('on discard removes what it wrote and the folders it made, and keeps what was there', async () => {
    const fresh = makeTempDir();
    const first = new EvidenceWriter(join(fresh, 'aisc.lock.json'));
    first.add(evidenceOf('1.0.0'));
    await first.discard();
    expect(readdirSync(fresh)).toEqual([]);

    const kept = makeTempDir();
    const folder = join(kept, '.aisc', 'evidence');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'other.json'), '{}\n');
    const second = new EvidenceWriter(join(kept, 'aisc.lock.json'));
    second.add(evidenceOf('1.0.0'));
    await second.discard();
    expect(readdirSync(folder)).toEqual(['other.json']);
  });

  it('keeps an identical file as it is and replaces a different one under the same name', async () => {
    const dir = makeTempDir();
    const folder = join(dir, '.aisc', 'evidence');
    mkdirSync(folder, { recursive: true });
    const same = toEvidenceText(evidenceOf('1.0.0'));
    const damaged = toEvidenceText(evidenceOf('2.0.0'));
    writeFileSync(join(folder, `${sha256(same)}.json`), same);
    writeFileSync(join(folder, `${sha256(damaged)}.json`), 'truncated');
    const inode = statSync(join(folder, `${sha256(same)}.json`)).ino;
    const writer = new EvidenceWriter(join(dir, 'aisc.lock.json'));
    writer.add(evidenceOf('1.0.0'));
    writer.add(evidenceOf('2.0.0'));
    await writer.commit();
    expect(statSync(join(folder, `${sha256(same)}.json`)).ino).toBe(inode);
    expect(readFileSync(join(folder, `${sha256(damaged)}.json`), 'utf8')).toBe(damaged);
    expect(readdirSync(folder)).toHaveLength(2);
  });

  it('fails the commit with WRITE_FAILED when the folder cannot be made', async () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, '.aisc'), 'a file where the folder would go');
    const writer = new EvidenceWriter(join(dir, 'aisc.lock.json'));
    writer.add(evidenceOf('1.0.0'));
    await expect(writer.commit()).rejects.toMatchObject({ code: 'WRITE_FAILED', message: expect.stringMatching(/cannot write the npm evidence \(.*ENOTDIR\)/) as string });
    expect(existsSync(join(dir, '.aisc'))).toBe(true);
  });

  it('writes nothing for a package judged after the lock failed', async () => {
    const dir = makeTempDir();
    const writer = new EvidenceWriter(join(dir, 'aisc.lock.json'));
    writer.add(evidenceOf('1.0.0'));
    await writer.discard();
    writer.add(evidenceOf('1.0.1'));
    await writer.commit();
    expect(existsSync(join(dir, '.aisc'))).toBe(false);
  });
});
