/**
 * The USB device lister for this platform: one chooser over the per-OS modules.
 */
import { TelltaleError } from '../../../common/result';
import { execFileRunner, type CommandRunner } from '../command-runner';
import { listUsbDevicesDarwin } from './darwin';
import { listUsbDevicesLinux } from './linux';
import type { UsbDevice } from './usb-device';
import { listUsbDevicesWin32 } from './win32';

export type UsbLister = () => Promise<UsbDevice[]>;

/** Throws UNSUPPORTED_PLATFORM for anything but linux, darwin and win32. */
export function usbListerFor(platform: NodeJS.Platform, run: CommandRunner = execFileRunner): UsbLister {
  switch (platform) {
    case 'linux':
      return async () => listUsbDevicesLinux();
    case 'darwin':
      return () => listUsbDevicesDarwin(run);
    case 'win32':
      return () => listUsbDevicesWin32(run);
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `USB probing is not implemented for ${platform}`);
  }
}
