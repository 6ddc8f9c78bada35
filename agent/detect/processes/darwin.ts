/**
 * macOS process listing: `ps -axww -o pid=,ppid=,uid=,comm=`.
 *
 * comm is the last column, so an executable path with spaces ("/Applications/AnyDesk.app/Contents/
 * MacOS/AnyDesk") is read whole; no arguments are requested at all.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { baseName, type ProcessInfo } from './process-info';

export const DARWIN_PS_ARGS = ['-axww', '-o', 'pid=,ppid=,uid=,comm='] as const;

/** Parse the output of `ps -axww -o pid=,ppid=,uid=,comm=` (a header line, if present, is skipped). */
export function parseDarwinPs(text: string): ProcessInfo[] {
  const result: ProcessInfo[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.+?)\s*$/.exec(line);
    if (!match) continue;
    const comm = match[4]!;
    const isPath = comm.startsWith('/');
    result.push({
      pid: Number(match[1]),
      ppid: Number(match[2]),
      uid: Number(match[3]),
      name: baseName(comm),
      exe: isPath ? comm : null,
      argv0: null,
      script: null,
      startedAt: null,
    });
  }
  return result;
}

export async function listProcessesDarwin(): Promise<ProcessInfo[]> {
  const { stdout } = await promisify(execFile)('ps', [...DARWIN_PS_ARGS], { maxBuffer: 16 * 1024 * 1024 });
  return parseDarwinPs(stdout);
}
