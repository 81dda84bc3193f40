import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings.js';
import { inspectInPieces, judgeBytes } from '../helpers/checkpoints.js';
import { makeRandomBuffers } from '../helpers/random-buffers.js';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const MAX_TEXT_FILES = 3000;
/** README*, LICENSE*, CHANGELOG* (and LICENCE, COPYING) by base name; and every *.md. */
const TEXT_NAME = /^(readme|licen[cs]e|changelog|copying)([.\-_].*)?$|\.md$/i;

/** Text files under node_modules, written by people who never heard of aisc. */
function findTexts(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (found.length >= MAX_TEXT_FILES) return;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && TEXT_NAME.test(entry.name) && !/\.(js|ts|map|json)$/.test(entry.name)) found.push(path);
    }
  };
  walk(NODE_MODULES);
  return found;
}

describe('random bytes, judged as a raw blob would be', () => {
  // CPython 3.11's unpickler, run on each of these 2,000 buffers with a recording find_class,
  // reaches no import in any of them: so no finding is right for every one, under every name.
  it('gives no finding for 2,000 seeded buffers named shard-N.bin or blob-N', () => {
    const buffers = makeRandomBuffers(0x61697363, 2000);
    const found: { name: string; findings: Finding[] }[] = [];
    for (const [i, bytes] of buffers.entries()) {
      for (const name of [`shard-${i}.bin`, `blob-${i}`]) {
        const findings = judgeBytes(bytes, name);
        if (findings.length > 0) found.push({ name, findings });
        // Were an import ever named in random bytes, the bytes would have to spell it.
        const imports = findings.length === 0 ? [] : (inspectInPieces(bytes, name).pickles ?? []).flatMap((pickle) => pickle.imports);
        for (const imported of imports) {
          const cut = imported.includes(':') ? imported.indexOf(':') : imported.lastIndexOf('.');
          expect(bytes.includes(imported.slice(0, cut)) && bytes.includes(imported.slice(cut + 1)), `${name}: ${imported}`).toBe(true);
        }
      }
      // Chunking must not change the verdict: one name again, in odd pieces.
      if (i % 10 === 0) expect(judgeBytes(bytes, `shard-${i}.bin`, 1000)).toEqual(judgeBytes(bytes, `shard-${i}.bin`));
    }
    expect(found).toEqual([]);
  });
});

describe('real text under node_modules', () => {
  const texts = findTexts();

  it('finds READMEs, licenses and changelogs to read', () => {
    expect(texts.length).toBeGreaterThan(100);
  });

  it('gives no finding for any, under its own name or renamed notes.txt', () => {
    const found: { path: string; name: string; findings: Finding[] }[] = [];
    for (const path of texts) {
      const bytes = readFileSync(path);
      const own = path.slice(NODE_MODULES.length);
      for (const name of [own, 'notes.txt']) {
        const findings = judgeBytes(bytes, name);
        if (findings.length > 0) found.push({ path: own, name, findings });
      }
    }
    expect(found).toEqual([]);
  });
});
