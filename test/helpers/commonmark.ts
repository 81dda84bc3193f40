/**
 * How CommonMark (with GFM tables) reads the inline markdown aisc writes for names: backslash
 * escapes, code spans and plain characters. No CommonMark parser is among the dependencies, so
 * the spec's rules for these three are written out here (CommonMark 0.31 §2.4, §6.1; GFM §4.10).
 */

const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/;

/**
 * A GFM table row's cells as cmark-gfm splits them: at each `|` that no backslash stands right
 * before (its cell scanner takes the longest match, so `\\|` keeps the pipe too); then each
 * cell trimmed, and `\|` read as `|` in it, code spans included.
 */
export function splitTableRow(row: string): string[] {
  const cells = row.split(/(?<!\\)\|/);
  // A row starts and ends with a pipe: drop the empty ends.
  return cells.slice(1, -1).map((text) => text.trim().replaceAll('\\|', '|'));
}

/**
 * What a reader sees of inline markdown, and every character outside a code span that was not
 * escaped and could start markdown (a link, image, emphasis, HTML, entity, autolink, math).
 */
export function readInline(markdown: string): { text: string; active: string[] } {
  let text = '';
  const active: string[] = [];
  for (let i = 0; i < markdown.length; ) {
    const c = markdown[i] ?? '';
    if (c === '\\' && ASCII_PUNCTUATION.test(markdown[i + 1] ?? '')) {
      text += markdown[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(markdown.slice(i))?.[0] ?? '`';
      const close = findRun(markdown, i + run.length, run.length);
      if (close < 0) {
        // No closing run of the same length: the backticks are literal (and could pair with a later one).
        active.push(run);
        text += run;
        i += run.length;
        continue;
      }
      let content = markdown.slice(i + run.length, close).replace(/\r\n|\r|\n/g, ' ');
      if (content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '') content = content.slice(1, -1);
      text += content;
      i = close + run.length;
      continue;
    }
    // A pipe means nothing inline: in a table the row was split before (splitTableRow).
    if (ASCII_PUNCTUATION.test(c) && c !== '|') active.push(c);
    text += c;
    i++;
  }
  return { text, active };
}

/** The index of the next run of exactly `length` backticks from `from`, or -1. */
function findRun(markdown: string, from: number, length: number): number {
  for (let i = from; i < markdown.length; ) {
    if (markdown[i] !== '`') {
      i++;
      continue;
    }
    let end = i;
    while (markdown[end] === '`') end++;
    if (end - i === length) return i;
    i = end;
  }
  return -1;
}
