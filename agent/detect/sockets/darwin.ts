/**
 * macOS sockets from `lsof -nP -iTCP` (only for the pids asked about, via `-p`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SocketInfo } from './socket-info';
import { splitHostPort } from './win32';

/**
 * Parse `lsof -nP -iTCP` output. NAME is "*:5900 (LISTEN)" or
 * "10.0.0.5:5900->10.0.0.9:51234 (ESTABLISHED)"; COMMAND may contain spaces (escaped as \x20 by lsof).
 */
export function parseLsofTcp(text: string): SocketInfo[] {
  const result: SocketInfo[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(\d+)\s+.*\sTCP\s+(\S+)\s+\((LISTEN|ESTABLISHED)\)\s*$/.exec(line);
    if (!match) continue;
    const [local, remote] = match[3]!.split('->') as [string, string | undefined];
    const localParts = splitHostPort(local);
    if (!localParts) continue;
    const remoteParts = remote ? splitHostPort(remote) : { address: localParts.address.includes(':') ? '::' : '0.0.0.0', port: 0 };
    if (!remoteParts) continue;
    result.push({
      pid: Number(match[2]),
      state: match[4] === 'LISTEN' ? 'listen' : 'established',
      localAddress: localParts.address === '*' ? '0.0.0.0' : localParts.address,
      localPort: localParts.port,
      remoteAddress: remoteParts.address,
      remotePort: remoteParts.port,
    });
  }
  return result;
}

export async function listSocketsDarwin(pids: readonly number[]): Promise<SocketInfo[]> {
  if (pids.length === 0) return [];
  try {
    const { stdout } = await promisify(execFile)('lsof', ['-nP', '-iTCP', '-a', '-p', pids.join(',')], { maxBuffer: 16 * 1024 * 1024 });
    return parseLsofTcp(stdout);
  } catch (error) {
    // lsof exits 1 when none of the pids has a TCP socket.
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

