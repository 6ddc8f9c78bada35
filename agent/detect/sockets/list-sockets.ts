/**
 * The socket lister for this platform: one chooser over the per-OS modules.
 */
import { TelltaleError } from '../../../common/result';
import type { TcpEntry } from '../behaviour-scanner';
import { execFileRunner, ProbeError, type CommandRunner } from '../command-runner';
import { listSocketsDarwin, parseLsofTcp } from './darwin';
import { listSocketsLinux, readTcpTableLinux, socketOwnersLinux } from './linux';
import type { SocketInfo, SocketState } from './socket-info';
import { listSocketsWin32, parseNetstatAno } from './win32';

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

/**
 * The TCP table reader for this platform. `run` is the command seam of the Windows (`netstat -ano`)
 * and macOS (`lsof -nP -iTCP`) readers; Linux reads /proc.
 */
export function tcpTableReaderFor(platform: NodeJS.Platform, run: CommandRunner = execFileRunner): TcpTableReader {
  const withPids = (sockets: readonly SocketInfo[]): TcpEntry[] => sockets.map((socket) => ({ ...socket, inode: 0 }));
  const output = async (file: string, args: readonly string[]) => {
    const result = await run(file, args);
    // lsof exits 1 when it lists nothing.
    if (result.exitCode !== 0 && !(file === 'lsof' && result.exitCode === 1)) throw new ProbeError('PROBE_COMMAND_FAILED', `${file} exited with ${result.exitCode}`);
    return result.stdout;
  };
  switch (platform) {
    case 'linux':
      return {
        readTcpTable: async () => readTcpTableLinux().map((row) => ({ ...row, state: row.state as SocketState, pid: null })),
        ownersOf: async (inodes) => socketOwnersLinux(inodes),
      };
    case 'darwin':
      return { readTcpTable: async () => withPids(parseLsofTcp(await output('lsof', ['-nP', '-iTCP']))), ownersOf: async () => new Map() };
    case 'win32':
      return { readTcpTable: async () => withPids(parseNetstatAno(await output('netstat', ['-ano']))), ownersOf: async () => new Map() };
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Socket scanning is not implemented for ${platform}`);
  }
}
