// A reader for the small Python literals that .npy headers are written in, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 5, 7), }
// numpy reads them with ast.literal_eval; we never evaluate anything, we only tokenize these forms:
// dicts, tuples, lists, strings, integers (with Python 2's `L` suffix), floats, True, False, None.

/** Integers are numbers (beyond 2^53 they lose precision; size checks reject them anyway). */
export type PyValue = string | number | boolean | null | PyFloat | PyTuple | PyValue[] | Map<string, PyValue>;

/** A Python tuple, kept apart from lists because numpy requires the shape to be a tuple. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python float, kept apart from integers: `(3.0, 4)` is not a valid shape. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Thrown with a message naming the position and what was expected there. */
export class PyLiteralSyntaxError extends Error {
  override name = 'PyLiteralSyntaxError';
}

/** Parses one literal that fills `text` (surrounding whitespace allowed). */
export function parsePythonLiteral(text: string): PyValue {
  const reader = new LiteralReader(text);
  const value = reader.value(0);
  reader.skipSpace();
  if (!reader.atEnd()) reader.fail('the end of the literal');
  return value;
}

/** The value as Python would print it, for error messages that show what came. */
export function formatPython(value: PyValue): string {
  if (typeof value === 'string') return `'${value.replace(/[\\']/g, '\\$&')}'`;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  if (typeof value === 'number') return String(value);
  if (value instanceof PyFloat) return Number.isInteger(value.value) ? value.value.toFixed(1) : String(value.value);
  if (value instanceof PyTuple) {
    const items = value.items.map(formatPython);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (Array.isArray(value)) return `[${value.map(formatPython).join(', ')}]`;
  return `{${[...value].map(([key, item]) => `${formatPython(key)}: ${formatPython(item)}`).join(', ')}}`;
}

// Implementation.

// Nesting deeper than this is no header numpy writes; the limit keeps a hostile file from exhausting the stack.
const MAX_DEPTH = 32;
const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?/y;
const WORD = /[A-Za-z_]\w*/y;
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };

class LiteralReader {
  #position = 0;
  constructor(private readonly text: string) {}

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail(`nesting no deeper than ${MAX_DEPTH}`);
    this.skipSpace();
    const char = this.text[this.#position];
    if (char === '{') return this.dict(depth);
    if (char === '(') return this.tuple(depth);
    if (char === '[') return this.sequence(']', depth);
    if (char === "'" || char === '"') return this.string(char);
    return this.scalar();
  }

  skipSpace(): void {
    while (this.#position < this.text.length && /\s/.test(this.text[this.#position]!)) this.#position += 1;
  }

  atEnd(): boolean {
    return this.#position >= this.text.length;
  }

  fail(expected: string): never {
    const found = this.atEnd() ? 'the end of the header' : JSON.stringify(this.text.slice(this.#position, this.#position + 12));
    throw new PyLiteralSyntaxError(`expected ${expected} at character ${this.#position}, found ${found}`);
  }

  private dict(depth: number): Map<string, PyValue> {
    const dict = new Map<string, PyValue>();
    this.#position += 1;
    while (!this.closes('}')) {
      this.skipSpace();
      const keyAt = this.#position;
      const key = this.value(depth + 1);
      if (typeof key !== 'string') this.failAt(keyAt, 'a string key');
      if (dict.has(key)) this.failAt(keyAt, `a key other than '${key}', which is already in the dict`);
      this.expect(':');
      dict.set(key, this.value(depth + 1));
      if (!this.separator('}')) break;
    }
    return dict;
  }

  private tuple(depth: number): PyValue {
    const start = this.#position;
    const items = this.sequence(')', depth);
    // `(3)` is the number 3; only `(3,)` is a one-element tuple.
    const single = items.length === 1 && !/,\s*\)$/.test(this.text.slice(start, this.#position));
    return single ? items[0]! : new PyTuple(items);
  }

  private sequence(close: string, depth: number): PyValue[] {
    const items: PyValue[] = [];
    this.#position += 1;
    while (!this.closes(close)) {
      items.push(this.value(depth + 1));
      if (!this.separator(close)) break;
    }
    return items;
  }

  /** After an item: a comma (true: more may follow) or the closing bracket (false). */
  private separator(close: string): boolean {
    this.skipSpace();
    if (this.text[this.#position] === ',') {
      this.#position += 1;
      return true;
    }
    this.expect(close);
    return false;
  }

  private closes(close: string): boolean {
    this.skipSpace();
    if (this.text[this.#position] !== close) return false;
    this.#position += 1;
    return true;
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.#position] !== char) this.fail(`'${char}'`);
    this.#position += 1;
  }

  private string(quote: string): string {
    let out = '';
    for (let i = this.#position + 1; i < this.text.length; i++) {
      const char = this.text[i]!;
      if (char === quote) {
        this.#position = i + 1;
        return out;
      }
      if (char === '\n') break;
      if (char === '\\') {
        const escaped = ESCAPES[this.text[i + 1] ?? ''];
        if (escaped === undefined) this.failAt(i, `one of the escapes \\\\ \\' \\" \\n \\t \\r`);
        out += escaped;
        i += 1;
      } else {
        out += char;
      }
    }
    return this.fail(`a string closed by ${quote} on the same line`);
  }

  private scalar(): PyValue {
    const number = this.match(NUMBER);
    if (number !== null) {
      const text = number.replace(/L$/, '');
      return /[.eE]/.test(text) ? new PyFloat(Number(text)) : Number(text);
    }
    const word = this.match(WORD);
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    if (word !== null) this.#position -= word.length;
    return this.fail('a dict, tuple, list, string, number, True, False or None');
  }

  private match(pattern: RegExp): string | null {
    pattern.lastIndex = this.#position;
    const found = pattern.exec(this.text);
    if (found === null) return null;
    this.#position = pattern.lastIndex;
    return found[0];
  }

  private failAt(position: number, expected: string): never {
    this.#position = position;
    return this.fail(expected);
  }
}
