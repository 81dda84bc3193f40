// Cost of telling formats from bytes: the hash workers with and without inspection, on the same
// files in the same run (the inspection reads no byte twice: it rides the chunks being hashed).
// Data: a 1 GiB safetensors file, a 1 GiB PyTorch zip checkpoint written as torch.save writes it
// (stored members with data descriptors: the zip walker follows every byte), 512 MiB of random
// .bin, and 5,000 small JSON files. Prints medians and the ratio.
//
//   npm run bench:scan            AISC_BENCH_RUNS=5 npm run bench:scan
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { HashPool } from '../dist/hashing/index.js';
import { walkTree } from '../dist/sources/walk.js';

const MiB = 1024 * 1024;
const runs = Number(process.env.AISC_BENCH_RUNS ?? 3);
const base = mkdtempSync(join(tmpdir(), 'aisc-scan-bench-'));

function writeStream(path, chunks) {
  const fd = openSync(path, 'w');
  for (const chunk of chunks) writeSync(fd, chunk);
  closeSync(fd);
}

function* random(bytes) {
  const block = Buffer.allocUnsafe(16 * MiB);
  for (let done = 0; done < bytes; done += block.length) {
    randomFillSync(block, 0, 4096);
    yield block.subarray(0, Math.min(block.length, bytes - done));
  }
}

function safetensors(bytes) {
  const data = bytes - 4096;
  let header = JSON.stringify({ w: { dtype: 'F32', shape: [data / 4], data_offsets: [0, data] } });
  header += ' '.repeat(4096 - 8 - header.length);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  return [Buffer.concat([prefix, Buffer.from(header)]), ...random(data)];
}

function* checkpoint(bytes) {
  const members = [['archive/data.pkl', Buffer.from('80027d71002e', 'hex')], ['archive/data/0', null]];
  const central = [];
  let offset = 0;
  for (const [name, content] of members) {
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(0x808, 6);
    local.writeUInt16LE(Buffer.byteLength(name), 26);
    yield Buffer.concat([local, Buffer.from(name)]);
    let size = 0;
    let crc = 0;
    for (const chunk of content ? [content] : random(bytes)) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      yield chunk;
    }
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc, 4);
    descriptor.writeUInt32LE(size, 8);
    descriptor.writeUInt32LE(size, 12);
    yield descriptor;
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(0x808, 8);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(size, 20);
    header.writeUInt32LE(size, 24);
    header.writeUInt16LE(Buffer.byteLength(name), 28);
    header.writeUInt32LE(offset, 42);
    central.push(Buffer.concat([header, Buffer.from(name)]));
    offset += 30 + Buffer.byteLength(name) + size + 16;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length, 8);
  end.writeUInt16LE(central.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  yield Buffer.concat([cd, end]);
}

try {
  const dir = join(base, 'model');
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeStream(join(dir, 'model.safetensors'), safetensors(1024 * MiB));
  writeStream(join(dir, 'pytorch_model.bin'), checkpoint(1024 * MiB - 200));
  writeStream(join(dir, 'extra.bin'), random(512 * MiB));
  for (let i = 0; i < 5000; i++) writeFileSync(join(dir, 'data', `${i}.json`), JSON.stringify({ id: i, text: 'x'.repeat(200) }));
  const entries = walkTree(dir, { ignore: () => false }).filter((e) => e.type === 'file');
  const jobs = (inspect) => entries.map((e) => ({ path: e.path, root: dir, expectedSize: e.size, followSymlinks: false, inspect }));
  const pool = new HashPool();
  const time = async (inspect) => {
    const start = process.hrtime.bigint();
    const results = await pool.hash(jobs(inspect));
    if (results.some((r) => !r.ok)) throw new Error('a file failed to hash');
    if (inspect && results.some((r) => r.inspection?.pickles?.some((p) => p.problems.length > 0))) throw new Error('benign data judged unsafe');
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  await time(false); // warm the page cache and the workers
  const plain = [];
  const inspected = [];
  for (let i = 0; i < runs; i++) {
    plain.push(await time(false));
    inspected.push(await time(true));
  }
  await pool.close();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [p, s] = [median(plain), median(inspected)];
  console.log(`scan cost: ${entries.length} files, 2.5 GiB, ${pool.size} hashing threads (this one and the workers), median of ${runs}`);
  console.log(`  hash only           ${p.toFixed(2)} s`);
  console.log(`  hash + inspect      ${s.toFixed(2)} s   (${((s / p - 1) * 100).toFixed(1)}% added; target at most 10%)`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
