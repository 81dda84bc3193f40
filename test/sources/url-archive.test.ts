import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { makeSafetensors } from '../../examples/make-example.js';
import { errorLines, runAiscAsync } from '../helpers/cli.js';
import { evilPickle } from '../helpers/pickles.js';
import { startRegistry, type LoopbackServer } from '../helpers/registry-server.js';
import { makeTempDir } from '../helpers/temp.js';

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

interface Member {
  path: string;
  /** 0 file, 1 hard link, 2 symlink, 3 char device, 5 folder, 6 FIFO, x pax header */
  type?: '0' | '1' | '2' | '3' | '5' | '6' | 'x';
  /** The header's size field, when it is to say other than the content's length. */
  size?: number;
  content?: string | Buffer;
  link?: string;
}

/** A tar written byte by byte (ustar headers), so hostile members can be made that no tool writes. */
function makeTar(members: Member[]): Buffer {
  return Buffer.concat([makeMembers(members), Buffer.alloc(1024)]);
}

/** One pax record, `<length> <key>=<value>\n`, its length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return `${length}${body}`;
}

/** Members without the end-of-archive blocks. */
function makeMembers(members: Member[]): Buffer {
  const blocks: Buffer[] = [];
  for (const member of members) {
    const content = Buffer.from(member.content ?? '');
    const header = Buffer.alloc(512);
    header.write(member.path, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${(member.size ?? content.length).toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write(member.type ?? '0', 156);
    header.write(member.link ?? '', 157, 100, 'utf8');
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  return Buffer.concat(blocks);
}

const WEIGHTS = makeSafetensors({ w: { dtype: 'F16', shape: [2, 3] } }, 1);
const MODEL: Member[] = [
  { path: 'tiny/', type: '5' },
  { path: 'tiny/config.json', content: '{"hidden_size": 4}\n' },
  { path: 'tiny/weights/model.safetensors', content: WEIGHTS },
  { path: './tiny/tokenizer.json', content: '{"model": {}}\n' },
];

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('archives: every member hashed as the archive streams, never extracted', () => {
  it('locks a .tar.gz as its members, verifies the kept archive, and an extracted copy with --artifact', async () => {
    const dir = makeTempDir();
    const archive = gzipSync(makeTar(MODEL));
    writeFileSync(join(dir, 'tiny.tar.gz'), archive);
    const result = await runAiscAsync(['lock', 'tiny.tar.gz', '--kind', 'model'], dir);
    expect(result.stderr).toBe('');
    const artifact = (JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, { source: unknown; files: unknown[] }> }).artifacts.tiny;
    expect(artifact?.source).toEqual({ type: 'archive', path: 'tiny.tar.gz', sha256: sha256(archive), size: archive.length, compression: 'gzip' });
    expect(artifact?.files).toEqual([
      { path: 'tiny/config.json', size: 19, sha256: sha256('{"hidden_size": 4}\n'), format: 'json' },
      { path: 'tiny/tokenizer.json', size: 14, sha256: sha256('{"model": {}}\n'), format: 'json' },
      { path: 'tiny/weights/model.safetensors', size: WEIGHTS.length, sha256: sha256(WEIGHTS), format: 'safetensors' },
    ]);
    expect((await runAiscAsync(['verify'], dir)).status).toBe(0);
    // Extracted with the same bytes: verify the folder against the members.
    for (const member of MODEL.filter((m) => m.type !== '5')) {
      mkdirSync(join(dir, 'out', member.path, '..'), { recursive: true });
      writeFileSync(join(dir, 'out', member.path), member.content ?? '');
    }
    expect((await runAiscAsync(['verify', '--artifact', 'tiny=out'], dir)).status).toBe(0);
    writeFileSync(join(dir, 'out', 'tiny', 'config.json'), '{"hidden_size": 5}\n');
    const changed = await runAiscAsync(['verify', '--artifact', 'tiny=out'], dir);
    expect(changed.status).toBe(1);
    expect(changed.stdout).toMatch(/DIGEST_MISMATCH.*tiny\/config\.json/);
    // The kept archive itself, altered by one byte.
    const altered = Buffer.from(archive);
    altered.writeUInt8(altered.readUInt8(altered.length - 9) ^ 1, altered.length - 9);
    writeFileSync(join(dir, 'tiny.tar.gz'), altered);
    const tampered = await runAiscAsync(['verify'], dir);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(/DIGEST_MISMATCH.*tiny\.tar\.gz/);
  });

  it.each<[string, Member[], RegExp]>([
    ['a ".." member', [{ path: '../evil.sh', content: 'x' }], /member "\.\.\/evil\.sh" would be written outside the folder/],
    ['an absolute member', [{ path: '/etc/cron.d/evil', content: 'x' }], /member "\/etc\/cron\.d\/evil" would be written outside the folder/],
    ['a symlink leaving the archive', [{ path: 'model/link', type: '2', link: '../../etc/passwd' }], /member "model\/link" is a link leaving the archive/],
    ['an absolute symlink', [{ path: 'link', type: '2', link: '/etc/passwd' }], /member "link" is a link leaving the archive/],
    ['a member under a link', [{ path: 'dir', type: '2', link: 'real' }, { path: 'real/', type: '5' }, { path: 'dir/x', content: 'x' }], /member "dir\/x" lies under the link "dir"/],
    ['a device', [{ path: 'dev/null', type: '3' }], /member "dev\/null" is a device/],
    ['a FIFO', [{ path: 'pipe', type: '6' }], /member "pipe" is a FIFO/],
    ['a path given twice', [{ path: 'a.json', content: '1' }, { path: 'a.json', content: '2' }], /member "a\.json" appears twice/],
  ])('refuses %s: exit 1, naming it, nothing written', async (_what, members, message) => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'aisc.lock.json'), '{\n  "artifacts": {},\n  "lockfileVersion": 1\n}\n');
    const before = readFileSync(join(dir, 'aisc.lock.json'));
    writeFileSync(join(dir, 'bad.tar'), makeTar([{ path: 'ok.json', content: '{}' }, ...members]));
    const result = await runAiscAsync(['lock', 'bad.tar', '--kind', 'model'], dir);
    expect(result.status).toBe(1);
    const lines = errorLines(result);
    expect(lines[0]).toMatch(/^aisc: ARCHIVE_UNSAFE bad\.tar: /);
    expect(lines[0]).toMatch(message);
    expect(readFileSync(join(dir, 'aisc.lock.json')).equals(before)).toBe(true);
    expect(existsSync(join(dir, 'ok.json'))).toBe(false);
  });

  it('a corrupt archive is ARCHIVE_INVALID (exit 1)', async () => {
    const dir = makeTempDir();
    const tar = makeTar([{ path: 'a.json', content: '{}' }]);
    tar[148] = 0x39;
    writeFileSync(join(dir, 'bad.tar'), tar);
    const result = await runAiscAsync(['lock', 'bad.tar', '--kind', 'model'], dir);
    expect(result.status).toBe(1);
    expect(errorLines(result)[0]).toMatch(/^aisc: ARCHIVE_INVALID bad\.tar: not a readable tar archive/);
  });
});

