import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getLockfileValidator } from '../../src/lockfile/schema.js';
import { parseLockfile, readLockfile } from '../../src/lockfile/read.js';
import { toLockfileText } from '../../src/lockfile/write.js';
import { sampleLockfile } from '../helpers/lockfile.js';
import { makeTempDir } from '../helpers/temp.js';

const text = (value: unknown): string => JSON.stringify(value, null, 2);

function withArtifact(change: (artifact: Record<string, unknown>) => void): string {
  const lockfile = sampleLockfile() as unknown as { artifacts: { tiny: Record<string, unknown> } };
  change(lockfile.artifacts.tiny);
  return text(lockfile);
}

describe('parseLockfile', () => {
  it('says every problem in one line, even of a key that holds a line break', async () => {
    const lockfile = sampleLockfile() as unknown as { artifacts: Record<string, unknown> };
    lockfile.artifacts['a\nb: forged line'] = { ...(lockfile.artifacts['tiny'] as object), kind: 'bogus' };
    const error = (await parseLockfile(text(lockfile), 'aisc.lock.json').catch((e: unknown) => e)) as { code: string; message: string; problems?: string[] };
    expect(error.code).toBe('LOCKFILE_INVALID');
    for (const line of [error.message, ...(error.problems ?? [])]) expect(line).not.toMatch(/[\n\r]/);
    expect(error.message).toContain('"a\\nb: forged line"');
  });

  it('round-trips chunk digests: the schema takes them, the reader checks them, the canonical bytes keep them', async () => {
    const MiB = 1024 * 1024;
    const lockfile = sampleLockfile();
    const weights = lockfile.artifacts.tiny?.files[1];
    if (!weights) throw new Error('sample has no weights');
    weights.size = 2 * MiB + 1;
    weights.chunks = { size: MiB, sha256: ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)] };
    const parsed = await parseLockfile(text(lockfile), 'aisc.lock.json');
    expect(parsed.artifacts.get('tiny')).toEqual(lockfile.artifacts.tiny);
    const canonical = toLockfileText(parsed);
    expect(canonical).toContain(`"chunks": {\n            "sha256": [\n              "${'1'.repeat(64)}",`);
    expect(toLockfileText(await parseLockfile(canonical, 'aisc.lock.json'))).toBe(canonical);
    // The lockfile's digest (what approvals bind) covers them.
    weights.chunks.sha256[2] = '4'.repeat(64);
    expect(toLockfileText(await parseLockfile(text(lockfile), 'aisc.lock.json'))).not.toBe(canonical);
  });

  it('accepts a valid lockfile', async () => {
    const { artifacts } = sampleLockfile();
    await expect(parseLockfile(text(sampleLockfile()), 'aisc.lock.json')).resolves.toEqual({ lockfileVersion: 1, artifacts: new Map(Object.entries(artifacts)) });
  });

  it.each([
    ['empty file', '', 'LOCKFILE_EMPTY'],
    ['whitespace only', '  \n', 'LOCKFILE_EMPTY'],
    ['malformed JSON', '{"lockfileVersion": 1,', 'JSON_INVALID'],
    ['not an object', '[]', 'LOCKFILE_INVALID'],
    ['unknown lockfileVersion', '{"lockfileVersion": 2, "artifacts": {}}', 'LOCKFILE_VERSION_UNSUPPORTED'],
    ['missing lockfileVersion', '{"artifacts": {}}', 'LOCKFILE_VERSION_UNSUPPORTED'],
    ['duplicate artifact names', '{"lockfileVersion": 1, "artifacts": {"a": {}, "a": {}}}', 'JSON_DUPLICATE_KEY'],
    ['unknown top-level key', '{"lockfileVersion": 1, "artifacts": {}, "extra": true}', 'LOCKFILE_INVALID'],
    ['a path with ..', withArtifact((a) => ((a.files as { path: string }[])[0]!.path = '../../etc/passwd')), 'LOCKFILE_INVALID'],
    ['an absolute path', withArtifact((a) => ((a.files as { path: string }[])[0]!.path = '/etc/passwd')), 'LOCKFILE_INVALID'],
    ['a backslash path', withArtifact((a) => ((a.files as { path: string }[])[0]!.path = 'a\\b')), 'LOCKFILE_INVALID'],
    ['a NUL in a path', withArtifact((a) => ((a.files as { path: string }[])[0]!.path = 'a\u0000b')), 'LOCKFILE_INVALID'],
    ['an empty segment', withArtifact((a) => ((a.files as { path: string }[])[0]!.path = 'a//b')), 'LOCKFILE_INVALID'],
    ['a duplicate file path', withArtifact((a) => ((a.files as { path: string }[])[1]!.path = 'config.json')), 'LOCKFILE_INVALID'],
    ['a bad digest', withArtifact((a) => (a.digest = 'XYZ')), 'LOCKFILE_INVALID'],
    ['an unknown kind', withArtifact((a) => (a.kind = 'virus')), 'LOCKFILE_INVALID'],
    ['a negative size', withArtifact((a) => ((a.files as { size: number }[])[0]!.size = -1)), 'LOCKFILE_INVALID'],
    ['two files for layout file', withArtifact((a) => (a.layout = 'file')), 'LOCKFILE_INVALID'],
  ])('rejects %s', async (_name, input, code) => {
    await expect(parseLockfile(input, 'aisc.lock.json')).rejects.toMatchObject({ code });
  });

  it('reports every schema problem, not just the first', async () => {
    const input = withArtifact((a) => {
      a.kind = 'virus';
      a.digest = 'short';
      (a.files as { sha256: string }[])[0]!.sha256 = 'nothex';
    });
    const error = (await parseLockfile(input, 'aisc.lock.json').catch((e: unknown) => e)) as { code: string; message: string; problems: string[] };
    expect(error.code).toBe('LOCKFILE_INVALID');
    const all = [error.message, ...error.problems].join('\n');
    expect(all).toContain('/artifacts/tiny/kind');
    expect(all).toContain('/artifacts/tiny/digest');
    expect(all).toContain('/artifacts/tiny/files/0/sha256');
  });
});

describe('readLockfile', () => {
  it('names a missing lockfile', async () => {
    await expect(readLockfile(join(makeTempDir(), 'nope.json'))).rejects.toMatchObject({ code: 'LOCKFILE_NOT_FOUND' });
  });

  it('refuses a folder and non-UTF-8 bytes', async () => {
    const dir = makeTempDir();
    await expect(readLockfile(dir)).rejects.toMatchObject({ code: 'LOCKFILE_UNREADABLE' });
    writeFileSync(join(dir, 'bad.json'), Buffer.from([0x7b, 0xff, 0x7d]));
    await expect(readLockfile(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'LOCKFILE_UNREADABLE' });
  });
});

describe('the build-time validator', () => {
  it('agrees with the committed JSON Schema on valid and mutated lockfiles', async () => {
    const schema = JSON.parse(readFileSync(new URL('../../lockfiles/aisc.lock.schema.json', import.meta.url), 'utf8')) as object;
    const reference = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
    const built = await getLockfileValidator();
    const mutation = fc.record({
      key: fc.constantFrom('kind', 'layout', 'digest', 'files', 'source', 'ignore', 'dependsOn', 'format', 'extra'),
      value: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.array(mutation, { maxLength: 3 }), (mutations) => {
        const lockfile = sampleLockfile() as unknown as { artifacts: { tiny: Record<string, unknown> } };
        for (const { key, value } of mutations) lockfile.artifacts.tiny[key] = value;
        return built(lockfile) === reference(lockfile);
      }),
    );
  });
});
