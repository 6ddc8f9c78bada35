/**
 * protocol/canonical-json.ts against RFC 8785's own examples (§3.2.2.3 numbers and escapes, §3.2.3
 * key order by UTF-16 code units) and against a plain reference implementation on random values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalize } from '../../protocol/canonical-json';

test('RFC 8785 examples: numbers, string escapes, literals, and key order by UTF-16 code units', () => {
  const input = JSON.parse(
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
  ) as unknown;
  assert.equal(canonicalize(input), '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  const sorting = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
  assert.equal(
    canonicalize(sorting),
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
});

test('undefined members are left out; non-finite numbers and values JSON cannot hold are refused', () => {
  assert.equal(canonicalize({ b: 1, a: undefined, c: [1, 'x', null] }), '{"b":1,"c":[1,"x",null]}');
  assert.equal(canonicalize(-0), '0');
  for (const bad of [Number.NaN, Infinity, { n: 1n }, [() => 1], Symbol('s')]) assert.throws(() => canonicalize(bad), TypeError);
});

/** The definition, written for clarity: what the fast implementation must equal. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((key) => record[key] !== undefined);
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

test('random nested values canonicalize as the reference definition does', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const text = () => String.fromCharCode(...Array.from({ length: Math.floor(rand() * 6) }, () => [0x41, 0x7a, 0x0a, 0xe9, 0x20ac, 0xd83d, 0xde00, 0x22][Math.floor(rand() * 8)]!));
  const value = (depth: number): unknown => {
    const pick = rand();
    if (depth > 3 || pick < 0.3) return [null, true, false, rand() * 1e6 - 5e5, Math.floor(rand() * 100), 1e-9 * rand(), text()][Math.floor(rand() * 7)];
    if (pick < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [text(), value(depth + 1)]));
  };
  for (let index = 0; index < 2000; index++) {
    const sample = value(0);
    assert.equal(canonicalize(sample), reference(sample));
  }
});
