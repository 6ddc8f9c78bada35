/**
 * macOS USB devices from `system_profiler SPUSBDataType -json` (the report of macOS 10.15 to 15),
 * folded into the shared USB device model.
 *
 * Each bus has `_items`, nested under hubs. vendor_id reads "0x046d  (Logitech Inc.)" (or
 * "apple_vendor_id" for Apple's own devices), product_id "0xc31c"; `_name` is the product string.
 * The report has no interface classes, so only the id and string rules apply on macOS; the
 * class-combination rule needs `ioreg -p IOUSB -l` interface objects, which are not read yet.
 */
import { parseJsonRecords, ProbeError, runChecked, stringField, type CommandRunner } from '../command-runner';
import type { UsbDevice } from './usb-device';

export const SYSTEM_PROFILER_USB_ARGS = ['SPUSBDataType', '-json'] as const;

const APPLE_VENDOR_ID = 0x05ac;

function parseHexId(value: string | null): number | null {
  if (value === null) return null;
  if (value === 'apple_vendor_id') return APPLE_VENDOR_ID;
  const match = /^\s*0x([0-9a-f]{1,4})\b/i.exec(value);
  return match ? Number.parseInt(match[1]!, 16) : null;
}

/** Parse `system_profiler SPUSBDataType -json` into devices (hubs included, buses not). */
export function parseSystemProfilerUsb(text: string): UsbDevice[] {
  const [root] = parseJsonRecords(text, 'system_profiler SPUSBDataType output');
  if (root === undefined) return [];
  const buses = root.SPUSBDataType;
  if (!Array.isArray(buses)) throw new ProbeError('PROBE_OUTPUT_INVALID', 'system_profiler output has no SPUSBDataType list');
  const devices: UsbDevice[] = [];
  const visit = (items: unknown, busName: string) => {
    if (!Array.isArray(items)) return;
    for (const item of items as Record<string, unknown>[]) {
      const vendorId = parseHexId(stringField(item, 'vendor_id'));
      const productId = parseHexId(stringField(item, 'product_id'));
      const name = stringField(item, '_name');
      if (vendorId !== null && productId !== null) {
        const location = stringField(item, 'location_id');
        devices.push({
          // "0x14200000 / 2": the location id is the stable bus path; the part after "/" is the address.
          path: location?.split('/')[0]!.trim() ?? `${busName}/${name ?? devices.length}`,
          vendorId,
          productId,
          manufacturer: stringField(item, 'manufacturer'),
          product: name?.trim() ?? null,
          serial: stringField(item, 'serial_num'),
          deviceClass: 0,
          interfaces: [],
        });
      }
      visit(item._items, busName);
    }
  };
  for (const bus of buses as Record<string, unknown>[]) visit(bus._items, stringField(bus, '_name') ?? 'bus');
  return devices;
}

/** List USB devices. Throws ProbeError when system_profiler fails. */
export async function listUsbDevicesDarwin(run: CommandRunner): Promise<UsbDevice[]> {
  return parseSystemProfilerUsb(await runChecked(run, 'system_profiler', SYSTEM_PROFILER_USB_ARGS, { timeoutMs: 60_000 }));
}
