/**
 * macOS display sources: EDID bytes from the I/O Registry (`ioreg -lw0 -r -c IODisplayConnect` on
 * Intel Macs, `ioreg -lw0 -r -c IOMobileFramebuffer` on Apple Silicon, whose AppleCLCD2 and
 * IOMobileFramebufferShim objects derive from it) and the display list of
 * `system_profiler SPDisplaysDataType -json` (built-in or not, virtual devices, AirPlay/Sidecar).
 *
 * Apple Silicon does not always publish the raw EDID; its `"EDID UUID"` property still carries EDID
 * bytes 8..23 (manufacturer, product code, week, year, version, size; the serial zeroed), from which an
 * identity-only base block is rebuilt so the identity rules of the EDID classifier still apply. Such
 * connectors carry "(EDID UUID)" in their name so the evidence says the bytes were rebuilt. Displays
 * without either are skipped: on macOS a missing EDID is normal (the built-in panel often has none),
 * so it is not reported. Closed-lid topology is not evaluated: in clamshell mode macOS drops the
 * built-in display from both sources instead of marking it off.
 */
import type { VirtualDisplayReport } from '../hardware-scanner';
import { parseJsonRecords, ProbeError, runChecked, stringField, type CommandRunner } from '../command-runner';
import type { DisplayConnector } from './linux';

export const IOREG_INTEL_ARGS = ['-lw0', '-r', '-c', 'IODisplayConnect'] as const;
export const IOREG_APPLE_SILICON_ARGS = ['-lw0', '-r', '-c', 'IOMobileFramebuffer'] as const;
export const SYSTEM_PROFILER_DISPLAYS_ARGS = ['SPDisplaysDataType', '-json'] as const;

/** One display's EDID as found in the I/O Registry. */
export interface IoregDisplay {
  /** Registry name of the matched object ("display0", "AppleCLCD2"), made unique with "#2", "#3". */
  readonly name: string;
  /** Raw EDID, or an identity-only block rebuilt from "EDID UUID". */
  readonly edid: Uint8Array;
  readonly fromUuid: boolean;
}

/** Properties that hold raw EDID bytes; the device's own (Original) before an override. */
const EDID_KEYS = ['IODisplayEDIDOriginal', 'IODisplayEDID', 'EDID'] as const;

/**
 * Rebuild a 128-byte base block from an "EDID UUID" ("10AC7942-0000-0000-3021-0104B53C2278"): the
 * header, the 16 bytes the UUID holds at offsets 8..23, an optional monitor name descriptor, zeros
 * elsewhere and a valid checksum. Returns undefined for anything that is not 32 hex digits.
 */
export function edidFromUuid(uuid: string, name: string | null): Uint8Array | undefined {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(128);
  bytes.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], 0);
  bytes.set(Buffer.from(hex, 'hex'), 8);
  // Descriptor 1 (offset 54) as "unused" (tag 0x10) so the parser reads no bogus timing from zeros.
  bytes.set([0, 0, 0, 0x10, 0], 54);
  bytes.set([0, 0, 0, 0x10, 0], 72);
  bytes.set([0, 0, 0, 0x10, 0], 108);
  if (name) {
    const text = `${name.slice(0, 13)}\n`.padEnd(13, ' ').slice(0, 13);
    bytes.set([0, 0, 0, 0xfc, 0], 90);
    bytes.set(Buffer.from(text, 'latin1'), 95);
  } else {
    bytes.set([0, 0, 0, 0x10, 0], 90);
  }
  let sum = 0;
  for (let index = 0; index < 127; index++) sum = (sum + bytes[index]!) & 0xff;
  bytes[127] = (256 - sum) & 0xff;
  return bytes;
}

/**
 * Parse `ioreg -lw0 -r -c <class>` output. Each line starting "+-o" at column 0 is a matched object;
 * indented "+-o" lines are its children, whose properties count for it (on Intel the EDID sits in the
 * AppleDisplay child of IODisplayConnect). Top-level properties print as `"Key" = <hex>`, nested ones
 * as `"Key"=<hex>`; both are read.
 */
export function parseIoregDisplays(text: string): IoregDisplay[] {
  const blocks: { name: string; lines: string[] }[] = [];
  for (const line of text.split('\n')) {
    const root = /^\+-o (.+?)\s{2}<class /.exec(line);
    if (root) {
      blocks.push({ name: root[1]!, lines: [] });
      continue;
    }
    blocks[blocks.length - 1]?.lines.push(line);
  }
  const seen = new Map<string, number>();
  const result: IoregDisplay[] = [];
  for (const block of blocks) {
    const body = block.lines.join('\n');
    const count = (seen.get(block.name) ?? 0) + 1;
    seen.set(block.name, count);
    const name = count === 1 ? block.name : `${block.name}#${count}`;
    let raw: Uint8Array | undefined;
    for (const key of EDID_KEYS) {
      const match = new RegExp(`"${key}"\\s*=\\s*<([0-9a-fA-F]*)>`).exec(body);
      if (!match || match[1] === '') continue;
      if (match[1]!.length % 2 !== 0) throw new ProbeError('PROBE_OUTPUT_INVALID', `ioreg ${key} of ${name} has an odd number of hex digits`);
      raw = Uint8Array.from(Buffer.from(match[1]!, 'hex'));
      break;
    }
    if (raw) {
      result.push({ name, edid: raw, fromUuid: false });
      continue;
    }
    const uuid = /"EDID UUID"\s*=\s*"([0-9A-Fa-f-]+)"/.exec(body);
    if (!uuid) continue;
    const productName = /"ProductName"\s*=\s*"([^"]*)"/.exec(body)?.[1] ?? /"DisplayProductName"\s*=\s*\{[^}]*?="([^"]*)"/.exec(body)?.[1] ?? null;
    const rebuilt = edidFromUuid(uuid[1]!, productName);
    if (rebuilt) result.push({ name: `${name} (EDID UUID)`, edid: rebuilt, fromUuid: true });
  }
  return result;
}