describe('archives that readers would read differently, or that end early, are refused with a code (never exit 3)', () => {
  const tar = makeTar(MODEL);
  it.each<[string, string, Buffer, RegExp]>([
    ['a .tar cut off inside a member', 'ARCHIVE_INVALID', tar.subarray(0, 1300), /ends inside the member "tiny\/config\.json"/],
    ['a .tar cut off inside a header', 'ARCHIVE_INVALID', tar.subarray(0, 512 + 100), /ends inside a header/],
    ['a .tar.gz cut off', 'ARCHIVE_INVALID', gzipSync(tar).subarray(0, 60), /gzip stream ends early|not a readable gzip stream/],
    ['a .tar.gz without its gzip trailer', 'ARCHIVE_INVALID', gzipSync(tar).subarray(0, gzipSync(tar).length - 4), /gzip stream ends early/],
    ['an all-zero .tar', 'ARCHIVE_INVALID', Buffer.alloc(10240), /holds no member/],
    ['a pax size larger than the member', 'ARCHIVE_UNSAFE', makeTar([{ path: 'PaxHeader', type: 'x', content: paxRecord('size', '999999') }, { path: 'a.json', content: '{"a": 1}' }]), /pax size 999999 .* header says 8/],
    ['a pax size past the end of the archive', 'ARCHIVE_INVALID', makeTar([{ path: 'PaxHeader', type: 'x', content: paxRecord('size', '999999') }, { path: 'a.json', content: '', size: 0 }]), /ends inside the member "a\.json"/],
    ['a pax record whose length lies', 'ARCHIVE_INVALID', makeTar([{ path: 'PaxHeader', type: 'x', content: '99 size=3\n' }, { path: 'a.json', content: '{"a": 1}' }]), /malformed pax record/],
    ['a member after the end-of-archive blocks', 'ARCHIVE_TRAILING_DATA', Buffer.concat([tar, makeMembers([{ path: 'tiny/evil.sh', content: 'rm -rf ~' }])]), /bytes after the end of the tar archive/],
    ['a member after one zero block', 'ARCHIVE_TRAILING_DATA', Buffer.concat([makeMembers(MODEL), Buffer.alloc(512), makeMembers([{ path: 'tiny/evil.sh', content: 'rm -rf ~' }]), Buffer.alloc(1024)]), /bytes after the end of the tar archive/],
    ['a second gzip member', 'ARCHIVE_TRAILING_DATA', Buffer.concat([gzipSync(tar), gzipSync(makeTar([{ path: 'tiny/evil.sh', content: 'rm -rf ~' }]))]), /after the first gzip member/],
    ['bytes after the gzip member', 'ARCHIVE_TRAILING_DATA', Buffer.concat([gzipSync(tar), Buffer.from('trailing')]), /after the first gzip member/],
  ])('%s: exit 1, %s', async (_what, code, bytes, message) => {
    const dir = makeTempDir();
    const name = bytes[0] === 0x1f ? 'bad.tar.gz' : 'bad.tar';
    writeFileSync(join(dir, name), bytes);
    const result = await runAiscAsync(['lock', name, '--kind', 'model'], dir);
    expect(result.status).toBe(1);
    const lines = errorLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^aisc: ${code} bad\\.tar(\\.gz)?: `));
    expect(lines[0]).toMatch(message);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });

  it('zero padding after the end-of-archive blocks (a 10 KiB record) is not trailing data', async () => {
    const dir = makeTempDir();
    const padded = Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))]);
    writeFileSync(join(dir, 'tiny.tar'), padded);
    const result = await runAiscAsync(['lock', 'tiny.tar', '--kind', 'model'], dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('flags that would do nothing for a source are refused', () => {
  it.each([
    [['lock', 'hf://acme/tiny', '--ignore', '*.bin'], 'aisc: USAGE --ignore: for folders on disk; hf://acme/tiny is locked whole (select files with --include/--exclude)'],
    [['lock', 'tiny.tar.gz', '--ignore', '*.json'], 'aisc: USAGE --ignore: for folders on disk; tiny.tar.gz is locked whole'],
    [['lock', 'https://example.com/w.safetensors', '--include', '*.json'], 'aisc: USAGE --include/--exclude: for hf:// sources, not https://example.com/w.safetensors'],
    [['lock', 'https://example.com/w.safetensors', '--ignore', 'x'], 'aisc: USAGE --ignore: for folders on disk; https://example.com/w.safetensors is locked whole'],
  ])('%j: exit 2, one line, nothing read', async (args, line) => {
    const dir = makeTempDir();
    writeFileSync(join(dir, 'tiny.tar.gz'), gzipSync(makeTar(MODEL)));
    const result = await runAiscAsync(args, dir);
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([line]);
    expect(existsSync(join(dir, 'aisc.lock.json'))).toBe(false);
  });
});

describe('https:// URLs: hashed while they download, kept with --path, fetched again', () => {
  it('locks a file with its URL, size, SHA-256 and ETag; fetch restores it; verify passes offline', async () => {
    const dir = makeTempDir();
    const body = makeSafetensors({ lora_A: { dtype: 'F32', shape: [256, 128] } }, 3);
    server = await startRegistry({
      '/models/adapter.safetensors': (_request, response) => void response.writeHead(200, { etag: '"v1"', 'content-length': String(body.length) }).end(body),
    });
    const url = `${server.url}models/adapter.safetensors`;
    const result = await runAiscAsync(['lock', url, '--path', 'adapters/adapter.safetensors', '--kind', 'adapter'], dir);
    expect(result.stderr).toBe('');
    expect(readFileSync(join(dir, 'adapters', 'adapter.safetensors')).equals(body)).toBe(true);
    const artifact = (JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, { source: unknown; files: unknown[]; layout: string }> })['artifacts']['adapter.safetensors'];
    expect(artifact?.source).toEqual({ type: 'url', url, etag: '"v1"', path: 'adapters/adapter.safetensors' });
    expect(artifact?.files).toEqual([{ path: 'adapter.safetensors', size: body.length, sha256: sha256(body), format: 'safetensors' }]);
    rmSync(join(dir, 'adapters'), { recursive: true });
    const fetched = await runAiscAsync(['fetch'], dir);
    expect(fetched.stdout).toContain('(1 downloaded, 0 already present and correct)');
    await server.close();
    server = undefined;
    expect((await runAiscAsync(['verify'], dir)).status).toBe(0);
  });

  it('refuses plain http to another host (exit 2) and a server that now serves other bytes (exit 1, nothing kept)', async () => {
    const dir = makeTempDir();
    const plain = await runAiscAsync(['lock', 'http://example.com/model.bin'], dir);
    expect(plain.status).toBe(2);
    expect(errorLines(plain)).toEqual(['aisc: USAGE aisc lock: http://example.com/model.bin: plain http is refused, https is required (http only for loopback hosts)']);
    let content = 'first bytes';
    server = await startRegistry({ '/f.json': (_request, response) => void response.writeHead(200).end(content) });
    expect((await runAiscAsync(['lock', `${server.url}f.json`, '--path', 'f.json', '--kind', 'tokenizer'], dir)).status).toBe(0);
    rmSync(join(dir, 'f.json'));
    content = 'other bytes';
    const fetched = await runAiscAsync(['fetch'], dir);
    expect(fetched.status).toBe(1);
    expect(errorLines(fetched)[0]).toMatch(/^aisc: CONTENT_MISMATCH f\.json: http:\/\/127\.0\.0\.1:\d+\/f\.json: the bytes served are not what is locked/);
    expect(readdirSync(dir).sort()).toEqual(['aisc.lock.json']);
  });

  it('--path outside the lockfile\'s folder is refused before any download (fetch could not write it again)', async () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, 'project'));
    server = await startRegistry({ '/f.json': (_request, response) => void response.writeHead(200).end('{}') });
    const result = await runAiscAsync(['lock', `${server.url}f.json`, '--path', '../f.json', '--kind', 'tokenizer'], join(dir, 'project'));
    expect(result.status).toBe(2);
    expect(errorLines(result)).toEqual([`aisc: PATH_INVALID --path ../f.json: aisc keeps a download only under the lockfile's folder (${join(dir, 'project')}), where aisc fetch can write it again; it would be recorded as "../f.json", which has a '..' segment`]);
    expect(server.hits.size).toBe(0);
    expect(existsSync(join(dir, 'f.json'))).toBe(false);
  });

  it('locks a .tgz from a URL as its members', async () => {
    const dir = makeTempDir();
    const archive = gzipSync(makeTar(MODEL));
    server = await startRegistry({ '/dl/tiny.tgz': (_request, response) => void response.writeHead(200).end(archive) });
    const result = await runAiscAsync(['lock', `${server.url}dl/tiny.tgz`, '--kind', 'model', '--path', 'tiny.tgz'], dir);
    expect(result.stderr).toBe('');
    const artifact = (JSON.parse(readFileSync(join(dir, 'aisc.lock.json'), 'utf8')) as { artifacts: Record<string, { source: unknown; files: unknown[] }> }).artifacts.tiny;
    expect(artifact?.source).toEqual({ type: 'archive', url: `${server.url}dl/tiny.tgz`, path: 'tiny.tgz', sha256: sha256(archive), size: archive.length, compression: 'gzip' });
    expect(artifact?.files).toHaveLength(3);
    expect((await runAiscAsync(['verify'], dir)).status).toBe(0);
  });
});

