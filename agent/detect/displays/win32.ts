/**
 * Windows display sources: the monitors Windows reports as present (CIM class WmiMonitorID, as JSON
 * from PowerShell) joined with the EDID bytes Windows caches in the registry under Enum\DISPLAY
 * (`reg query ... /s /v EDID`).
 *
 * The registry keeps the EDID of every monitor ever attached, so only monitors WMI lists are turned
 * into connectors; a PiKVM plugged in last month must not raise a finding today. WmiMonitorID gives
 * no raw EDID (WmiMonitorDescriptorMethods needs a method call per monitor), hence the registry.
 * Windows does not say which monitor is the built-in panel without a third query
 * (WmiMonitorConnectionParams), so the closed-lid topology rule is not evaluated here.
 */
import type { VirtualDisplayReport } from '../hardware-scanner';
import { parseJsonRecords, ProbeError, runChecked, stringField, type CommandRunner } from '../command-runner';
import type { DisplayConnector } from './linux';

/** PowerShell for the present monitors; UTF-8 output so non-ASCII names survive the console code page. */
export const WMI_MONITOR_COMMAND =
  '[Console]::OutputEncoding = [Text.Encoding]::UTF8; Get-CimInstance -Namespace root\\wmi -ClassName WmiMonitorID | Select-Object Active,InstanceName,ManufacturerName,ProductCodeID,SerialNumberID,UserFriendlyName,WeekOfManufacture,YearOfManufacture | ConvertTo-Json';

export const REG_EDID_ARGS = ['query', 'HKLM\\SYSTEM\\CurrentControlSet\\Enum\\DISPLAY', '/s', '/v', 'EDID'] as const;

export interface WmiMonitor {
  /** Device instance path as WMI names it, e.g. `DISPLAY\DEL40F4\5&1a2b3c4d&0&UID4352_0`. */
  readonly instanceName: string;
  /** The same without WMI's `_0` suffix: the PnP instance id, and the registry key under Enum. */
  readonly deviceInstance: string;
  /** The monitor id part, manufacturer + product code: `DEL40F4`. */
  readonly monitorId: string;
  readonly active: boolean;
  readonly manufacturer: string | null;
  readonly productCode: string | null;
  readonly serial: string | null;
  readonly friendlyName: string | null;
}

/** WMI stores EDID strings as UInt16 arrays padded with zeros; ConvertTo-Json prints them as numbers. */
function decodeUInt16String(value: unknown): string | null {
  if (!Array.isArray(value)) return null;
  const codes: number[] = [];
  for (const item of value) {
    if (typeof item !== 'number' || item === 0) break;
    codes.push(item);
  }
  const text = String.fromCharCode(...codes).trim();
  return text === '' ? null : text;
}

/** Parse `Get-CimInstance -Namespace root\wmi -ClassName WmiMonitorID | ... | ConvertTo-Json`. */
export function parseWmiMonitorId(text: string): WmiMonitor[] {
  const monitors: WmiMonitor[] = [];
  for (const record of parseJsonRecords(text, 'WmiMonitorID output')) {
    const instanceName = stringField(record, 'InstanceName');
    if (instanceName === null) continue;
    const deviceInstance = instanceName.replace(/_\d+$/, '');
    const parts = deviceInstance.split('\\');
    if (parts.length < 3 || parts[0]!.toUpperCase() !== 'DISPLAY') {
      throw new ProbeError('PROBE_OUTPUT_INVALID', `WmiMonitorID instance "${instanceName}" is not a DISPLAY\\<id>\\<instance> path`);
    }
    monitors.push({
      instanceName,
      deviceInstance,
      monitorId: parts[1]!,
      // Absent in some WMI providers; a listed monitor is then taken as present.
      active: record.Active !== false,
      manufacturer: decodeUInt16String(record.ManufacturerName),
      productCode: decodeUInt16String(record.ProductCodeID),
      serial: decodeUInt16String(record.SerialNumberID),
      friendlyName: decodeUInt16String(record.UserFriendlyName),
    });
  }
  return monitors;
}

/** Registry key name of a device instance, for joining: `display\del40f4\5&1a2b3c4d&0&uid4352`. */
function instanceKey(deviceInstance: string): string {
  return deviceInstance.toLowerCase();
}

