/**
 * The X screen's outputs read through the X protocol itself (core setup + RandR 1.3), so the
 * virtual-display check does not depend on the `xrandr` program being installed.
 *
 * Only the requests `xrandr --props` needs for Telltale are made: QueryExtension, RRQueryVersion,
 * RRGetScreenResourcesCurrent, RRGetOutputInfo, InternAtom("EDID") and RRGetOutputProperty.
 * Authentication: MIT-MAGIC-COOKIE-1 from $XAUTHORITY (or ~/.Xauthority) when it has one for the display.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DisplayConnector } from './linux';

const pad4 = (length: number) => (4 - (length % 4)) % 4;

/** Parse ":N" / ":N.S" / "unix:N" into the display number; undefined for TCP displays (host:N). */
export function localDisplayNumber(display: string): number | undefined {
  const match = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(display);
  return match ? Number(match[1]) : undefined;
}

/** The MIT-MAGIC-COOKIE-1 for a local display number from an Xauthority file's bytes. */
export function findCookie(xauthority: Uint8Array, displayNumber: number, hostname = os.hostname()): Buffer | undefined {
  const data = Buffer.from(xauthority);
  let offset = 0;
  const field = () => {
    const length = data.readUInt16BE(offset);
    const value = data.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    return value;
  };
  while (offset + 2 <= data.length) {
    try {
      const family = data.readUInt16BE(offset);
      offset += 2;
      const address = field().toString('latin1');
      const number = field().toString('latin1');
      const name = field().toString('latin1');
      const cookie = field();
      // FamilyLocal (256) for this host, or FamilyWild (65535).
      const local = family === 65535 || (family === 256 && address === hostname);
      if (local && (number === '' || number === String(displayNumber)) && name === 'MIT-MAGIC-COOKIE-1') return Buffer.from(cookie);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A minimal X connection: requests in order, replies matched by arrival (events are skipped). */
class XConnection {
  private buffer = Buffer.alloc(0);
  private waiting: { resolve: (reply: Buffer) => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('X connection closed')));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }

  private drain(): void {
    while (this.buffer.length >= 32 && this.waiting.length > 0) {
      const code = this.buffer[0]!;
      if (code === 0) {
        this.buffer = this.buffer.subarray(32);
        this.waiting.shift()!.reject(new Error(`X error ${this.buffer[1] ?? ''}`));
        continue;
      }
      if (code !== 1) {
        this.buffer = this.buffer.subarray(32);
        continue;
      }
      const total = 32 + this.buffer.readUInt32LE(4) * 4;
      if (this.buffer.length < total) return;
      const reply = this.buffer.subarray(0, total);
      this.buffer = this.buffer.subarray(total);
      this.waiting.shift()!.resolve(reply);
    }
  }

  /** Read the connection setup reply (variable length, its own header). */
  async setup(cookie: Buffer | undefined): Promise<Buffer> {
    const name = cookie ? Buffer.from('MIT-MAGIC-COOKIE-1') : Buffer.alloc(0);
    const data = cookie ?? Buffer.alloc(0);
    const header = Buffer.alloc(12);
    header[0] = 0x6c; // 'l': little-endian
    header.writeUInt16LE(11, 2);
    header.writeUInt16LE(0, 4);
    header.writeUInt16LE(name.length, 6);
    header.writeUInt16LE(data.length, 8);
    this.socket.write(Buffer.concat([header, name, Buffer.alloc(pad4(name.length)), data, Buffer.alloc(pad4(data.length))]));
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) return reject(this.failure);
        if (this.buffer.length < 8) return void this.socket.once('data', check);
        const total = 8 + this.buffer.readUInt16LE(6) * 4;
        if (this.buffer.length < total) return void this.socket.once('data', check);
        const reply = this.buffer.subarray(0, total);
        this.buffer = this.buffer.subarray(total);
        if (reply[0] !== 1) return reject(new Error(`X server refused the connection: ${reply.subarray(8, 8 + reply[1]!).toString('latin1')}`));
        resolve(reply);
      };
      check();
    });
  }

  request(opcode: number, minor: number, body: Buffer): Promise<Buffer> {
    const header = Buffer.alloc(4);
    header[0] = opcode;
    header[1] = minor;
    header.writeUInt16LE(1 + (body.length + pad4(body.length)) / 4, 2);
    this.socket.write(Buffer.concat([header, body, Buffer.alloc(pad4(body.length))]));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.drain();
    });
  }
}

