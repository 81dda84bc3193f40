/**
 * Markdown for text an attacker may name: file names from a pull request, artifact names, paths
 * and messages that quote them. What comes out renders as exactly that text (on one line): no
 * link, image, emphasis, HTML, autolink or table column can come of it.
 */

/** Controls, invisible format marks (those that reorder text on screen: Trojan Source) and line separators, shown by their code point. */
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** Every ASCII punctuation character: CommonMark renders each one literally after a backslash. */
const PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** Line breaks as spaces and invisible marks as `<U+XXXX>`: one line, read as it is stored. */
function toVisible(text: string): string {
  return text.replace(/\r\n?|\n/g, ' ').replace(INVISIBLE, (c) => `<U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

/**
 * Text as markdown inline content that renders as that text: every ASCII punctuation character
 * backslash-escaped (so `[x](y)`, `![x](y)`, `<img …>`, `**x**`, `&lt;`, `www.x`, `https://x` and
 * `|` are text), line breaks as spaces. Safe in a paragraph and in a table cell alike.
 */
export function escapeMarkdown(text: string): string {
  return toVisible(text).replace(PUNCTUATION, (c) => `\\${c}`);
}

/**
 * Text in a code span no backtick inside can end: fenced by one backtick more than the longest
 * run inside, padded with a space where it starts or ends with a backtick or a space (CommonMark
 * strips one each side). In a table cell `|` is escaped too: GFM unescapes it before the span.
 */
export function toCodeSpan(text: string, { inTable = false } = {}): string {
  const visible = toVisible(text);
  if (visible === '') return '';
  const longest = Math.max(0, ...(visible.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^`|`$/.test(visible) || (/^ .*[^ ].* $/.test(visible));
  const span = `${fence}${pad ? ` ${visible} ` : visible}${fence}`;
  return inTable ? span.replaceAll('|', '\\|') : span;
}
