/** Orders strings by Unicode code point (UTF-16 order differs once surrogates meet U+E000..U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return toCodePointRank(x) - toCodePointRank(y);
  }
  return a.length - b.length;
}

function toCodePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Canonical JSON text: keys sorted by code point at every depth, 2-space indent, trailing newline.
 * JSON.stringify cannot do this: it puts integer-like keys ("10", "9") first whatever the order.
 */
export function toCanonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, '', out);
  out.push('\n');
  return out.join('');
}

/** Appends to one array of parts: a 10,000-file lockfile serializes without nested concatenation. */
function write(value: unknown, indent: string, out: string[]): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot serialize ${value} as JSON`);
      out.push(JSON.stringify(value));
      return;
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'object':
      if (Array.isArray(value)) writeArray(value, indent, out);
      else if (value instanceof Map) writeEntries([...(value as Map<unknown, unknown>)].filter((entry): entry is [string, unknown] => typeof entry[0] === 'string'), indent, out);
      else writeEntries(Object.entries(value as Record<string, unknown>), indent, out);
      return;
    default:
      throw new TypeError(`cannot serialize a ${typeof value} as JSON`);
  }
}

function writeArray(items: unknown[], indent: string, out: string[]): void {
  if (items.length === 0) {
    out.push('[]');
    return;
  }
  const inner = `${indent}  `;
  out.push('[\n');
  items.forEach((item, i) => {
    out.push(inner);
    write(item, inner, out);
    out.push(i === items.length - 1 ? '\n' : ',\n');
  });
  out.push(indent, ']');
}

/** An object's or a Map's entries (string keys), as one JSON object: names are data, not keys. */
function writeEntries(all: [string, unknown][], indent: string, out: string[]): void {
  const entries = all.filter((entry) => entry[1] !== undefined).sort((a, b) => compareCodePoints(a[0], b[0]));
  if (entries.length === 0) {
    out.push('{}');
    return;
  }
  const inner = `${indent}  `;
  out.push('{\n');
  entries.forEach(([key, value], i) => {
    out.push(inner, JSON.stringify(key), ': ');
    write(value, inner, out);
    out.push(i === entries.length - 1 ? '\n' : ',\n');
  });
  out.push(indent, '}');
}
