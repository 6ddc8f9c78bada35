/**
 * Windows sockets from `netstat -ano -p TCP` (and TCPv6): owning pid is the last column.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SocketInfo } from './socket-info';

/** Split "[::1]:5900" or "127.0.0.1:5900" into address and port. */
export function splitHostPort(text: string): { address: string; port: number } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d+|\*)$/.exec(text);
  if (!match) return undefined;
  return { address: match[1]!.replace(/%\d+$/, ''), port: match[2] === '*' ? 0 : Number(match[2]) };
}

/** Parse `netstat -ano` output (English state names; other protocols and states are ignored). */
export function parseNetstatAno(text: string): SocketInfo[] {
  const result: SocketInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'TCP' || fields.length < 5) continue;
    const state = fields[3] === 'LISTENING' ? 'listen' : fields[3] === 'ESTABLISHED' ? 'established' : undefined;
    const local = splitHostPort(fields[1]!);
    const remote = splitHostPort(fields[2]!);
    if (!state || !local || !remote) continue;
    result.push({ pid: Number(fields[4]), state, localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port });
  }
  return result;
}

export async function listSocketsWin32(pids: readonly number[]): Promise<SocketInfo[]> {
  if (pids.length === 0) return [];
  const wanted = new Set(pids);
  return (await listAllSocketsWin32()).filter((socket) => wanted.has(socket.pid));
}

/** Every TCP socket with its owning pid (netstat -ano needs no elevation for the pid column). */
export async function listAllSocketsWin32(): Promise<SocketInfo[]> {
  const { stdout } = await promisify(execFile)('netstat', ['-ano'], { maxBuffer: 16 * 1024 * 1024, windowsHide: true });
  return parseNetstatAno(stdout);
}
