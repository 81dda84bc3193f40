import { AiscError } from '../errors.js';

const MAX_DEPTH = 64;

/**
 * JSON.parse that also rejects duplicate object keys (JSON.parse silently keeps the last one,
 * so `{"a": good, "a": evil}` would read as evil) and nesting deeper than 64.
 */
export function parseJsonStrict(text: string, what: string): unknown {
  const parser = new Parser(text, what);
  parser.skipSpace();
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos < text.length) parser.fail('unexpected text after the JSON value');
  return value;
}

class Parser {
  pos = 0;
  constructor(
    private readonly text: string,
    private readonly what: string,
  ) {}

  fail(message: string, code: 'JSON_INVALID' | 'JSON_DUPLICATE_KEY' = 'JSON_INVALID'): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    const column = this.pos - before.lastIndexOf('\n');
    throw new AiscError(code, `${this.what}:${line}:${column}: ${message}`, {
      details: { line, column },
    });
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case undefined:
        return this.fail('unexpected end of input');
      default:
        return this.number();
    }
  }

  object(depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const keyStart = this.pos;
      const key = this.string();
      if (seen.has(key)) {
        this.pos = keyStart;
        this.fail(`duplicate key ${JSON.stringify(key)}`, 'JSON_DUPLICATE_KEY');
      }
      seen.add(key);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      this.skipSpace();
      const value = this.value(depth + 1);
      // defineProperty: a "__proto__" key stays an own property, as with JSON.parse.
      if (key === '__proto__') Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      else result[key] = value;
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') return result;
      if (next !== ',') {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
    }
  }

  array(depth: number): unknown[] {
    const result: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      result.push(this.value(depth + 1));
      this.skipSpace();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') return result;
      if (next !== ',') {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  string(): string {
    const t = this.text;
    const start = ++this.pos;
    let plain = true;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c === 0x5c) {
        plain = false;
        this.pos += 2;
        continue;
      }
      if (c < 0x20) this.fail('control character in string');
      this.pos++;
    }
    if (this.pos >= t.length) this.fail('unterminated string');
    const raw = t.slice(start, this.pos);
    this.pos++;
    if (plain) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      this.pos = start;
      return this.fail('invalid escape in string');
    }
  }

  literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('unexpected token');
    this.pos += word.length;
    return value;
  }

  number(): number {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    match.lastIndex = this.pos;
    const found = match.exec(this.text);
    if (!found) this.fail('unexpected token');
    this.pos += found[0].length;
    return Number(found[0]);
  }
}

/** What a parsed JSON value is, for messages: 'null', 'an array', 'a string', … */
export function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
