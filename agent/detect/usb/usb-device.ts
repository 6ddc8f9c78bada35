/**
 * A USB device as the host sees it: ids, strings and the classes of its interfaces.
 */
export interface UsbInterface {
  /** bInterfaceClass: 0x03 HID, 0x08 mass storage, 0x0e video, 0x01 audio, 0x02/0x0a CDC... */
  readonly interfaceClass: number;
  readonly subClass: number;
  /** For HID boot interfaces: 1 keyboard, 2 mouse. */
  readonly protocol: number;
  /** True when the HID report descriptor declares absolute X/Y (a tablet/touch-style pointer). */
  readonly absolutePointer?: boolean;
}

export interface UsbDevice {
  /** sysfs name ("1-2") or another stable bus path. */
  readonly path: string;
  readonly vendorId: number;
  readonly productId: number;
  readonly manufacturer: string | null;
  readonly product: string | null;
  readonly serial: string | null;
  readonly deviceClass: number;
  readonly interfaces: readonly UsbInterface[];
}

export function usbId(device: Pick<UsbDevice, 'vendorId' | 'productId'>): string {
  return `${device.vendorId.toString(16).padStart(4, '0')}:${device.productId.toString(16).padStart(4, '0')}`;
}
