// The committed corpus: gzipped JSON lines, a header first, then one stream a line with CPython's
// verdict: {"b": base64, "e": encoding, "p": persistent_load, "o": verdict, "s": how it was made}.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const CORPUS = new URL('../../test/fixtures/pickle-corpus/corpus.jsonl.gz', import.meta.url);

export function toCorpusLine({ bytes, encoding, persistentLoad, source }, oracle) {
  const o = { outcome: oracle.outcome, imports: oracle.imports };
  if (oracle.outcome === 'stopped') Object.assign(o, { error: oracle.error, message: oracle.message?.slice(0, 80) });
  return JSON.stringify({ b: Buffer.from(bytes).toString('base64'), e: encoding, p: persistentLoad, o, s: source.slice(0, 60) });
}

export function writeCorpus(header, lines) {
  const text = [JSON.stringify(header), ...lines].join('\n') + '\n';
  const gz = gzipSync(text, { level: 9 });
  writeFileSync(CORPUS, gz);
  return gz.length;
}
