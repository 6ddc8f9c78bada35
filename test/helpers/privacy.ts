/**
 * Privacy canary checks: prove a typed secret left no trace in an output.
 *
 * A haystack is any output of the agent (database files, logs, HTTP bodies, IPC captures...).
 * `assertNoSecret` looks for the secret phrase, each of its words, and the key identity of its
 * keystrokes: uiohook keycodes as decimal lists (comma, comma-space, space separated, JSON array)
 * and as raw bytes (uint8, uint16 little/big endian). Text is searched case-insensitively in
 * UTF-8/Latin-1 and UTF-16LE. All-digit words only match as whole numbers (not inside a longer
 * number such as a timestamp), since digits inside timings are no leak.
 */
import assert from 'node:assert/strict';

export interface Haystack {
  readonly name: string;
  readonly data: Buffer | string;
}

interface Needle {
  readonly label: string;
  found(haystack: Buffer): boolean;
}

/**
 * uiohook keycodes (uiohook-napi's UiohookKey table, PC set-1 scancodes) for letters, digits, '-'
 * and space. Copied rather than imported: loading the native module in the test process makes it
 * touch X at exit ("Couldn't find per display information").
 */
const UIOHOOK_KEYCODES: Record<string, number> = {
  A: 30, B: 48, C: 46, D: 32, E: 18, F: 33, G: 34, H: 35, I: 23, J: 36, K: 37, L: 38, M: 50,
  N: 49, O: 24, P: 25, Q: 16, R: 19, S: 31, T: 20, U: 22, V: 47, W: 17, X: 45, Y: 21, Z: 44,
  '0': 11, '1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, '-': 12, ' ': 57,
};

/** uiohook keycodes for the keys that type `text` (letters, digits, '-', space). */
export function uiohookKeycodesOf(text: string): number[] {
  return [...text].map((char) => {
    const code = UIOHOOK_KEYCODES[char.toUpperCase()];
    if (code === undefined) throw new Error(`No uiohook keycode for ${JSON.stringify(char)}`);
    return code;
  });
}

/**
 * X11 keycodes for the keys that type `text`: what the X server and XInput2 call them. Under evdev
 * (every current X server) an X keycode is the kernel key code plus 8, and for these keys the
 * kernel code equals libuiohook's set-1 scancode.
 */
export function x11KeycodesOf(text: string): number[] {
  return uiohookKeycodesOf(text).map((code) => code + 8);
}

/** Fail if any haystack holds the pointer position (x, y) as a pair: "x,y", "x, y", "x y", [x,y], {"x":x,"y":y}. */
export function assertNoPosition(haystacks: readonly Haystack[], x: number, y: number): void {
  const forms = [`${x},${y}`, `${x}, ${y}`, `${x} ${y}`, `[${x},${y}]`, `"x":${x},"y":${y}`];
  const leaks: string[] = [];
  for (const haystack of haystacks) {
    const text = typeof haystack.data === 'string' ? haystack.data : haystack.data.toString('latin1');
    for (const form of forms) {
      if (new RegExp(`(?<!\\d)${escapeRegExp(form)}(?!\\d)`).test(text)) leaks.push(`${haystack.name} contains the position as ${form}`);
    }
  }
  assert.deepEqual(leaks, [], `pointer position leaked:\n${leaks.join('\n')}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function textNeedle(label: string, text: string): Needle {
  const wholeNumber = /^\d+$/.test(text);
  const pattern = new RegExp(wholeNumber ? `(?<!\\d)${escapeRegExp(text)}(?!\\d)` : escapeRegExp(text), 'i');
  const utf16 = Buffer.from(text, 'utf16le');
  return {
    label,
    found: (haystack) => pattern.test(haystack.toString('latin1')) || haystack.includes(utf16),
  };
}

function bytesNeedle(label: string, bytes: Buffer): Needle {
  return { label, found: (haystack) => haystack.includes(bytes) };
}

export function secretNeedles(secret: string, keycodes: readonly number[]): Needle[] {
  const words = secret.split(/[^A-Za-z0-9]+/).filter((word) => word.length >= 3);
  const needles: Needle[] = [textNeedle('the phrase', secret), ...words.map((word) => textNeedle(`the word "${word}"`, word))];
  for (const [name, separator] of [
    ['comma', ','],
    ['comma-space', ', '],
    ['space', ' '],
  ] as const) {
    needles.push(textNeedle(`keycodes (${name} separated)`, keycodes.join(separator)));
  }
  needles.push(textNeedle('keycodes (JSON array)', JSON.stringify(keycodes)));
  if (keycodes.every((code) => code < 256)) needles.push(bytesNeedle('keycodes (uint8 bytes)', Buffer.from(keycodes)));
  const le = Buffer.alloc(keycodes.length * 2);
  const be = Buffer.alloc(keycodes.length * 2);
  keycodes.forEach((code, index) => {
    le.writeUInt16LE(code, index * 2);
    be.writeUInt16BE(code, index * 2);
  });
  needles.push(bytesNeedle('keycodes (uint16 LE bytes)', le), bytesNeedle('keycodes (uint16 BE bytes)', be));
  return needles;
}

/** Fail, naming the output and the form found, if any haystack contains any form of the secret. */
export function assertNoSecret(haystacks: readonly Haystack[], secret: string, keycodes: readonly number[]): void {
  const needles = secretNeedles(secret, keycodes);
  const leaks: string[] = [];
  for (const haystack of haystacks) {
    const data = typeof haystack.data === 'string' ? Buffer.from(haystack.data, 'utf8') : haystack.data;
    for (const needle of needles) if (needle.found(data)) leaks.push(`${haystack.name} contains ${needle.label}`);
  }
  assert.deepEqual(leaks, [], `secret leaked:\n${leaks.join('\n')}`);
}