const u32 = (...values: number[]) => {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => buffer.writeUInt32LE(value >>> 0, index * 4));
  return buffer;
};

function named(opcodeName: string): Buffer {
  const name = Buffer.from(opcodeName, 'latin1');
  const head = Buffer.alloc(4);
  head.writeUInt16LE(name.length, 0);
  return Buffer.concat([head, name]);
}

/** Read the outputs of screen 0 of a local X display; throws with a one-line reason when it cannot. */
export async function readRandrOutputs(display: string, options: { timeoutMs?: number; xauthority?: string } = {}): Promise<DisplayConnector[]> {
  const number = localDisplayNumber(display);
  if (number === undefined) throw new Error(`not a local X display: ${display}`);
  const authFile = options.xauthority ?? process.env.XAUTHORITY ?? path.join(os.homedir(), '.Xauthority');
  let cookie: Buffer | undefined;
  try {
    cookie = findCookie(fs.readFileSync(authFile), number);
  } catch {
    // No Xauthority: servers started without -auth accept the connection anyway.
  }
  const socket = net.connect(`/tmp/.X11-unix/X${number}`);
  const timer = setTimeout(() => socket.destroy(new Error('X server did not answer in time')), options.timeoutMs ?? 5000);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const x = new XConnection(socket);
    const setup = await x.setup(cookie);
    const vendorLength = setup.readUInt16LE(24);
    const formats = setup[29]!;
    const screenOffset = 40 + vendorLength + pad4(vendorLength) + formats * 8;
    const root = setup.readUInt32LE(screenOffset);
    const extension = await x.request(98, 0, named('RANDR'));
    if (extension[8] !== 1) throw new Error('the X server has no RandR extension');
    const randr = extension[9]!;
    await x.request(randr, 0, u32(1, 5));
    const resources = await x.request(randr, 25, u32(root));
    const outputCount = resources.readUInt16LE(18);
    const crtcCount = resources.readUInt16LE(16);
    const configTimestamp = resources.readUInt32LE(12);
    const edidAtom = (await x.request(16, 1, named('EDID'))).readUInt32LE(8);
    const result: DisplayConnector[] = [];
    for (let index = 0; index < outputCount; index++) {
      const output = resources.readUInt32LE(32 + crtcCount * 4 + index * 4);
      const info = await x.request(randr, 9, u32(output, configTimestamp));
      const crtc = info.readUInt32LE(12);
      const widthMm = info.readUInt32LE(16);
      const heightMm = info.readUInt32LE(20);
      const connection = info[24]!;
      const [crtcs, modes, clones, nameLength] = [info.readUInt16LE(26), info.readUInt16LE(28), info.readUInt16LE(32), info.readUInt16LE(34)];
      const nameStart = 36 + (crtcs + modes + clones) * 4;
      const name = info.subarray(nameStart, nameStart + nameLength).toString('latin1');
      let edid: Uint8Array = new Uint8Array(0);
      if (edidAtom !== 0) {
        const property = await x.request(randr, 15, Buffer.concat([u32(output, edidAtom, 0, 0, 256), Buffer.alloc(4)]));
        const format = property[1]!;
        const items = property.readUInt32LE(16);
        if (format === 8) edid = Uint8Array.from(property.subarray(32, 32 + items));
      }
      result.push({
        name,
        connected: connection === 0,
        enabled: crtc !== 0,
        internal: /^(eDP|LVDS|DSI)/i.test(name),
        edid,
        widthMm,
        heightMm,
      });
    }
    return result;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
