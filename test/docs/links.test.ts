import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Markdown outside fenced code blocks and inline code spans: what a reader sees as text and links. */
function toProse(markdown: string): string {
  // Code is blanked, not removed, so that line numbers stay those of the file.
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, (block) => block.replace(/[^\n]/g, '')).replace(/`[^`\n]*`/g, '');
}

/** Each `[text](target)` link outside code, with its line. */
function getLinks(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  toProse(markdown)
    .split('\n')
    .forEach((text, i) => {
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) links.push({ target: match[1] ?? '', line: i + 1 });
    });
  return links;
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function getAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
  for (const [, heading = ''] of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading.toLowerCase().replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

describe('documentation links', () => {
  it.each(PAGES)('every relative link in %s leads to a file, and to a heading there', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const broken: string[] = [];
    for (const { target, line } of getLinks(text)) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:: not this test's business
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
      const where = `${page}:${line}: ${target}`;
      if (!relative(ROOT, file).split('/').every((segment) => segment !== '..') || !existsSync(file)) broken.push(`${where}: no such file in the repository`);
      else if (anchor !== undefined && (!statSync(file).isFile() || !getAnchors(readFileSync(file, 'utf8')).has(anchor))) broken.push(`${where}: no heading #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it('reaches every page of docs/ from the README', () => {
    const linked = new Set(getLinks(readFileSync(join(ROOT, 'README.md'), 'utf8')).map(({ target }) => target.split('#')[0]));
    expect(PAGES.filter((page) => page !== 'README.md' && !linked.has(page))).toEqual([]);
  });

  it('finds links, and judges anchors as GitHub makes them', () => {
    expect(getLinks('see [a](b.md#c) and `[not](x.md)`\n```\n[nor](y.md)\n```\n[d](https://e.f)')).toEqual([
      { target: 'b.md#c', line: 1 },
      { target: 'https://e.f', line: 5 },
    ]);
    expect([...getAnchors('# Commands reference\n## `aisc lock <source...>`\n### Incremental verify: `--cache DIR`\n## Notes\n## Notes\n```\n# not a heading\n```\n')]).toEqual([
      'commands-reference',
      'aisc-lock-source',
      'incremental-verify---cache-dir',
      'notes',
      'notes-1',
    ]);
  });
});