/**
 * Parse `reg query "HKLM\SYSTEM\CurrentControlSet\Enum\DISPLAY" /s /v EDID`: key lines
 * (`HKEY_LOCAL_MACHINE\...\Enum\DISPLAY\DEL40F4\<instance>\Device Parameters`), each followed by
 * `    EDID    REG_BINARY    00FFFFFFFFFFFF00...`. Returns EDID bytes by device instance
 * (`DISPLAY\DEL40F4\<instance>`, lower-cased). The localized "End of search" line is ignored.
 */
export function parseRegEdidDump(text: string): Map<string, Uint8Array> {
  const result = new Map<string, Uint8Array>();
  let current: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^HKEY_/i.test(line)) {
      const match = /\\Enum\\(DISPLAY\\[^\\]+\\[^\\]+)\\Device Parameters\s*$/i.exec(line);
      current = match ? instanceKey(match[1]!) : undefined;
      continue;
    }
    const value = /^\s+EDID\s+REG_BINARY\s+([0-9A-Fa-f]*)\s*$/.exec(line);
    if (value && current !== undefined) {
      if (value[1]!.length % 2 !== 0) throw new ProbeError('PROBE_OUTPUT_INVALID', `EDID value of ${current} has an odd number of hex digits`);
      result.set(current, Uint8Array.from(Buffer.from(value[1]!, 'hex')));
    }
  }
  return result;
}

/** One connector per monitor WMI lists, with its cached EDID (empty when the registry has none). */
export function win32DisplayConnectors(monitors: readonly WmiMonitor[], edids: ReadonlyMap<string, Uint8Array>): DisplayConnector[] {
  return monitors
    .map((monitor) => ({
      name: monitor.deviceInstance,
      connected: monitor.active,
      enabled: null,
      internal: false,
      edid: edids.get(instanceKey(monitor.deviceInstance)) ?? new Uint8Array(0),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Monitor ids of virtual display drivers, from the EDIDs those drivers ship (test/fixtures/edid/
 * kvm_edids/manifest.csv). Drivers whose EDID has a generic id (digihome VES 3700, CHY 0000, ANW
 * 0000) or an invalid PnP id (Microsoft's IddSampleDriver) are left to the EDID classifier.
 */
const VIRTUAL_MONITOR_IDS: readonly { id: string; what: string }[] = [
  { id: 'MTT1337', what: 'the "Virtual Display Driver" (MTT 1337)' },
  { id: 'PSCCDD0', what: 'the Parsec Virtual Display Adapter (PSC CDD0)' },
];

/** A report for each present monitor whose device id is a known virtual display driver's. */
export function win32VirtualDisplayReports(monitors: readonly WmiMonitor[]): VirtualDisplayReport[] {
  const reports: VirtualDisplayReport[] = [];
  for (const monitor of monitors) {
    if (!monitor.active) continue;
    const known = VIRTUAL_MONITOR_IDS.find((item) => item.id === monitor.monitorId.toUpperCase());
    if (!known) continue;
    reports.push({
      name: monitor.deviceInstance,
      connector: monitor.deviceInstance,
      signature: `win32-monitor-id-${known.id.toLowerCase()}`,
      title: 'A virtual display is active',
      reason: `Windows lists a monitor ${monitor.monitorId}, which is ${known.what}: a screen that exists only in software, where a remote session can draw.`,
      severity: 'medium',
    });
  }
  return reports;
}

/** Everything the hardware scan needs from Windows displays. */
export interface Win32Displays {
  readonly connectors: DisplayConnector[];
  readonly virtualDisplays: VirtualDisplayReport[];
}

/** Read present monitors and their cached EDIDs. Throws ProbeError when PowerShell fails. */
export async function readDisplaysWin32(run: CommandRunner): Promise<Win32Displays> {
  const wmi = await runChecked(run, 'powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', WMI_MONITOR_COMMAND]);
  const monitors = parseWmiMonitorId(wmi);
  const reg = await run('reg.exe', REG_EDID_ARGS);
  // reg exits 1 when no value matched (no monitor ever had an EDID, e.g. a VM console only).
  const edids = reg.exitCode === 0 ? parseRegEdidDump(reg.stdout) : new Map<string, Uint8Array>();
  return { connectors: win32DisplayConnectors(monitors, edids), virtualDisplays: win32VirtualDisplayReports(monitors) };
}