/** One display as system_profiler lists it. */
export interface ProfilerDisplay {
  readonly name: string;
  /** EDID manufacturer word as 4 hex digits ("10ac"), or the 8-digit pseudo ids of virtual displays. */
  readonly vendorId: string | null;
  readonly productId: string | null;
  /** `spdisplays_connection_type` without its prefix: "internal", "airplay", or null (external cable). */
  readonly connectionType: string | null;
  readonly virtualDevice: boolean;
  readonly online: boolean;
}

/** Vendor id system_profiler gives displays that have no EDID vendor: "unkn" in ASCII. */
const UNKNOWN_VENDOR = '756e6b6e';

const yes = (value: unknown) => value === 'spdisplays_yes';

/** Parse `system_profiler SPDisplaysDataType -json`: every display of every GPU. */
export function parseSystemProfilerDisplays(text: string): ProfilerDisplay[] {
  const [root] = parseJsonRecords(text, 'system_profiler SPDisplaysDataType output');
  if (root === undefined) return [];
  const gpus = root.SPDisplaysDataType;
  if (!Array.isArray(gpus)) throw new ProbeError('PROBE_OUTPUT_INVALID', 'system_profiler output has no SPDisplaysDataType list');
  const displays: ProfilerDisplay[] = [];
  for (const gpu of gpus as Record<string, unknown>[]) {
    const list = gpu.spdisplays_ndrvs;
    if (!Array.isArray(list)) continue;
    for (const item of list as Record<string, unknown>[]) {
      const vendorId = stringField(item, '_spdisplays_display-vendor-id');
      const connection = stringField(item, 'spdisplays_connection_type');
      displays.push({
        name: stringField(item, '_name') ?? 'Display',
        vendorId: vendorId === null ? null : vendorId.toLowerCase(),
        productId: stringField(item, '_spdisplays_display-product-id')?.toLowerCase() ?? null,
        connectionType: connection === null ? null : connection.replace(/^spdisplays_/, ''),
        virtualDevice: yes(item.spdisplays_virtualdevice) || yes(item._spdisplays_virtualdevice) || vendorId === UNKNOWN_VENDOR,
        // Absent on some models for the main display; only an explicit "no" means offline.
        online: item.spdisplays_online !== 'spdisplays_no',
      });
    }
  }
  return displays;
}

/** Whether a system_profiler display is the one an EDID describes (vendor word and product code). */
function sameDisplay(display: ProfilerDisplay, edid: Uint8Array): boolean {
  if (display.vendorId === null || display.productId === null || edid.length < 12) return false;
  const vendor = ((edid[8]! << 8) | edid[9]!).toString(16);
  const product = (edid[10]! | (edid[11]! << 8)).toString(16);
  return Number.parseInt(display.vendorId, 16).toString(16) === vendor && Number.parseInt(display.productId, 16).toString(16) === product;
}

/** Connectors from ioreg EDIDs; `internal` when system_profiler calls the same display built-in. */
export function darwinDisplayConnectors(ioreg: readonly IoregDisplay[], profiler: readonly ProfilerDisplay[]): DisplayConnector[] {
  return ioreg.map((item) => ({
    name: item.name,
    connected: true,
    enabled: null,
    internal: profiler.some((display) => display.connectionType === 'internal' && sameDisplay(display, item.edid)),
    edid: item.edid,
  }));
}

/** Reports for displays macOS itself calls virtual, or shows on another device over AirPlay/Sidecar. */
export function darwinVirtualDisplayReports(profiler: readonly ProfilerDisplay[]): VirtualDisplayReport[] {
  const reports: VirtualDisplayReport[] = [];
  for (const display of profiler) {
    if (!display.online) continue;
    if (display.connectionType === 'airplay') {
      reports.push({
        name: display.name,
        connector: null,
        signature: 'macos-airplay-display',
        title: 'The screen is extended to another device',
        reason: `macOS shows "${display.name}" over AirPlay or Sidecar: part of the desktop is displayed on another device.`,
        severity: 'low',
      });
    } else if (display.virtualDevice) {
      reports.push({
        name: display.name,
        connector: null,
        signature: 'macos-virtual-device',
        title: 'A virtual display is active',
        reason: `macOS lists "${display.name}" as a virtual display: a screen that exists only in software, as display-emulation and remote-access tools create for a remote session.`,
        severity: 'medium',
      });
    }
  }
  return reports;
}

/** Everything the hardware scan needs from macOS displays. */
export interface DarwinDisplays {
  readonly connectors: DisplayConnector[];
  readonly virtualDisplays: VirtualDisplayReport[];
}

/** Read both ioreg trees (one of them is empty on any given Mac) and system_profiler. */
export async function readDisplaysDarwin(run: CommandRunner): Promise<DarwinDisplays> {
  const intel = await runChecked(run, 'ioreg', IOREG_INTEL_ARGS);
  const appleSilicon = await runChecked(run, 'ioreg', IOREG_APPLE_SILICON_ARGS);
  const profiler = parseSystemProfilerDisplays(await runChecked(run, 'system_profiler', SYSTEM_PROFILER_DISPLAYS_ARGS, { timeoutMs: 60_000 }));
  const ioreg = [...parseIoregDisplays(intel), ...parseIoregDisplays(appleSilicon)];
  return { connectors: darwinDisplayConnectors(ioreg, profiler), virtualDisplays: darwinVirtualDisplayReports(profiler) };
}
