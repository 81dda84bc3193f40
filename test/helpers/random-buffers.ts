/** mulberry32: a seeded 32-bit PRNG, so that a failing buffer can be made again from its index. */
export function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const MAX_SIZE = 64 * 1024;

/**
 * `count` random buffers of 1 B to 64 KiB (log-uniform, so most are small): buffer i < 256 opens
 * with byte i, i < 512 with 0x80 and byte i - 256 (PROTO and every version after it), the rest
 * are random throughout.
 */
export function makeRandomBuffers(seed: number, count: number): Buffer[] {
  const next = makeRandom(seed);
  const buffers: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = Math.max(i < 512 ? 2 : 1, Math.floor(Math.exp((next() / 2 ** 32) * Math.log(MAX_SIZE + 1))));
    const bytes = Buffer.alloc(size);
    for (let at = 0; at < size; at += 4) {
      const word = next();
      for (let k = 0; k < 4 && at + k < size; k++) bytes[at + k] = (word >>> (8 * k)) & 0xff;
    }
    if (i < 256) bytes[0] = i;
    else if (i < 512) [bytes[0], bytes[1]] = [0x80, i - 256];
    buffers.push(bytes);
  }
  return buffers;
}
