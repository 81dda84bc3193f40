import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest, toManifestPath, writeManifest, type ManifestReader } from '../../src/lockfile/manifest.js';
import type { FileEntry } from '../../src/lockfile/types.js';
import { makeTempDir } from '../helpers/temp.js';

const files: FileEntry[] = [
  { path: 'a.safetensors', size: 3, sha256: 'a'.repeat(64), format: 'safetensors' },
  { path: 'b/c.json', size: 12, sha256: 'b'.repeat(64), format: 'json' },
  { path: 'd.bin', size: 0, sha256: 'c'.repeat(64) },
];

/** Reads manifests from memory: the bytes under test, pinned by their own digest. */
function pinned(text: string): { reader: ManifestReader; ref: { sha256: string; files: number; bytes: number } } {
  const data = Buffer.from(text, 'utf8');
  const sha256 = createHash('sha256').update(data).digest('hex');
  return { reader: (path) => (path === toManifestPath(sha256) ? Promise.resolve(data) : Promise.reject(new Error('not there'))), ref: { sha256, files: 3, bytes: data.length } };
}

describe('manifests', () => {
  it("round-trip files with their formats, '-' where the bytes were not read", async () => {
    const dir = makeTempDir();
    const ref = await writeManifest(dir, files);
    const text = readFileSync(join(dir, toManifestPath(ref.sha256)), 'utf8');
    expect(text.split('\n').slice(1, 4)).toEqual([`${'a'.repeat(64)} 3 safetensors a.safetensors`, `${'b'.repeat(64)} 12 json b/c.json`, `${'c'.repeat(64)} 0 - d.bin`]);
    const { reader } = pinned(text);
    expect(await readManifest(reader, ref, 'x')).toEqual(files);
  });

  it('v3 when a file was not inspected at lock (a Hub LFS file): the marker round-trips, v2 and v1 stay as they were', async () => {
    const dir = makeTempDir();
    const marked: FileEntry[] = [files[0] as FileEntry, files[1] as FileEntry, { ...(files[2] as FileEntry), inspected: false }];
    const ref = await writeManifest(dir, marked);
    const text = readFileSync(join(dir, toManifestPath(ref.sha256)), 'utf8');
    expect(text.split('\n').slice(0, 4)).toEqual([
      '# aisc manifest v3: sha256 size format inspected path, one file a line, in code-point order of path',
      `${'a'.repeat(64)} 3 safetensors yes a.safetensors`,
      `${'b'.repeat(64)} 12 json yes b/c.json`,
      `${'c'.repeat(64)} 0 - no d.bin`,
    ]);
    expect(await readManifest(pinned(text).reader, ref, 'x')).toEqual(marked);
    const edited = pinned(text.replace(' no d.bin', ' maybe d.bin'));
    await expect(readManifest(edited.reader, edited.ref, 'x')).rejects.toMatchObject({ code: 'LOCKFILE_INVALID' });
  });

  it('refuse a format the lockfile schema does not know, as they refuse any other bad line', async () => {
    const dir = makeTempDir();
    const ref = await writeManifest(dir, files);
    const text = readFileSync(join(dir, toManifestPath(ref.sha256)), 'utf8').replace(' json ', ' jsonx ');
    const edited = pinned(text);
    await expect(readManifest(edited.reader, edited.ref, 'x')).rejects.toMatchObject({ code: 'LOCKFILE_INVALID', message: expect.stringMatching(/line 3 has no known format$/) as unknown });
  });

  it('v4 when a file has chunk digests: they round-trip, and a list that does not cover the file exactly is refused', async () => {
    const dir = makeTempDir();
    const MiB = 1024 * 1024;
    const chunked: FileEntry[] = [files[0] as FileEntry, files[1] as FileEntry, { path: 'big.bin', size: 2 * MiB + 1, sha256: 'd'.repeat(64), format: 'unknown', chunks: { size: MiB, sha256: ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)] } }];
    const ref = await writeManifest(dir, chunked);
    const text = readFileSync(join(dir, toManifestPath(ref.sha256)), 'utf8');
    expect(text.split('\n').slice(0, 4)).toEqual([
      '# aisc manifest v4: sha256 size format inspected chunks path, one file a line, in code-point order of path',
      `${'a'.repeat(64)} 3 safetensors yes - a.safetensors`,
      `${'b'.repeat(64)} 12 json yes - b/c.json`,
      `${'d'.repeat(64)} ${2 * MiB + 1} unknown yes ${MiB}:${'1'.repeat(64)}${'2'.repeat(64)}${'3'.repeat(64)} big.bin`,
    ]);
    expect(await readManifest(pinned(text).reader, ref, 'x')).toEqual([chunked[0], chunked[1], chunked[2]]);
    const short = pinned(text.replace(`${'3'.repeat(64)} big.bin`, ' big.bin'));
    await expect(readManifest(short.reader, short.ref, 'x')).rejects.toMatchObject({ code: 'LOCKFILE_INVALID', message: expect.stringMatching(/line 4: chunks: expected 3 digests of 1048576-byte chunks to cover 2097153 bytes, got 2$/) as unknown });
    const odd = pinned(text.replace(`${MiB}:`, `${MiB + 1}:`));
    await expect(readManifest(odd.reader, odd.ref, 'x')).rejects.toMatchObject({ code: 'LOCKFILE_INVALID', message: expect.stringMatching(/chunks: expected a chunk size that is a power of two/) as unknown });
    const garbled = pinned(text.replace(`${MiB}:`, `${MiB}-`));
    await expect(readManifest(garbled.reader, garbled.ref, 'x')).rejects.toMatchObject({ code: 'LOCKFILE_INVALID', message: expect.stringMatching(/expected chunks "-" or "<size>:<sha256 hex>\.\.\.", got/) as unknown });
  });
});
