/**
 * EDID parser: the identity and structure of a display as the display itself reports it.
 *
 * Reads the 128-byte base block (VESA E-EDID 1.3/1.4): PnP manufacturer id, product code, serial
 * number, manufacture week/year, version, physical size, the four 18-byte descriptors (detailed
 * timings, monitor name 0xFC, serial string 0xFF, text 0xFE, range limits 0xFD), the extension count
 * and the checksum. Extension blocks are counted, not decoded.
 */
import { createHash } from 'node:crypto';

export interface EdidMode {
  readonly width: number;
  readonly height: number;
  /** Refresh rate, Hz, rounded to 0.01. */
  readonly refreshHz: number;
  readonly pixelClockKhz: number;
  readonly interlaced: boolean;
}

export type EdidDescriptor =
  | { readonly type: 'timing'; readonly mode: EdidMode }
  | { readonly type: 'name' | 'serial' | 'text'; readonly text: string }
  | { readonly type: 'range-limits' }
  | { readonly type: 'other'; readonly tag: number };

export interface Edid {
  /** Three-letter PnP id, or null when the bytes do not decode to letters (e.g. IddSampleDriver's 0x795E). */
  readonly manufacturerId: string | null;
  /** The raw two manufacturer bytes as 4 hex digits, always present. */
  readonly manufacturerRaw: string;
  readonly productCode: number;
  readonly serialNumber: number;
  readonly week: number;
  readonly year: number;
  readonly version: string;
  readonly digital: boolean;
  /** Physical size in cm; 0x0 means "variable/unknown" (projectors, many KVMs). */
  readonly widthCm: number;
  readonly heightCm: number;
  readonly name: string | null;
  readonly serialString: string | null;
  readonly texts: readonly string[];
  readonly descriptors: readonly EdidDescriptor[];
  readonly preferredMode: EdidMode | null;
  /** Extension blocks announced by byte 126. */
  readonly extensionCount: number;
  /** Extension blocks actually present in the bytes given. */
  readonly extensionBlocksPresent: number;
  readonly checksumValid: boolean;
  /**
   * SHA-256 of base-block bytes 0..126: the content fingerprint. The checksum byte is left out so a
   * blob whose checksum was fixed at load time (v4l2-ctl --fix-edid-checksums) still matches.
   */
  readonly fingerprint: string;
  readonly byteLength: number;
}

const HEADER = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];

export class EdidParseError extends Error {
  override readonly name = 'EdidParseError';
}

/** Hex text (any whitespace, optional 0x prefixes or commas) to bytes. Throws EdidParseError. */
export function edidBytesFromHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,]/g, '');
  if (!/^[0-9a-f]*$/i.test(clean) || clean.length % 2 !== 0) throw new EdidParseError('EDID hex contains non-hex characters or an odd digit count');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Parse EDID bytes. Throws EdidParseError for a short block or a bad header. */
export function parseEdid(bytes: Uint8Array): Edid {
  if (bytes.length < 128) throw new EdidParseError(`EDID is ${bytes.length} bytes; a base block is 128`);
  if (!HEADER.every((value, index) => bytes[index] === value)) throw new EdidParseError('EDID does not start with the 00 FF FF FF FF FF FF 00 header');
  const b = (index: number) => bytes[index]!;
  const manufacturerWord = (b(8) << 8) | b(9);
  const letters = [(manufacturerWord >> 10) & 0x1f, (manufacturerWord >> 5) & 0x1f, manufacturerWord & 0x1f];
  const manufacturerId = letters.every((value) => value >= 1 && value <= 26) && (manufacturerWord & 0x8000) === 0
    ? String.fromCharCode(...letters.map((value) => value + 64))
    : null;
  const descriptors: EdidDescriptor[] = [];
  for (const offset of [54, 72, 90, 108]) descriptors.push(parseDescriptor(bytes.subarray(offset, offset + 18)));
  const textOf = (type: 'name' | 'serial' | 'text') =>
    descriptors.filter((descriptor) => descriptor.type === type).map((descriptor) => (descriptor as { text: string }).text);
  let sum = 0;
  for (let index = 0; index < 128; index++) sum = (sum + b(index)) & 0xff;
  const firstTiming = descriptors.find((descriptor) => descriptor.type === 'timing');
  const names = textOf('name');
  return {
    manufacturerId,
    manufacturerRaw: manufacturerWord.toString(16).padStart(4, '0'),
    productCode: b(10) | (b(11) << 8),
    serialNumber: (b(12) | (b(13) << 8) | (b(14) << 16) | (b(15) << 24)) >>> 0,
    week: b(16),
    year: 1990 + b(17),
    version: `${b(18)}.${b(19)}`,
    digital: (b(20) & 0x80) !== 0,
    widthCm: b(21),
    heightCm: b(22),
    name: names.length > 0 ? names.join('') : null,
    serialString: textOf('serial')[0] ?? null,
    texts: textOf('text'),
    descriptors,
    preferredMode: firstTiming?.type === 'timing' ? firstTiming.mode : null,
    extensionCount: b(126),
    extensionBlocksPresent: Math.floor((bytes.length - 128) / 128),
    checksumValid: sum === 0,
    fingerprint: createHash('sha256').update(bytes.subarray(0, 127)).digest('hex'),
    byteLength: bytes.length,
  };
}

function parseDescriptor(d: Uint8Array): EdidDescriptor {
  const at = (index: number) => d[index]!;
  const pixelClock = at(0) | (at(1) << 8);
  if (pixelClock !== 0) {
    const width = at(2) | ((at(4) & 0xf0) << 4);
    const hBlank = at(3) | ((at(4) & 0x0f) << 8);
    const height = at(5) | ((at(7) & 0xf0) << 4);
    const vBlank = at(6) | ((at(7) & 0x0f) << 8);
    const total = (width + hBlank) * (height + vBlank);
    const refreshHz = total > 0 ? Math.round(((pixelClock * 10_000) / total) * 100) / 100 : 0;
    // Interlaced timings give the field height; the frame is twice that (as edid-decode reports it).
    const interlaced = (at(17) & 0x80) !== 0;
    return { type: 'timing', mode: { width, height: interlaced ? height * 2 : height, refreshHz, pixelClockKhz: pixelClock * 10, interlaced } };
  }
  const tag = at(3);
  const text = () =>
    String.fromCharCode(...d.subarray(5, 18))
      .split('\n')[0]!
      .replace(/[^\x20-\x7e]/g, '')
      .trimEnd();
  switch (tag) {
    case 0xfc:
      return { type: 'name', text: text() };
    case 0xff:
      return { type: 'serial', text: text() };
    case 0xfe:
      return { type: 'text', text: text() };
    case 0xfd:
      return { type: 'range-limits' };
    default:
      return { type: 'other', tag };
  }
}

/** "TSB 8888" style id used in evidence and signatures. */
export function edidIdentity(edid: Edid): string {
  return `${edid.manufacturerId ?? `raw:${edid.manufacturerRaw}`} ${edid.productCode.toString(16).padStart(4, '0')}`;
}
