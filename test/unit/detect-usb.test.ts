import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { classifyUsbDevice } from '../../agent/detect/usb/classify-usb';
import { hasAbsolutePointer, listUsbDevicesLinux } from '../../agent/detect/usb/linux';

interface FixtureInterface {
  class: number;
  subclass: number;
  protocol: number;
  reportDescriptor?: string;
}
interface FixtureDevice {
  label: string;
  flag: boolean;
  idVendor: string;
  idProduct: string;
  manufacturer: string | null;
  product: string | null;
  serial: string | null;
  bDeviceClass: string;
  interfaces: FixtureInterface[];
}

const fixtures: FixtureDevice[] = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/usb/devices.json'), 'utf8'),
) as FixtureDevice[];

/** Lay the fixtures out the way the kernel does under /sys/bus/usb/devices. */
function writeSysfs(root: string): Map<string, FixtureDevice> {
  const byPath = new Map<string, FixtureDevice>();
  fixtures.forEach((device, index) => {
    const name = `1-${index + 1}`;
    const dir = path.join(root, name);
    fs.mkdirSync(dir, { recursive: true });
    const write = (file: string, value: string | null) => {
      if (value !== null) fs.writeFileSync(path.join(dir, file), `${value}\n`);
    };
    write('idVendor', device.idVendor);
    write('idProduct', device.idProduct);
    write('manufacturer', device.manufacturer);
    write('product', device.product);
    write('serial', device.serial);
    write('bDeviceClass', device.bDeviceClass);
    device.interfaces.forEach((item, number) => {
      const interfaceDir = path.join(dir, `${name}:1.${number}`);
      fs.mkdirSync(interfaceDir);
      const hex = (value: number) => value.toString(16).padStart(2, '0');
      fs.writeFileSync(path.join(interfaceDir, 'bInterfaceClass'), `${hex(item.class)}\n`);
      fs.writeFileSync(path.join(interfaceDir, 'bInterfaceSubClass'), `${hex(item.subclass)}\n`);
      fs.writeFileSync(path.join(interfaceDir, 'bInterfaceProtocol'), `${hex(item.protocol)}\n`);
      if (item.reportDescriptor) {
        const hidDir = path.join(interfaceDir, `0003:${device.idVendor.toUpperCase()}:${device.idProduct.toUpperCase()}.000${number}`);
        fs.mkdirSync(hidDir);
        fs.writeFileSync(path.join(hidDir, 'report_descriptor'), Buffer.from(item.reportDescriptor, 'hex'));
      }
    });
    byPath.set(name, device);
  });
  return byPath;
}

describe('USB IP-KVM gadget detection', () => {
  it('flags PiKVM, TinyPilot, NanoKVM, GL.iNet and spoofed-id gadgets, and no ordinary keyboard or mouse', (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-usb-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const byPath = writeSysfs(root);
    const devices = listUsbDevicesLinux(root);
    assert.equal(devices.length, fixtures.length);
    const results: string[] = [];
    for (const device of devices) {
      const fixture = byPath.get(device.path)!;
      const result = classifyUsbDevice(device);
      results.push(`${fixture.flag === (result !== undefined) ? 'ok' : 'WRONG'} ${fixture.label}: ${result?.signature ?? 'not flagged'}`);
    }
    console.log(results.join('\n'));
    assert.deepEqual(results.filter((line) => line.startsWith('WRONG')), []);
    assert.equal(fixtures.filter((item) => item.flag).length, 6);
    assert.equal(fixtures.filter((item) => !item.flag).length, 9);
  });

  it('catches a spoofed id by structure, not by id', (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-usb-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const byPath = writeSysfs(root);
    const spoofed = listUsbDevicesLinux(root).filter((device) => /spoofed/i.test(byPath.get(device.path)!.label));
    assert.equal(spoofed.length, 2);
    for (const device of spoofed) assert.equal(classifyUsbDevice(device)?.confidence, 'structure');
  });

  it('tells absolute from relative pointers in HID report descriptors', () => {
    const absolute = fixtures[0]!.interfaces.find((item) => item.protocol === 0)!.reportDescriptor!;
    const relative = fixtures[0]!.interfaces.find((item) => item.protocol === 2)!.reportDescriptor!;
    assert.equal(hasAbsolutePointer(Buffer.from(absolute, 'hex')), true);
    assert.equal(hasAbsolutePointer(Buffer.from(relative, 'hex')), false);
    assert.equal(hasAbsolutePointer(Buffer.from(fixtures[0]!.interfaces[0]!.reportDescriptor!, 'hex')), false);
  });

  it('reads this machine\'s real sysfs without throwing', () => {
    const devices = listUsbDevicesLinux();
    assert.ok(Array.isArray(devices));
    for (const device of devices) assert.ok(Number.isInteger(device.vendorId));
  });
});
