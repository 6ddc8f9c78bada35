/**
 * Where JSON text first goes wrong, as an offset and a line/column.
 *
 * V8's JSON.parse messages carry a position only for some errors ("Unexpected token '{', ...
 * is not valid JSON" has none), so policy errors find it with this small strict scanner instead.
 * It checks syntax only (RFC 8259) and is run only after JSON.parse has already failed.
 */

export interface JsonErrorPosition {
  /** 0-based character offset. */
  readonly offset: number;
  /** 1-based line and column. */
  readonly line: number;
  readonly column: number;
  readonly reason: string;
}

class SyntaxStop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The first syntax error in `text`, or null when it is valid JSON. */
export function findJsonErrorPosition(text: string): JsonErrorPosition | null {
  let index = 0;
  const fail = (reason: string): never => {
    throw new SyntaxStop(index, index >= text.length ? 'unexpected end of input' : reason);
  };
  const skipSpace = (): void => {
    while (index < text.length && ' \t\n\r'.includes(text[index]!)) index++;
  };
  const expect = (char: string): void => {
    if (text[index] !== char) fail(`expected '${char}' but found '${text[index]}'`);
    index++;
  };
  const literal = (word: string): void => {
    if (text.slice(index, index + word.length) !== word) fail(`unexpected '${text[index]}'`);
    index += word.length;
  };
  const string = (): void => {
    expect('"');
    while (index < text.length && text[index] !== '"') {
      const char = text[index]!;
      if (char < ' ') fail('control character in a string');
      if (char === '\\') {
        index++;
        const escape = text[index] ?? '';
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(index + 1, index + 5))) fail('bad \\u escape');
          index += 4;
        } else if (!'"\\/bfnrt'.includes(escape) || escape === '') fail(`bad escape '\\${escape}'`);
      }
      index++;
    }
    expect('"');
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(index));
    if (!match) fail(`unexpected '${text[index]}'`);
    index += match![0].length;
  };
  const value = (): void => {
    skipSpace();
    const char = text[index];
    if (char === '{') {
      index++;
      skipSpace();
      if (text[index] === '}') {
        index++;
        return;
      }
      for (;;) {
        skipSpace();
        if (text[index] !== '"') fail(`expected a property name in double quotes but found '${text[index]}'`);
        string();
        skipSpace();
        expect(':');
        value();
        skipSpace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (char === '[') {
      index++;
      skipSpace();
      if (text[index] === ']') {
        index++;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (text[index] === ',') {
          index++;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (char === '"') return string();
    if (char === 't') return literal('true');
    if (char === 'f') return literal('false');
    if (char === 'n') return literal('null');
    return number();
  };
  try {
    value();
    skipSpace();
    if (index < text.length) fail(`unexpected '${text[index]}' after the end of the JSON value`);
    return null;
  } catch (error) {
    if (!(error instanceof SyntaxStop)) throw error;
    const before = text.slice(0, error.offset).split('\n');
    return { offset: error.offset, line: before.length, column: (before[before.length - 1] ?? '').length + 1, reason: error.reason };
  }
}
