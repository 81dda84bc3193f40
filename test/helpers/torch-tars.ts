import { op, pickle } from './pickles.js';

/**
 * PyTorch's oldest format (torch.save before 0.4), written byte by byte as it wrote it: a tar of
 * `sys_info`, `pickle`, `tensors` and `storages`, each pickle protocol 2. No torch since can write
 * it; torch 1.13's `_legacy_load` still reads it.
 */
export function tarOf(members: [name: string, data: Buffer][]): Buffer {
  const parts = members.flatMap(([name, data]) => [tarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  header.fill(0x20, 148, 156);
  const sum = header.reduce((a, b) => a + b, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

const TUPLE3 = Buffer.from([0x87]);

export const legacy = {
  sysInfo: () => pickle(op.proto(2), op.emptyDict(), op.stop()),
  /** `pickle_module.dump(len(...), f)`. */
  count: (n: number) => pickle(op.proto(2), Buffer.from([0x4a]), i32(n), op.stop()),
  /** `(key, location, storage_type)`, as save_storages dumped it. */
  storageArgs: (key: string, type = 'FloatStorage', module = 'torch') => pickle(op.proto(2), op.unicode(key), op.unicode('cpu'), op.global(module, type), TUPLE3, op.binput(0), op.stop()),
  /** `storage._write_file(f)`: an int64 element count, then the elements. */
  storageData: (count: bigint | number, data: Buffer) => Buffer.concat([i64(BigInt(count)), data]),
  /** The storage views list that ends `storages`. */
  views: () => pickle(op.proto(2), Buffer.from(']'), op.stop()),
  /** `(key, storage_id, type(tensor))`, as save_tensors dumped it. */
  tensorArgs: (key: string, storageId: string, type = 'FloatTensor') => pickle(op.proto(2), op.unicode(key), op.unicode(storageId), op.global('torch', type), TUPLE3, op.stop()),
  /** `tensor._write_metadata(f)`: ndim (int32, then 4 bytes of padding), sizes, strides, storage offset. */
  tensorMeta: (sizes: number[], strides: number[], offset = 0) => Buffer.concat([i32(sizes.length), Buffer.alloc(4), ...[...sizes, ...strides, offset].map((n) => i64(BigInt(n)))]),
};

export function float32(values: number[]): Buffer {
  return Buffer.from(Float32Array.from(values).buffer);
}

/** IEEE half precision of small integers and simple fractions (exact for what the tests use). */
export function float16(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => {
    const f = Buffer.alloc(4);
    f.writeFloatLE(v);
    const bits = f.readUInt32LE();
    const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    const half = v === 0 ? 0 : ((bits >>> 16) & 0x8000) | (exponent << 10) | ((bits >>> 13) & 0x3ff);
    b.writeUInt16LE(half, i * 2);
  });
  return b;
}

function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

function i64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt.asIntN(64, n));
  return b;
}

export const ones = (n: number): Buffer => float32(Array.from({ length: n }, () => 1));
/** 0x655 elements: the count's bytes are SHORT_BINSTRING of its own six zero bytes, and the data goes on as a pickle. */
const OPCODE_COUNT = 0x655;
const opcodeLike = (head: Buffer, count: number) => Buffer.concat([op.pop(), head, Buffer.alloc(count * 4 - head.length - 1)]);

export function legacyTar(storages: Buffer[], tensors: Buffer[] = [legacy.count(0)]): Buffer {
  return tarOf([
    ['sys_info', legacy.sysInfo()],
    ['pickle', pickle(op.proto(2), op.emptyDict(), op.stop())],
    ['tensors', Buffer.concat(tensors)],
    ['storages', Buffer.concat(storages)],
  ]);
}

/** Storages whose raw bytes read as opcodes: PROTO 0x3f (bfloat16 ones), NONE STOP, a GLOBAL with its lines. */
export function benignStorages(evil: Buffer): Buffer[] {
  return [
    legacy.count(4),
    legacy.storageArgs('0'),
    legacy.storageData(OPCODE_COUNT, opcodeLike(evil, OPCODE_COUNT)),
    legacy.storageArgs('1', 'BFloat16Storage'),
    legacy.storageData(4, Buffer.from('803f803f803f803f', 'hex')),
    legacy.storageArgs('2', 'HalfStorage'),
    legacy.storageData(3, float16([1, 2, 0.5])),
    legacy.storageArgs('3', 'DoubleStorage'),
    legacy.storageData(2, Buffer.from(Float64Array.from([1, -2]).buffer)),
    legacy.views(),
  ];
}

export function benignTensors(): Buffer[] {
  return [legacy.count(2), legacy.tensorArgs('10', '0'), legacy.tensorMeta([2, 2], [2, 1]), legacy.tensorArgs('11', '2', 'HalfTensor'), legacy.tensorMeta([3], [1])];
}

/**
 * One legacy tar per way `legacy_load` can be led, named after it; `evil` is a pickle that imports
 * something refused. What torch 1.13 reaches in each is what the tests expect aisc to reach.
 */
export function legacyTarCases(evil: Buffer): Record<string, Buffer> {
  const empty = Buffer.alloc(0);
  const storage0 = [legacy.storageArgs('0'), legacy.storageData(4, ones(4))];
  const body = pickle(op.unicode('0'), op.unicode('cpu'), op.global('torch', 'FloatStorage'), TUPLE3, op.stop());
  // Inside the FRAME after its STOP: read as a count by a reader that ignores where the frame ends.
  const decoy = Buffer.alloc(8, 0x7f);
  return {
    'benign': legacyTar(benignStorages(evil), benignTensors()),
    'evil-second-storage-args': legacyTar([legacy.count(2), ...storage0, evil, legacy.storageData(0, empty), legacy.views()]),
    'evil-storage-views': legacyTar([legacy.count(1), ...storage0, evil]),
    'evil-second-tensor-args': legacyTar([legacy.count(1), ...storage0, legacy.views()], [legacy.count(2), legacy.tensorArgs('10', '0'), legacy.tensorMeta([2, 2], [2, 1]), evil, legacy.tensorMeta([1], [1])]),
    'unknown-storage-type': legacyTar([legacy.count(2), legacy.storageArgs('0', 'QInt8Storage'), legacy.storageData(4, Buffer.alloc(4)), evil]),
    'truncated-storage': legacyTar([legacy.count(2), legacy.storageArgs('0'), legacy.storageData(1000, Buffer.concat([evil, legacy.storageArgs('1')]))]),
    'truncated-args-after-import': legacyTar([legacy.count(1), evil.subarray(0, evil.indexOf('\n', evil.indexOf('\n') + 1) + 1)]),
    'truncated-args-before-import': legacyTar([legacy.count(1), evil.subarray(0, evil.indexOf('\n'))]),
    'element-count-wraps-to-zero-bytes': legacyTar([legacy.count(2), legacy.storageArgs('0'), legacy.storageData(2n ** 62n, empty), evil]),
    'negative-element-count': legacyTar([legacy.count(2), legacy.storageArgs('0'), legacy.storageData(-1, empty), evil]),
    'frame-past-stop': legacyTar([legacy.count(2), pickle(op.proto(4), op.frame(body.length + decoy.length), body, decoy), legacy.storageData(0, empty), evil]),
    'negative-count': legacyTar([legacy.count(-1), evil]),
    'count-not-an-int': legacyTar([pickle(op.proto(2), op.unicode('2'), op.stop()), evil]),
    'count-of-unknown-type': legacyTar([pickle(op.proto(2), op.global('collections', 'OrderedDict'), op.emptyTuple(), op.reduce(), op.stop()), evil]),
    'args-of-two': legacyTar([legacy.count(2), pickle(op.proto(2), op.unicode('0'), op.unicode('cpu'), Buffer.from([0x86]), op.stop()), evil]),
    'args-type-a-string': legacyTar([legacy.count(2), pickle(op.proto(2), op.unicode('0'), op.unicode('cpu'), op.unicode('FloatStorage'), TUPLE3, op.stop()), evil]),
    'tensor-negative-ndim': legacyTar([legacy.count(0), legacy.views()], [legacy.count(2), legacy.tensorArgs('10', '0'), Buffer.from('ffffffff00000000', 'hex'), evil]),
  };
}
