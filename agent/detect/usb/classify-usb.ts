/**
 * USB signatures of IP-KVM gadgets.
 *
 * An IP-KVM presents itself to the target computer as a USB "gadget": PiKVM, TinyPilot and JetKVM use
 * the Linux Foundation composite-gadget id 1d6b:0104 by default, NanoKVM 3346:1009, GL.iNet 38eb:*.
 * Operators can change ids and strings, so a structural rule backs the id list: one device exposing a
 * HID keyboard AND a HID pointer AND mass storage (the virtual CD/flash drive KVMs offer), or a HID
 * pointer with absolute coordinates next to a keyboard, which ordinary keyboards and mice never do.
 */
import type { UsbDevice } from './usb-device';
import { usbId } from './usb-device';

export interface UsbClassification {
  readonly signature: string;
  readonly confidence: 'id' | 'strings' | 'structure';
  readonly reason: string;
}

const HID = 0x03;
const MASS_STORAGE = 0x08;

const KNOWN_IDS: readonly { vendor: number; product: number | 'any'; signature: string; what: string }[] = [
  { vendor: 0x1d6b, product: 0x0104, signature: 'linux-composite-gadget', what: 'the Linux "Multifunction Composite Gadget" id used by default by PiKVM, TinyPilot and JetKVM' },
  { vendor: 0x3346, product: 0x1009, signature: 'nanokvm-gadget', what: "Sipeed NanoKVM's default gadget id" },
  { vendor: 0x38eb, product: 'any', signature: 'glinet-gadget', what: "GL.iNet's vendor id (GLKVM / Comet)" },
];

const KVM_STRINGS = /pikvm|pi-kvm|tinypilot|glinet|gl\.inet|glkvm|nanokvm|jetkvm|blikvm|kvmd/i;

/** Classify one USB device; undefined for ordinary devices. */
export function classifyUsbDevice(device: UsbDevice): UsbClassification | undefined {
  const id = usbId(device);
  const label = [device.manufacturer, device.product].filter(Boolean).join(' ') || 'no name';
  for (const known of KNOWN_IDS) {
    if (device.vendorId === known.vendor && (known.product === 'any' || known.product === device.productId)) {
      return { signature: known.signature, confidence: 'id', reason: `A USB device (${id}, "${label}") uses ${known.what}.` };
    }
  }
  const strings = [device.manufacturer, device.product, device.serial].filter((text): text is string => text !== null);
  if (strings.some((text) => KVM_STRINGS.test(text))) {
    return { signature: 'kvm-strings', confidence: 'strings', reason: `A USB device (${id}) names itself "${label}", an IP-KVM.` };
  }
  const hid = device.interfaces.filter((item) => item.interfaceClass === HID);
  const keyboard = hid.some((item) => item.protocol === 1);
  const pointer = hid.some((item) => item.protocol === 2 || item.absolutePointer === true);
  const absolute = hid.some((item) => item.absolutePointer === true);
  const storage = device.interfaces.some((item) => item.interfaceClass === MASS_STORAGE);
  if (keyboard && pointer && storage) {
    return {
      signature: 'hid-combo-with-storage',
      confidence: 'structure',
      reason: `One USB device (${id}, "${label}") is at once a keyboard, a mouse and a storage drive: the shape of an IP-KVM gadget, whatever its id says.`,
    };
  }
  if (keyboard && absolute) {
    return {
      signature: 'keyboard-with-absolute-pointer',
      confidence: 'structure',
      reason: `One USB device (${id}, "${label}") is a keyboard plus an absolute-position pointer, as IP-KVMs present themselves; ordinary mice move relatively.`,
    };
  }
  return undefined;
}
