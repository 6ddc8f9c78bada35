/**
 * The socket lister for this platform: one chooser over the per-OS modules.
 */
import { TelltaleError } from '../../../common/result';
import type { TcpEntry } from '../behaviour-scanner';
import { listAllSocketsDarwin, listSocketsDarwin } from './darwin';
import { listSocketsLinux, readTcpTableLinux, socketOwnersLinux } from './linux';
import type { SocketInfo, SocketState } from './socket-info';
import { listAllSocketsWin32, listSocketsWin32 } from './win32';

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

/** Every TCP socket of the machine, for the behaviour scan: Linux without pids (inodes instead). */
export interface TcpTableReader {
  readTcpTable(): Promise<TcpEntry[]>;
  ownersOf(inodes: ReadonlySet<number>): Promise<Map<number, number>>;
}

export function tcpTableReaderFor(platform: NodeJS.Platform): TcpTableReader {
  const withPids = (sockets: readonly SocketInfo[]): TcpEntry[] => sockets.map((socket) => ({ ...socket, inode: 0 }));
  switch (platform) {
    case 'linux':
      return {
        readTcpTable: async () => readTcpTableLinux().map((row) => ({ ...row, state: row.state as SocketState, pid: null })),
        ownersOf: async (inodes) => socketOwnersLinux(inodes),
      };
    case 'darwin':
      return { readTcpTable: async () => withPids(await listAllSocketsDarwin()), ownersOf: async () => new Map() };
    case 'win32':
      return { readTcpTable: async () => withPids(await listAllSocketsWin32()), ownersOf: async () => new Map() };
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Socket scanning is not implemented for ${platform}`);
  }
}
