// Differential fuzzing of aisc's unpickler model (dist/formats/pickle.js modelLoad) against
// CPython's C unpickler (scripts/pickle-oracle.py):
//
//   npm run fuzz:pickle -- --count N [--seed S] [--python PATH] [--out FILE]
//   npm run fuzz:pickle -- --write-corpus N [--seed S]   (rewrites test/fixtures/pickle-corpus/)
//
// Streams come from hand-written and pickle.dumps seeds and their mutations (scripts/pickle-fuzz/).
// Every disagreement goes to --out (default /tmp/pickle-disagreements.jsonl); any one exits 1.
import { createWriteStream, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SAFE_PICKLE_IMPORTS, toImportName } from '../dist/formats/pickle-allowlist.js';
import { modelLoad } from '../dist/formats/pickle-scan.js';
import { compareVerdicts } from './pickle-compare.js';
import { toCorpusLine, writeCorpus } from './pickle-fuzz/corpus.js';
import { generateStreams, loadSeeds } from './pickle-fuzz/generate.js';
import { Oracle, pythonVersion } from './pickle-fuzz/oracle.js';
import { Tally } from './pickle-fuzz/tally.js';

const BATCH = 2000;
const CORPUS_SEED = 20260312;

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    'write-corpus': { type: 'string' },
    python: { type: 'string', default: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3' },
    out: { type: 'string', default: '/tmp/pickle-disagreements.jsonl' },
  },
});

const allowed = (module, name) => SAFE_PICKLE_IMPORTS.has(toImportName(module, name));

/** modelLoad, with a throw (a bug in the model) turned into a verdict that disagrees with anything. */
function runModel({ bytes, encoding, persistentLoad }) {
  try {
    return modelLoad(bytes, { encoding, persistentLoad, allowed });
  } catch (error) {
    return { imports: [], outcome: 'threw', reason: String(error?.stack ?? error).slice(0, 300), assumed: false };
  }
}

function* batches(streams) {
  let batch = [];
  for (const stream of streams) {
    batch.push(stream);
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function main() {
  const corpus = args['write-corpus'] !== undefined;
  const count = Number(corpus ? args['write-corpus'] : args.count);
  const seed = Number(args.seed ?? (corpus ? CORPUS_SEED : Date.now() % 2 ** 31));
  const python = pythonVersion(args.python);
  if (!python.startsWith('3.11.')) console.warn(`warning: ${args.python} is Python ${python}; the model follows CPython 3.11`);
  console.log(`fuzzing ${count} streams, seed ${seed}, oracle ${args.python} (Python ${python})`);

  const seeds = loadSeeds(args.python);
  const oracle = new Oracle(args.python, SAFE_PICKLE_IMPORTS);
  const out = createWriteStream(args.out);
  const tally = new Tally();
  const corpusLines = [];
  let modelMs = 0;
  const started = performance.now();
  // the oracle judges the next batch while the model runs this one
  const work = batches(generateStreams(seeds, count, seed));
  let batch = work.next().value ?? [];
  let pending = oracle.judge(batch);
  while (batch.length > 0) {
    const next = work.next().value ?? [];
    const nextPending = oracle.judge(next);
    const verdicts = await pending;
    const t = performance.now();
    for (let i = 0; i < batch.length; i++) {
      const stream = batch[i];
      const verdict = verdicts[i];
      const model = runModel(stream);
      const kind = compareVerdicts(model, verdict);
      tally.add(stream, verdict, model, kind);
      if (kind === 'disagree' || kind === 'timeout') out.write(`${JSON.stringify({ kind, hex: Buffer.from(stream.bytes).toString('hex'), encoding: stream.encoding, persistentLoad: stream.persistentLoad, source: stream.source, oracle: verdict, model })}\n`);
      if (corpus && verdict.outcome !== 'timeout') corpusLines.push(toCorpusLine(stream, verdict));
    }
    modelMs += performance.now() - t;
    [batch, pending] = [next, nextPending];
  }
  oracle.close();
  await new Promise((resolve) => out.end(resolve));
  const seconds = (performance.now() - started) / 1000;

  tally.print(console.log);
  console.log(`${Math.round(count / seconds)} streams/s (${seconds.toFixed(1)} s; the model took ${(modelMs / 1000).toFixed(1)} s of it)`);
  if (corpus) {
    const header = { corpus: 'aisc pickle differential corpus', python, seed, streams: corpusLines.length, made: 'npm run fuzz:pickle -- --write-corpus N' };
    const size = writeCorpus(header, corpusLines);
    console.log(`wrote ${corpusLines.length} streams to test/fixtures/pickle-corpus/corpus.jsonl.gz (${(size / 1024).toFixed(0)} KiB)`);
  }
  if (tally.disagreements > 0) {
    console.log(`${tally.disagreements} disagreements: ${args.out}`);
    process.exitCode = 1;
  }
}

await main();
