import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignShards } from '../../src/verify/shard.js';
import { runAisc } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { evilPickle, stateDictPickle } from '../helpers/pickles.js';
import { makeTempDir } from '../helpers/temp.js';
import { writeZip } from '../helpers/zips.js';

interface Report {
  ok: boolean;
  cache?: { hits: number; misses: number };
  shard?: { index: number; count: number; files: number; bytes: number; lockfileSha256: string };
  merged?: { parts: number; files: number };
  artifacts: { name: string; findings: { code: string; path?: string }[] }[];
  summary: { findings: number };
}

const json = (stdout: string): Report => JSON.parse(stdout) as Report;
const codes = (report: Report): string[] => report.artifacts.flatMap((a) => a.findings.map((f) => `${f.code} ${a.name}/${f.path ?? ''}`)).sort();

// A file changed in the last 2 s is not remembered (its ctime may not move on a write in the same tick).
const settle = () => sleep(2100);

describe('verify --cache DIR', () => {
  it('does not read unchanged files again, and still catches a rewrite that restores the mtime', async () => {
    const dir = makeTempDir();
    makeModel(dir);
    writeFileSync(join(dir, 'tiny', 'pytorch_model.bin'), writeZip([{ name: 'archive/data.pkl', data: stateDictPickle() }, { name: 'archive/data/0', data: Buffer.alloc(64, 1) }]));
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { kind: model }\n    require: { denyFormats: [pickle] }\n');
    expect(runAisc(['lock', 'tiny', '--kind', 'model', '--policy', 'aisc.policy.yaml'], dir).status).toBe(1);
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\n');
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { kind: model }\n    require: { denyFormats: [pickle] }\n');
    await settle();
    const verify = () => json(runAisc(['verify', '--cache', 'cache', '--format', 'json'], dir).stdout);

    const first = verify();
    expect(first.cache).toMatchObject({ hits: 0, misses: 6 });
    const second = verify();
    expect(second.cache).toMatchObject({ hits: 6, misses: 0 });
    // What was judged from the bytes (a pickle checkpoint the policy denies) is judged the same from the record.
    expect(codes(second)).toEqual(codes(first));
    expect(codes(second)).toEqual(['POLICY_FORMAT tiny/']);
    expect(statSync(join(dir, 'cache')).mode & 0o777).toBe(0o700);

    // Same size, other bytes, mtime put back: the ctime moved, so it is read again.
    const config = join(dir, 'tiny', 'config.json');
    const before = statSync(config, { bigint: true });
    writeFileSync(config, readFileSync(config, 'utf8').replace('16', '17'));
    // touch sets the nanoseconds too: the mtime is exactly what it was.
    execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${String(before.mtimeNs % 1_000_000_000n).padStart(9, '0')}`, config]);
    expect(statSync(config, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    const rewritten = verify();
    expect(rewritten.cache).toMatchObject({ hits: 5, misses: 1 });
    expect(codes(rewritten)).toContain('DIGEST_MISMATCH tiny/config.json');

    // Another file moved into place (a new inode) is read too.
    writeFileSync(config, '{"hidden_size": 16}\n');
    writeFileSync(join(dir, 'swap'), readFileSync(join(dir, 'tiny', 'tokenizer.json')));
    renameSync(join(dir, 'swap'), join(dir, 'tiny', 'tokenizer.json'));
    expect(verify().cache).toMatchObject({ misses: 2 });
  });

  it('starts afresh from a cache it cannot read, and refuses a folder others may write', async () => {
    const dir = makeTempDir();
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    await settle();
    expect(runAisc(['verify', '--cache', 'cache'], dir).status).toBe(0);
    writeFileSync(join(dir, 'cache', 'verify-cache.v1.jsonl'), '{"aiscVerifyCache":1}\n[not json\n["x"]\n');
    const garbled = runAisc(['verify', '--cache', 'cache', '--format', 'json'], dir);
    expect(garbled.status).toBe(0);
    expect(json(garbled.stdout).cache).toMatchObject({ hits: 0, misses: 5 });

    mkdirSync(join(dir, 'shared'));
    chmodSync(join(dir, 'shared'), 0o777);
    const unsafe = runAisc(['verify', '--cache', 'shared'], dir);
    expect(unsafe.status).toBe(2);
    expect(unsafe.stderr).toMatch(/^aisc: CACHE_UNSAFE --cache: .*shared: the folder must be owned by this user and writable by no one else: its mode 777 lets others write it \(chmod go-w\)/);
  });

  it('says a --cache that is a file is not a folder, and keeps the verdict when the cache cannot be saved', () => {
    const dir = makeTempDir();
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    writeFileSync(join(dir, 'a-file'), 'x');
    const file = runAisc(['verify', '--cache', 'a-file'], dir);
    expect(file.stderr).toBe('aisc: USAGE --cache a-file: not a folder (it, or a folder above it, is a file)\n');
    expect(file.status).toBe(2);

    // A cache folder nothing can be written into (immutable, so root too is refused): the files
    // are verified, and the report says the cache was not saved, with the verify's own exit code.
    mkdirSync(join(dir, 'frozen'), { mode: 0o700 });
    execFileSync('chattr', ['+i', join(dir, 'frozen')]);
    try {
      const frozen = runAisc(['verify', '--cache', 'frozen'], dir);
      expect(frozen.stdout).toMatch(/^cache: not saved, the next verify reads these files again: WRITE_FAILED .*frozen\/verify-cache\.v1\.jsonl: cannot write the verify cache \(EPERM\)/m);
      expect(frozen.stdout).toContain('verified 1 artifact');
      expect(frozen.status).toBe(0);
      writeFileSync(join(dir, 'tiny', 'config.json'), '{"changed": true}\n');
      expect(runAisc(['verify', '--cache', 'frozen'], dir).status).toBe(1);
    } finally {
      execFileSync('chattr', ['-i', join(dir, 'frozen')]);
    }
  });
});

describe('verify --shard I/N and aisc report merge', () => {
  it('splits the files into disjoint, size-balanced parts, the same on every run', () => {
    const sizes = [900, 10, 500, 500, 400, 100, 100, 1, 0, 250];
    const keys = sizes.map((_, i) => `f${i}`);
    const parts = assignShards(sizes, keys, 3);
    expect([...assignShards(sizes, keys, 3)]).toEqual([...parts]);
    const loads = [1, 2, 3].map((part) => sizes.reduce((sum, size, i) => sum + (parts[i] === part ? size : 0), 0));
    expect(loads.reduce((a, b) => a + b)).toBe(2761);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(900);
    expect([...assignShards([5], ['only'], 4)]).toEqual([1]);
  });

  it('gives items of no bytes to the lightest part without moving any other: files the ignore globs leave out cannot shift a share', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { maxLength: 40 }), fc.nat({ max: 5 }), fc.integer({ min: 1, max: 6 }), (sizes, extra, count) => {
        const keys = sizes.map((_, i) => `k${String(i).padStart(3, '0')}`);
        const alone = assignShards(sizes, keys, count);
        const withZeros = assignShards([...sizes, ...new Array<number>(extra).fill(0)], [...keys, ...Array.from({ length: extra }, (_, i) => `z${i}`)], count);
        expect([...withZeros.slice(0, sizes.length)]).toEqual([...alone]);
        const loads = Array.from({ length: count }, (_, p) => sizes.reduce((sum, size, i) => sum + (alone[i] === p + 1 ? size : 0), 0));
        const lightest = loads.indexOf(Math.min(...loads)) + 1;
        expect([...withZeros.slice(sizes.length)].every((part) => part === lightest)).toBe(true);
      }),
    );
  });

  it('merges the parts into one verdict, a finding once however many parts saw it', () => {
    const dir = makeTempDir();
    makeModel(dir, 'a');
    makeModel(dir, 'b');
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(200_000, 3));
    for (const [path, kind] of [['a', 'model'], ['b', 'model'], ['big.bin', 'dataset']] as const) expect(runAisc(['lock', path, '--kind', kind], dir).status).toBe(0);
    const part = (i: number, n = 3): Report => {
      const result = runAisc(['verify', '--shard', `${i}/${n}`, '--format', 'json'], dir);
      writeFileSync(join(dir, `part${i}of${n}.json`), result.stdout);
      return json(result.stdout);
    };
    const parts = [1, 2, 3].map((i) => part(i));
    expect(parts.map((p) => p.ok)).toEqual([true, true, true]);
    expect(parts.reduce((sum, p) => sum + (p.shard?.files ?? 0), 0)).toBe(11);
    expect(parts[0]?.shard?.files).toBe(1); // the 200 KB file alone balances the rest
    expect(new Set(parts.map((p) => p.shard?.lockfileSha256)).size).toBe(1);
    const merge = (...names: string[]) => runAisc(['report', 'merge', ...names], dir);
    const all = ['part1of3.json', 'part2of3.json', 'part3of3.json'];
    expect(merge(...all)).toMatchObject({ status: 0, stdout: expect.stringContaining('verified 3 artifacts, 11 files, ') as unknown });
    expect(merge(...all).stdout).toContain('(3 parts merged: 11 files,');

    writeFileSync(join(dir, 'b', 'config.json'), '{"hidden_size": 61}\n');
    writeFileSync(join(dir, 'a', 'stray.txt'), 'x');
    const tampered = [1, 2, 3].map((i) => part(i));
    // The changed file is hashed by one part; the stray file every part sees.
    expect(tampered.filter((p) => codes(p).includes('DIGEST_MISMATCH b/config.json'))).toHaveLength(1);
    expect(tampered.every((p) => codes(p).includes('EXTRA_FILE a/stray.txt'))).toBe(true);
    const merged = runAisc(['report', 'merge', ...all, '--format', 'json'], dir);
    expect(merged.status).toBe(1);
    expect(codes(json(merged.stdout))).toEqual(['DIGEST_MISMATCH b/config.json', 'EXTRA_FILE a/stray.txt']);
    expect(json(merged.stdout)).toMatchObject({ summary: { findings: 2 }, merged: { parts: 3, files: 11 } });

    // A part missing, given twice, of another split or another lockfile, or no part at all: exit 2.
    expect(merge('part1of3.json', 'part3of3.json')).toMatchObject({ status: 2, stderr: 'aisc: REPORTS_INCOMPLETE part 2/3 not given: its files are unverified\n' });
    expect(merge('part1of3.json', 'part1of3.json', 'part2of3.json', 'part3of3.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORTS_MISMATCH part1of3\.json: part 1\/3 is also part1of3\.json/) as unknown });
    part(1, 2);
    expect(merge('part1of2.json', 'part2of3.json', 'part3of3.json').stderr).toMatch(/^aisc: REPORTS_MISMATCH part2of3\.json: is part 2 of 3; part1of2\.json is part of 2/);
    // Parts of another lockfile: the lockfile merged against is the one in the checkout, by SHA-256.
    const before = readFileSync(join(dir, 'aisc.lock.json'));
    expect(runAisc(['lock', 'big.bin', '--kind', 'dataset', '--name', 'again'], dir).status).toBe(0);
    expect(merge(...all).stderr).toMatch(/^aisc: REPORTS_MISMATCH part1of3\.json: verified another lockfile \(sha256 [0-9a-f]{64}\) than aisc\.lock\.json \(sha256 [0-9a-f]{64}\)\n$/);
    part(2);
    writeFileSync(join(dir, 'before.lock.json'), before);
    expect(merge(...all, '--lockfile', 'before.lock.json').stderr).toMatch(/^aisc: REPORTS_MISMATCH part2of3\.json: verified another lockfile/);
    writeFileSync(join(dir, 'whole.json'), runAisc(['verify', '--format', 'json'], dir).stdout);
    expect(merge('whole.json').stderr).toMatch(/^aisc: REPORT_INVALID whole\.json: not the report of a part/);
    // A part's report is read strictly: a finding aisc does not know, or not a finding at all, is refused, never rendered.
    const good = JSON.parse(readFileSync(join(dir, 'part1of3.json'), 'utf8')) as Report & { artifacts: { findings: unknown[] }[] };
    for (const [name, finding] of [['unknown-code.json', { code: 'BOGUS', message: 'm' }], ['null-finding.json', null], ['no-message.json', { code: 'EXTRA_FILE' }]] as const) {
      const bad = structuredClone(good);
      bad.artifacts[0]?.findings.push(finding);
      writeFileSync(join(dir, name), JSON.stringify(bad));
      for (const format of ['human', 'sarif', 'github']) {
        expect(runAisc(['report', 'merge', name, '--format', format], dir)).toMatchObject({ status: 2, stderr: expect.stringMatching(new RegExp(`^aisc: REPORT_INVALID ${name.replace('.', '\\.')}: artifacts\\[0\\]\\.findings\\[\\d+\\]: expected a finding with a known code and a message\\n$`)) as unknown });
      }
    }
    for (const bad of ['0/3', '4/3', '1/0', 'x', '1/3/5']) expect(runAisc(['verify', '--shard', bad], dir)).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: SHARD_INVALID /) as unknown });
  });

  describe('refuses parts that do not add up to the lockfile', () => {
    /** A lockfile of one artifact of six files of different sizes, and the json reports of a 3-part verify of it. */
    function threeParts(): { dir: string; read: (i: number) => Record<string, unknown> & { shard: Record<string, unknown> }; write: (name: string, report: unknown) => void; merge: (...args: string[]) => ReturnType<typeof runAisc> } {
      const dir = makeTempDir();
      mkdirSync(join(dir, 'six'));
      for (let i = 1; i <= 6; i++) writeFileSync(join(dir, 'six', `f${i}.bin`), Buffer.alloc(i * 1000, i));
      expect(runAisc(['lock', 'six', '--kind', 'dataset'], dir).status).toBe(0);
      for (const i of [1, 2, 3]) {
        const result = runAisc(['verify', '--shard', `${i}/3`, '--format', 'json'], dir);
        expect(result.status).toBe(0);
        writeFileSync(join(dir, `part${i}.json`), result.stdout);
      }
      return {
        dir,
        read: (i) => JSON.parse(readFileSync(join(dir, `part${i}.json`), 'utf8')) as Record<string, unknown> & { shard: Record<string, unknown> },
        write: (name, report) => writeFileSync(join(dir, name), JSON.stringify(report)),
        merge: (...args) => runAisc(['report', 'merge', ...args], dir),
      };
    }

    it('merges the honest parts: every one of the 6 files owned by exactly one part', () => {
      const { read, merge } = threeParts();
      const shares = [1, 2, 3].map((i) => read(i).shard);
      expect(shares.reduce((sum, s) => sum + Number(s.files), 0)).toBe(6);
      expect(shares.reduce((sum, s) => sum + Number(s.bytes), 0)).toBe(21_000);
      expect(new Set(shares.map((s) => s.filesSha256)).size).toBe(3);
      expect(merge('part1.json', 'part2.json', 'part3.json')).toMatchObject({ status: 0, stdout: expect.stringContaining('verified 1 artifact, 6 files, ') as unknown });
    });

    it('a count edited from 3 to 2 in two parts: the split of the lockfile into 2 is another one', () => {
      const { read, write, merge } = threeParts();
      for (const i of [1, 2]) {
        const report = read(i);
        write(`edited${i}.json`, { ...report, shard: { ...report.shard, count: 2 } });
      }
      const result = merge('edited1.json', 'edited2.json');
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^aisc: REPORT_INVALID edited1\.json: part 1\/2 of aisc\.lock\.json owns \d+ files, \d+ bytes; the report says \d+ files, \d+ bytes/);
      expect(result.stdout).toBe('');
    });

    it('a part that says it owns no files, or other files, or is another part', () => {
      const { read, write, merge } = threeParts();
      const second = read(2);
      write('none.json', { ...second, shard: { ...second.shard, files: 0, bytes: 0 } });
      expect(merge('part1.json', 'none.json', 'part3.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORT_INVALID none\.json: part 2\/3 of aisc\.lock\.json owns [1-9]\d* files, [1-9]\d* bytes; the report says 0 files, 0 bytes\n$/) as unknown });
      write('other-set.json', { ...second, shard: { ...second.shard, filesSha256: (read(3).shard.filesSha256 as string) } });
      expect(merge('part1.json', 'other-set.json', 'part3.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORT_INVALID other-set\.json: .*\(other files: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)\n$/) as unknown });
      // Parts 1 and 2 each relabelled as the other: every number is a real part's, but not that part's.
      const first = read(1);
      write('as2.json', { ...first, shard: { ...first.shard, index: 2 } });
      write('as1.json', { ...second, shard: { ...second.shard, index: 1 } });
      expect(merge('as1.json', 'as2.json', 'part3.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORT_INVALID as1\.json: part 1\/3 /) as unknown });
      // An artifact left out of a part's list, though every other field is intact.
      write('no-artifacts.json', { ...second, artifacts: [] });
      expect(merge('part1.json', 'no-artifacts.json', 'part3.json')).toMatchObject({ status: 2, stderr: 'aisc: REPORT_INVALID no-artifacts.json: expected every artifact aisc.lock.json pins, once each; the report leaves out "six"\n' });
      // A report made before parts recorded which files they own is not a part's report.
      const old = { ...second.shard };
      delete old.filesSha256;
      write('old.json', { ...second, shard: old });
      expect(merge('part1.json', 'old.json', 'part3.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORT_INVALID old\.json: not the report of a part/) as unknown });
    });

    it('a missing part, a duplicated part, parts of another lockfile, no lockfile', () => {
      const { dir, merge } = threeParts();
      expect(merge('part1.json', 'part2.json')).toMatchObject({ status: 2, stderr: 'aisc: REPORTS_INCOMPLETE part 3/3 not given: its files are unverified\n' });
      expect(merge('part1.json', 'part2.json', 'part2.json', 'part3.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORTS_MISMATCH part2\.json: part 2\/3 is also part2\.json/) as unknown });
      writeFileSync(join(dir, 'other.lock.json'), readFileSync(join(dir, 'aisc.lock.json'), 'utf8').replace('"six"', '"six-renamed"'));
      expect(merge('part1.json', 'part2.json', 'part3.json', '--lockfile', 'other.lock.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORTS_MISMATCH part1\.json: verified another lockfile .* than other\.lock\.json/) as unknown });
      expect(merge('part1.json', 'part2.json', 'part3.json', '--lockfile', 'none.lock.json')).toMatchObject({ status: 2, stderr: expect.stringMatching(/^aisc: REPORT_INVALID none\.lock\.json: no such lockfile/) as unknown });
    });

    it('a file the ignore globs leave out is read by one part, and the shares still add up', () => {
      const dir = makeTempDir();
      mkdirSync(join(dir, 'six'));
      for (let i = 1; i <= 6; i++) writeFileSync(join(dir, 'six', `f${i}.bin`), Buffer.alloc(i * 1000, i));
      expect(runAisc(['lock', 'six', '--kind', 'dataset', '--ignore', '*.pkl'], dir).status).toBe(0);
      writeFileSync(join(dir, 'six', 'left-out.pkl'), evilPickle());
      const parts = [1, 2, 3].map((i) => {
        const result = runAisc(['verify', '--shard', `${i}/3`, '--format', 'json'], dir);
        writeFileSync(join(dir, `part${i}.json`), result.stdout);
        return json(result.stdout);
      });
      expect(parts.filter((p) => codes(p).includes('PICKLE_UNSAFE six/left-out.pkl'))).toHaveLength(1);
      expect(parts.reduce((sum, p) => sum + (p.shard?.files ?? 0), 0)).toBe(6);
      const merged = runAisc(['report', 'merge', 'part1.json', 'part2.json', 'part3.json', '--format', 'json'], dir);
      expect(merged.status).toBe(1);
      expect(codes(json(merged.stdout))).toEqual(['PICKLE_UNSAFE six/left-out.pkl']);
    });

    it('a file missing on the machines is a finding of the part that owns it, and the shares still add up', () => {
      const { dir, merge } = threeParts();
      rmSync(join(dir, 'six', 'f6.bin'));
      for (const i of [1, 2, 3]) writeFileSync(join(dir, `part${i}.json`), runAisc(['verify', '--shard', `${i}/3`, '--format', 'json'], dir).stdout);
      const merged = merge('part1.json', 'part2.json', 'part3.json', '--format', 'json');
      expect(merged.status).toBe(1);
      expect(codes(json(merged.stdout))).toEqual(['MISSING_FILE six/f6.bin']);
      expect(json(merged.stdout).merged).toMatchObject({ parts: 3, files: 6 });
    });
  });
});
