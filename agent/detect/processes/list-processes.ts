/**
 * The process lister for this platform: one chooser over the per-OS modules.
 */
import { TelltaleError } from '../../../common/result';
import { listProcessesDarwin } from './darwin';
import { listProcessesLinux } from './linux';
import type { ProcessInfo } from './process-info';
import { listProcessesWin32 } from './win32';

export type ProcessLister = () => Promise<ProcessInfo[]>;

/** Throws UNSUPPORTED_PLATFORM for anything but linux, darwin and win32. */
export function processListerFor(platform: NodeJS.Platform): ProcessLister {
  switch (platform) {
    case 'linux':
      return async () => listProcessesLinux();
    case 'darwin':
      return listProcessesDarwin;
    case 'win32':
      return listProcessesWin32;
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Process scanning is not implemented for ${platform}`);
  }
}
