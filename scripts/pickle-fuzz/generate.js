// The streams a fuzz run or the corpus is made of: every seed as it is, then seeds with one small
// mutation (near misses), with several, spliced pairs, random opcode programs and random bytes.
// Each stream's unpickler options rotate through every encoding, with and without persistent_load.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeRandom, mutateOnce } from './mutate.js';
import { randomOpcode, randomProgram, stackProgram } from './programs.js';
import { structureSeeds } from './seeds-structure.js';
import { textSeeds } from './seeds-text.js';

export const ENCODINGS = ['ASCII', 'utf-8', 'latin1', 'bytes'];

const PYTHON_SEEDS = fileURLToPath(new URL('../pickle-seeds.py', import.meta.url));

/** Hand-written seeds, then what `python` pickle.dumps for a varied set of objects, protocols 0–5. */
export function loadSeeds(python) {
  const hand = [...textSeeds(), ...structureSeeds()].map(([label, bytes]) => ({ label, bytes }));
  // a fixed hash seed: sets of str pickle in hash order, and the same seed must make the same streams
  const env = { ...process.env, PYTHONHASHSEED: '0' };
  const output = execFileSync(python, [PYTHON_SEEDS], { encoding: 'utf8', maxBuffer: 64 << 20, env });
  const dumped = output
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .map(({ label, b }) => ({ label, bytes: Buffer.from(b, 'base64') }));
  return [...hand, ...dumped];
}

const optionsFor = (i) => ({ encoding: ENCODINGS[i % 4], persistentLoad: (i >> 2) % 2 === 1 });

/** How many times each seed comes as it is: under every encoding, half with persistent_load. */
const SEED_PASSES = 4;

/** `count` streams, the same ones for the same `seed`: { bytes, encoding, persistentLoad, source }. */
export function* generateStreams(seeds, count, seed) {
  const random = makeRandom(seed);
  const pick = () => random.pick(seeds);
  for (let i = 0; i < count; i++) {
    if (i < seeds.length * SEED_PASSES) {
      const j = i % seeds.length;
      const pass = Math.floor(i / seeds.length);
      const { label, bytes } = seeds[j];
      yield { bytes, encoding: ENCODINGS[(j + pass) % 4], persistentLoad: (j + pass) % 2 === 0, source: `seed ${label}` };
    } else {
      yield { ...makeStream(random, pick), ...optionsFor(i) };
    }
  }
}

function makeStream(random, pick) {
  const r = random.next();
  if (r < 0.35) {
    const { label, bytes } = pick();
    return { bytes: mutateOnce(bytes, pick().bytes, random), source: `near ${label}` };
  }
  if (r < 0.5) {
    const { label, bytes } = pick();
    let b = bytes;
    for (let n = 2 + random.int(3); n > 0; n--) b = mutateOnce(b, pick().bytes, random);
    return { bytes: b, source: `mutated ${label}` };
  }
  if (r < 0.58) {
    const [a, b] = [pick(), pick()];
    const spliced = Buffer.concat([a.bytes.subarray(0, random.int(a.bytes.length + 1)), b.bytes.subarray(random.int(b.bytes.length + 1))]);
    return { bytes: random.chance(0.5) ? mutateOnce(spliced, a.bytes, random) : spliced, source: `splice ${a.label} + ${b.label}` };
  }
  if (r < 0.83) {
    const program = stackProgram(random);
    return { bytes: random.chance(0.3) ? mutateOnce(program, randomOpcode(random), random) : program, source: 'stack program' };
  }
  if (r < 0.95) {
    const program = randomProgram(random);
    return { bytes: random.chance(0.3) ? mutateOnce(program, randomOpcode(random), random) : program, source: 'program' };
  }
  const noise = Buffer.from(Array.from({ length: 1 + random.int(64) }, () => random.int(256)));
  return { bytes: random.chance(0.5) ? Buffer.concat([Buffer.from([0x80, random.int(6)]), noise]) : noise, source: 'noise' };
}
