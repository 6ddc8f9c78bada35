/**
 * Linux display sources: DRM connectors in /sys/class/drm (status, enabled, EDID bytes) and the
 * output of `xrandr --props` (outputs, physical size, EDID hex) for X sessions.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export interface DisplayConnector {
  /** e.g. "card0-eDP-1" (DRM) or "HDMI-1" (xrandr). */
  readonly name: string;
  readonly connected: boolean;
  readonly enabled: boolean | null;
  /** Internal panel connector (eDP, LVDS, DSI). */
  readonly internal: boolean;
  /** EDID bytes; empty when the display gave none. */
  readonly edid: Uint8Array;
  /** Physical size in mm from xrandr, when known. */
  readonly widthMm?: number;
  readonly heightMm?: number;
}

const INTERNAL = /(^|-)(eDP|LVDS|DSI)(-|$)/i;

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** DRM connectors under `root` (default /sys/class/drm); empty when there is no DRM (VMs, containers). */
export function listDrmConnectors(root = '/sys/class/drm'): DisplayConnector[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return [];
  }
  const result: DisplayConnector[] = [];
  for (const name of entries) {
    if (!/^card\d+-/.test(name)) continue;
    const dir = path.join(root, name);
    const status = readText(path.join(dir, 'status'));
    if (status === null) continue;
    let edid: Uint8Array = new Uint8Array(0);
    try {
      edid = fs.readFileSync(path.join(dir, 'edid'));
    } catch {
      // No EDID file for this connector type.
    }
    const enabled = readText(path.join(dir, 'enabled'));
    result.push({
      name,
      connected: status === 'connected',
      enabled: enabled === null ? null : enabled === 'enabled',
      internal: INTERNAL.test(name.replace(/^card\d+-/, '')),
      edid,
    });
  }
  return result.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Parse `xrandr --props`: output lines ("HDMI-1 connected primary 1920x1080+0+0 ... 527mm x 296mm"),
 * followed by indented properties, among them "EDID:" and hex lines.
 */
export function parseXrandrProps(text: string): DisplayConnector[] {
  const result: DisplayConnector[] = [];
  let current: { name: string; connected: boolean; enabled: boolean; widthMm?: number; heightMm?: number; hex: string[] } | undefined;
  let inEdid = false;
  const flush = () => {
    if (!current) return;
    const hex = current.hex.join('');
    result.push({
      name: current.name,
      connected: current.connected,
      enabled: current.enabled,
      internal: INTERNAL.test(current.name),
      edid: Uint8Array.from(Buffer.from(hex, 'hex')),
      ...(current.widthMm !== undefined ? { widthMm: current.widthMm, heightMm: current.heightMm } : {}),
    });
  };
  for (const line of text.split('\n')) {
    const output = /^(\S+) (connected|disconnected|unknown connection)\b(.*)$/.exec(line);
    if (output) {
      flush();
      const rest = output[3]!;
      const size = /(\d+)mm x (\d+)mm/.exec(rest);
      current = {
        name: output[1]!,
        connected: output[2] === 'connected',
        // An enabled output shows its geometry ("1920x1080+0+0").
        enabled: /\d+x\d+\+\d+\+\d+/.test(rest),
        ...(size ? { widthMm: Number(size[1]), heightMm: Number(size[2]) } : {}),
        hex: [],
      };
      inEdid = false;
      continue;
    }
    if (!current) continue;
    if (/^\s+EDID:\s*$/.test(line)) {
      inEdid = true;
      continue;
    }
    if (inEdid && /^\s+[0-9a-f]{32}\s*$/i.test(line)) {
      current.hex.push(line.trim());
      continue;
    }
    inEdid = false;
  }
  flush();
  return result;
}

/**
 * Whether an X screen is a virtual framebuffer: xrandr shows no real outputs, only Xvfb's "screen"
 * or Xvnc's "VNC-0" output, or outputs with a 0 mm x 0 mm physical size and no EDID.
 */
export function isVirtualXScreen(outputs: readonly DisplayConnector[]): boolean {
  const connected = outputs.filter((output) => output.connected);
  if (connected.length === 0) return outputs.length === 0;
  return connected.every(
    (output) => /^(screen|VNC-\d+|default)$/i.test(output.name) || (output.edid.length === 0 && output.widthMm === 0 && output.heightMm === 0),
  );
}

/** Run `xrandr --props` on `display`; undefined when there is no X display or no xrandr. */
export async function readXrandr(display: string | undefined): Promise<string | undefined> {
  if (!display) return undefined;
  try {
    const { stdout } = await promisify(execFile)('xrandr', ['--props'], { env: { ...process.env, DISPLAY: display }, timeout: 10_000 });
    return stdout;
  } catch {
    return undefined;
  }
}
