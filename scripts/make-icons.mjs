#!/usr/bin/env node
// Draws Telltale's icons into build/icons/ as PNGs (no image tools needed): a rounded shield-like
// disc with an "eye" for the app icon, and a filled dot per tray state (ok green, attention orange,
// offline grey) at 16 px and 32 px (@2x). Run after changing the design: node scripts/make-icons.mjs
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const out = path.resolve(import.meta.dirname, '..', 'build', 'icons');
fs.mkdirSync(out, { recursive: true });

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
/** RGBA pixels from `shade(x, y) -> [r, g, b, a]` with 4x4 supersampling for smooth edges. */
function png(size, shade) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const [r, g, b, a] = shade((x + (sx + 0.5) / 4) / size, (y + (sy + 0.5) / 4) / size);
          acc[0] += r * a;
          acc[1] += g * a;
          acc[2] += b * a;
          acc[3] += a;
        }
      }
      const alpha = acc[3] / 16;
      const offset = 1 + x * 4;
      row[offset] = alpha ? Math.round(acc[0] / acc[3]) : 0;
      row[offset + 1] = alpha ? Math.round(acc[1] / acc[3]) : 0;
      row[offset + 2] = alpha ? Math.round(acc[2] / acc[3]) : 0;
      row[offset + 3] = Math.round(alpha * 255);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const hex = (value) => [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16));
const NONE = [0, 0, 0, 0];

/** A dot with a white ring, readable on light and dark tray bars. */
function trayShade(color) {
  const [r, g, b] = hex(color);
  return (x, y) => {
    const d = Math.hypot(x - 0.5, y - 0.5);
    if (d <= 0.34) return [r, g, b, 1];
    if (d <= 0.44) return [255, 255, 255, 1];
    return NONE;
  };
}

/** App icon: a blue disc with a white eye (almond outline and pupil). */
function appShade(x, y) {
  const d = Math.hypot(x - 0.5, y - 0.5);
  if (d > 0.47) return NONE;
  const blue = [47, 111, 222, 1];
  const white = [255, 255, 255, 1];
  const ex = (x - 0.5) / 0.3;
  const ey = (y - 0.5) / 0.17;
  const eye = ex * ex + ey * ey;
  const pupil = Math.hypot(x - 0.5, y - 0.5);
  if (pupil <= 0.08) return blue;
  if (pupil <= 0.11) return white;
  if (eye <= 1 && eye >= 0.62) return white;
  return blue;
}

const files = {
  'icon.png': png(512, appShade),
  'tray-ok.png': png(16, trayShade('#1d8a4f')),
  'tray-ok@2x.png': png(32, trayShade('#1d8a4f')),
  'tray-attention.png': png(16, trayShade('#e8590c')),
  'tray-attention@2x.png': png(32, trayShade('#e8590c')),
  'tray-offline.png': png(16, trayShade('#6b7280')),
  'tray-offline@2x.png': png(32, trayShade('#6b7280')),
};
for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(out, name), data);
console.log(`Wrote ${Object.keys(files).length} icons to ${path.relative(process.cwd(), out)}`);
