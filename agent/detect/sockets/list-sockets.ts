/**
 * The socket lister for this platform: one chooser over the per-OS modules.
 */
import { TelltaleError } from '../../../common/result';
import { listSocketsDarwin } from './darwin';
import { listSocketsLinux } from './linux';
import type { SocketInfo } from './socket-info';
import { listSocketsWin32 } from './win32';

export type SocketLister = (pids: readonly number[]) => Promise<SocketInfo[]>;

export function socketListerFor(platform: NodeJS.Platform): SocketLister {
  switch (platform) {
    case 'linux':
      return async (pids) => listSocketsLinux(pids);
    case 'darwin':
      return listSocketsDarwin;
    case 'win32':
      return listSocketsWin32;
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Socket scanning is not implemented for ${platform}`);
  }
}
