/** A name from a policy or lockfile longer than any valid one (64 characters) is shown cut, never echoed whole. */
const MAX_NAME_CHARS = 64;
/** Past this a problem line is cut: a 1 MiB key must not become a 1 MiB line of output. */
const MAX_LINE_CHARS = 400;

/**
 * A name from the policy file as a JSON Pointer segment for a message: as it is when it is a plain
 * name, else JSON-quoted (and cut), so that a key holding a line break or a quote cannot break the
 * line or pass for another path.
 */
export function toNameSegment(name: string): string {
  if (/^[A-Za-z0-9._@+:~-]{1,64}$/.test(name)) return name;
  const cut = name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}…` : name;
  return JSON.stringify(cut);
}

/** A JSON Pointer (`/signers/a~1b`) with each segment shown as `toNameSegment` shows names. */
export function toPointerText(pointer: string): string {
  if (pointer === '') return pointer;
  return pointer
    .split('/')
    .map((segment, i) => (i === 0 ? segment : toNameSegment(segment.replaceAll('~1', '/').replaceAll('~0', '~'))))
    .join('/');
}

/**
 * One line, whatever the file held: control and line-separator characters as JSON escapes them,
 * and a line past MAX_LINE_CHARS cut. Every policy message goes through this on its way out.
 */
export function toOneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, toEscape);
  return escaped.length > MAX_LINE_CHARS ? `${escaped.slice(0, MAX_LINE_CHARS - 1)}…` : escaped;
}

function toEscape(char: string): string {
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
