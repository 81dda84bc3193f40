import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeMarkdown, toCodeSpan } from '../../src/report/markdown.js';
import { readInline, splitTableRow } from '../helpers/commonmark.js';

/** Names a pull request can give a file: links, images, HTML, emphasis, autolinks, code-span breakers. */
export const HOSTILE_NAMES = [
  '[approve this PR](https:evil.example).txt',
  '![x](https://evil.example/pixel.png)',
  '<img src=x onerror=alert(1)>',
  '**bold** _em_ ~~struck~~',
  'a`b``c```',
  '`leading and trailing`',
  ' spaced ',
  'pipe | in | name',
  'back\\slash\\|pipe',
  'https://evil.example/approve',
  'www.evil.example',
  'mail@evil.example',
  '&lt;script&gt; &#x3C;',
  '$\\href{https://evil.example}{x}$',
  'line\nbreak\r\n::error::forged',
  'rtl\u202etxt.exe',
];

/** What a reader sees: line breaks read as spaces, invisible marks named. */
const visible = (name: string): string => name.replace(/\r\n?|\n/g, ' ').replace(/\u202e/g, '<U+202E>');

describe('escapeMarkdown', () => {
  it.each(HOSTILE_NAMES)('renders %j as exactly its text, with nothing left to start markdown', (name) => {
    const { text, active } = readInline(escapeMarkdown(name));
    expect(text).toBe(visible(name));
    expect(active).toEqual([]);
    // In a table cell it stays one cell (whose edges GFM trims).
    expect(splitTableRow(`| ${escapeMarkdown(name)} | next |`).map((cell) => readInline(cell).text)).toEqual([visible(name).trim(), 'next']);
  });

  it('does so for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        const markdown = escapeMarkdown(name);
        expect(markdown).not.toMatch(/[\r\n]/);
        expect(readInline(markdown).active).toEqual([]);
        expect(splitTableRow(`| ${markdown} |`)).toHaveLength(1);
      }),
    );
  });
});

describe('toCodeSpan', () => {
  it.each(HOSTILE_NAMES)('shows %j whole in one code span, in a paragraph and in a table cell', (name) => {
    expect(readInline(toCodeSpan(name))).toEqual({ text: visible(name), active: [] });
    const [cell, next] = splitTableRow(`| ${toCodeSpan(name, { inTable: true })} | next |`);
    expect(readInline(cell ?? '')).toEqual({ text: visible(name), active: [] });
    expect(next).toBe('next');
  });

  it('keeps plain paths readable: one backtick each side', () => {
    expect(toCodeSpan('tiny/config.json')).toBe('`tiny/config.json`');
    expect(toCodeSpan('a`b')).toBe('``a`b``');
    expect(toCodeSpan('`x')).toBe('`` `x ``');
  });

  it('does so for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        fc.pre(name.trim() !== '' || name === '');
        const shown = readInline(toCodeSpan(name, { inTable: true }).replaceAll('\\|', '|'));
        expect(shown.active).toEqual([]);
        expect(splitTableRow(`| ${toCodeSpan(name, { inTable: true })} |`)).toHaveLength(1);
      }),
    );
  });
});