describe('aisc fetch of an https:// artifact: the content gate where the bytes land', () => {
  it('a pickle that runs os.system, locked with --force, is refused at fetch (exit 1) and not kept; a policy that allows its import lets it land', async () => {
    const dir = makeTempDir();
    const evil = evilPickle();
    server = await startRegistry({ '/m/pytorch_model.bin': (_request, response) => void response.writeHead(200).end(evil) });
    const url = `${server.url}m/pytorch_model.bin`;
    // What is at --path before a lock stays there until the lock is recorded.
    mkdirSync(join(dir, 'w'));
    writeFileSync(join(dir, 'w', 'pytorch_model.bin'), 'the file that was here');
    const refused = await runAiscAsync(['lock', url, '--kind', 'model', '--path', 'w/pytorch_model.bin'], dir);
    expect(refused.status).toBe(1);
    expect(errorLines(refused)[0]).toMatch(/^aisc: PICKLE_UNSAFE .*posix\.system/);
    // The download staged for --path is gone and what was there is untouched: the lock refused it.
    expect(readdirSync(join(dir, 'w'))).toEqual(['pytorch_model.bin']);
    expect(readFileSync(join(dir, 'w', 'pytorch_model.bin'), 'utf8')).toBe('the file that was here');
    rmSync(join(dir, 'w'), { recursive: true });
    const again = await runAiscAsync(['lock', url, '--kind', 'model', '--path', 'w/pytorch_model.bin'], dir);
    expect(again.status).toBe(1);
    expect(existsSync(join(dir, 'w', 'pytorch_model.bin'))).toBe(false);
    expect((await runAiscAsync(['lock', url, '--kind', 'model', '--path', 'w/pytorch_model.bin', '--force'], dir)).status).toBe(0);
    rmSync(join(dir, 'w'), { recursive: true });

    const fetched = await runAiscAsync(['fetch'], dir);
    expect(fetched.status).toBe(1);
    expect(errorLines(fetched)).toEqual(['aisc: PICKLE_UNSAFE pytorch_model.bin: pytorch_model.bin: a pickle imports posix.system, which can run code when it is loaded; not placed']);
    // Nothing of it: the folder made for it is empty (no file, no partial download).
    expect(readdirSync(join(dir, 'w'))).toEqual([]);

    writeFileSync(join(dir, 'aisc.policy.yaml'), 'version: 1\nrules:\n  - match: { kind: model }\n    allow: { pickleImports: [posix.system] }\n');
    const allowed = await runAiscAsync(['fetch'], dir);
    expect(allowed.stderr).toBe('');
    expect(allowed.status).toBe(0);
    expect(readFileSync(join(dir, 'w', 'pytorch_model.bin')).equals(evil)).toBe(true);
  });
});
