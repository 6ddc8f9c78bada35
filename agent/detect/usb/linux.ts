/**
 * USB devices from /sys/bus/usb/devices: ids, strings, device class and each interface's class.
 *
 * Whether a HID pointer is absolute is read from its report descriptor when the kernel exposes it
 * (…/<interface>/<hid-device>/report_descriptor): Usage Page Generic Desktop X with the Absolute flag.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { UsbDevice, UsbInterface } from './usb-device';

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function readHex(file: string): number | null {
  const text = readText(file);
  return text === null ? null : Number.parseInt(text, 16);
}

/**
 * Whether a HID report descriptor declares an absolute pointer: an Input item (0x81) with the
 * Relative bit (0x04) clear following Usage X (0x09 0x30) on the Generic Desktop page (0x05 0x01).
 */
export function hasAbsolutePointer(descriptor: Uint8Array): boolean {
  let genericDesktop = false;
  let sawX = false;
  for (let index = 0; index < descriptor.length; ) {
    const prefix = descriptor[index]!;
    if (prefix === 0xfe) {
      index += 3 + (descriptor[index + 1] ?? 0);
      continue;
    }
    const size = [0, 1, 2, 4][prefix & 0x03]!;
    const data = descriptor[index + 1] ?? 0;
    const tag = prefix & 0xfc;
    if (tag === 0x04) genericDesktop = data === 0x01;
    else if (tag === 0x08 && genericDesktop && data === 0x30) sawX = true;
    else if (tag === 0x80 && sawX) {
      if ((data & 0x04) === 0 && (data & 0x01) === 0) return true;
      sawX = false;
    }
    index += 1 + size;
  }
  return false;
}

function readInterfaces(deviceDir: string, name: string): UsbInterface[] {
  const result: UsbInterface[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(deviceDir);
  } catch {
    return result;
  }
  for (const entry of entries) {
    if (!entry.startsWith(`${name}:`)) continue;
    const dir = path.join(deviceDir, entry);
    const interfaceClass = readHex(path.join(dir, 'bInterfaceClass'));
    if (interfaceClass === null) continue;
    let absolutePointer = false;
    if (interfaceClass === 0x03) {
      try {
        for (const child of fs.readdirSync(dir)) {
          const descriptor = path.join(dir, child, 'report_descriptor');
          if (fs.existsSync(descriptor) && hasAbsolutePointer(fs.readFileSync(descriptor))) absolutePointer = true;
        }
      } catch {
        // Descriptor unreadable: judged on classes alone.
      }
    }
    result.push({
      interfaceClass,
      subClass: readHex(path.join(dir, 'bInterfaceSubClass')) ?? 0,
      protocol: readHex(path.join(dir, 'bInterfaceProtocol')) ?? 0,
      absolutePointer,
    });
  }
  return result;
}

/** Every USB device (not root hubs' interfaces) under `root` (default /sys/bus/usb/devices). */
export function listUsbDevicesLinux(root = '/sys/bus/usb/devices'): UsbDevice[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return [];
  }
  const devices: UsbDevice[] = [];
  for (const name of entries) {
    if (name.includes(':')) continue;
    const dir = path.join(root, name);
    const vendorId = readHex(path.join(dir, 'idVendor'));
    const productId = readHex(path.join(dir, 'idProduct'));
    if (vendorId === null || productId === null) continue;
    devices.push({
      path: name,
      vendorId,
      productId,
      manufacturer: readText(path.join(dir, 'manufacturer')),
      product: readText(path.join(dir, 'product')),
      serial: readText(path.join(dir, 'serial')),
      deviceClass: readHex(path.join(dir, 'bDeviceClass')) ?? 0,
      interfaces: readInterfaces(dir, name),
    });
  }
  return devices;
}
