/**
 * The display reader for this platform: one chooser over the per-OS modules.
 */
import { TelltaleError } from '../../../common/result';
import { execFileRunner, type CommandRunner } from '../command-runner';
import type { HardwareSnapshot } from '../hardware-scanner';
import { readDisplaysDarwin } from './darwin';
import { listDrmConnectors, parseXrandrProps, readXrandr } from './linux';
import { readDisplaysWin32 } from './win32';
import { readRandrOutputs } from './x11-randr';

/** The display half of a hardware snapshot. */
export type DisplaySnapshot = Omit<HardwareSnapshot, 'usbDevices'>;

export type DisplayReader = () => Promise<DisplaySnapshot>;

/**
 * Linux: DRM connectors plus the X screen's outputs when the agent has a DISPLAY: from `xrandr
 * --props` when installed, else through the X protocol directly (x11-randr.ts). Without either the
 * snapshot has no xOutputs and the service logs it once.
 */
async function readDisplaysLinux(): Promise<DisplaySnapshot> {
  const xDisplay = process.env.DISPLAY;
  const xrandr = await readXrandr(xDisplay);
  const xOutputs = xrandr !== undefined ? parseXrandrProps(xrandr) : xDisplay ? await readRandrOutputs(xDisplay).catch(() => undefined) : undefined;
  return {
    connectors: listDrmConnectors(),
    ...(xOutputs !== undefined ? { xOutputs } : {}),
    ...(xDisplay ? { xDisplay } : {}),
  };
}

/**
 * Throws UNSUPPORTED_PLATFORM for anything but linux, darwin and win32. `run` is the command seam
 * the macOS and Windows readers use (Linux reads sysfs and spawns xrandr itself).
 */
export function displayReaderFor(platform: NodeJS.Platform, run: CommandRunner = execFileRunner): DisplayReader {
  switch (platform) {
    case 'linux':
      return readDisplaysLinux;
    case 'darwin':
      return () => readDisplaysDarwin(run);
    case 'win32':
      return () => readDisplaysWin32(run);
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Display probing is not implemented for ${platform}`);
  }
}
