import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compareVerdicts, type Agreement, type OracleVerdict } from '../../scripts/pickle-compare.js';
import { SAFE_PICKLE_IMPORTS, toImportName } from '../../src/formats/pickle-allowlist.js';
import { modelLoad, type LoadOptions } from '../../src/formats/pickle-scan.js';

/** One line of the corpus that scripts/fuzz-pickle.js --write-corpus wrote: a stream and what CPython did with it. */
interface CorpusStream {
  b: string;
  e: LoadOptions['encoding'];
  p: boolean;
  o: OracleVerdict;
  s: string;
}

function readCorpus(): { header: { python: string; streams: number }; streams: CorpusStream[] } {
  const text = gunzipSync(readFileSync(new URL('../fixtures/pickle-corpus/corpus.jsonl.gz', import.meta.url))).toString('utf8');
  const [header, ...streams] = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
  return { header: header as { python: string; streams: number }, streams: streams as CorpusStream[] };
}

const allowed = (module: string, name: string) => SAFE_PICKLE_IMPORTS.has(toImportName(module, name));

describe('the unpickler model agrees with CPython on the committed corpus', () => {
  const { header, streams } = readCorpus();

  it('holds at least 20,000 streams of every outcome, judged by CPython 3.11', () => {
    expect(streams).toHaveLength(header.streams);
    expect(streams.length).toBeGreaterThanOrEqual(20_000);
    expect(header.python).toMatch(/^3\.11\./);
    const outcomes = new Set(streams.map((stream) => stream.o.outcome));
    expect([...outcomes].sort()).toEqual(['ok', 'stopped', 'unsafe']);
  });

  it('reaches the imports CPython reaches and ends as CPython ends, stream by stream', () => {
    const counts = new Map<Agreement, number>();
    const disagreements = [];
    for (const stream of streams) {
      const bytes = Buffer.from(stream.b, 'base64');
      const model = modelLoad(bytes, { encoding: stream.e, persistentLoad: stream.p, allowed });
      const agreement = compareVerdicts(model, stream.o);
      counts.set(agreement, (counts.get(agreement) ?? 0) + 1);
      if (agreement === 'disagree') disagreements.push({ hex: bytes.toString('hex'), encoding: stream.e, persistentLoad: stream.p, made: stream.s, cpython: stream.o, model });
    }
    expect(disagreements.slice(0, 5), `${disagreements.length} of ${streams.length} streams disagree (${JSON.stringify([...counts])})`).toEqual([]);
  });
});
