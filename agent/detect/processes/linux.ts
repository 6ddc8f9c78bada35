/**
 * Linux process listing straight from /proc: a readdir plus three small reads per process.
 *
 * Much cheaper than systeminformation's `processes()` (which runs `ps` and computes CPU shares),
 * and it sees what the scanner needs: comm, the executable link, argv[0], owner and start time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { baseName, isInterpreter, type ProcessInfo } from './process-info';

/** Linux USER_HZ; 100 on every mainstream architecture. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Boot time (epoch ms) from /proc/stat `btime`, or null if unreadable. */
export function readBootTime(procRoot = '/proc'): number | null {
  try {
    const match = /^btime (\d+)$/m.exec(fs.readFileSync(path.join(procRoot, 'stat'), 'utf8'));
    return match ? Number(match[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Parse /proc/<pid>/stat. comm is inside parentheses and may itself contain spaces and ')', so the
 * fields are split after the LAST ')'.
 */
export function parseProcStat(text: string): { name: string; ppid: number; startTicks: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // After comm: state(3) ppid(4) ... starttime(22); fields[0] is state.
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return undefined;
  return { name: text.slice(open + 1, close), ppid, startTicks };
}

/**
 * List processes from `procRoot` (default /proc), or only those of `pids` (a check of the processes
 * started since the last scan). Processes that exit mid-read are skipped.
 */
export function listProcessesLinux(procRoot = '/proc', pids?: readonly number[]): ProcessInfo[] {
  const bootTime = readBootTime(procRoot);
  const result: ProcessInfo[] = [];
  const entries = pids?.map(String) ?? fs.readdirSync(procRoot).filter((entry) => /^\d+$/.test(entry));
  for (const entry of entries) {
    const process = readProcess(path.join(procRoot, entry), Number(entry), bootTime);
    if (process) result.push(process);
  }
  return result;
}

/** One process from its /proc folder, or undefined when it exited between the listing and the read. */
function readProcess(dir: string, pid: number, bootTime: number | null): ProcessInfo | undefined {
  try {
    const stat = parseProcStat(fs.readFileSync(path.join(dir, 'stat'), 'utf8'));
    if (!stat) return undefined;
    const uid = fs.statSync(dir).uid;
    let exe: string | null = null;
    try {
      exe = fs.readlinkSync(path.join(dir, 'exe')).replace(/ \(deleted\)$/, '');
    } catch {
      // Kernel threads have no exe; other users' processes deny the link without root.
    }
    const argv = readArgv(dir);
    const argv0 = argv[0] ? baseName(argv[0]) : null;
    const script = argv0 && isInterpreter(argv0) && argv[1] && !argv[1].startsWith('-') ? baseName(argv[1]) : null;
    return {
      pid,
      ppid: stat.ppid,
      uid,
      name: stat.name,
      exe,
      argv0: argv0 === stat.name ? null : argv0,
      script,
      startedAt: bootTime === null ? null : bootTime + Math.round((stat.startTicks * 1000) / CLOCK_TICKS_PER_SECOND),
    };
  } catch {
    return undefined;
  }
}

/** argv[0] and argv[1] only; the rest of the command line is never read into memory we keep. */
function readArgv(dir: string): string[] {
  try {
    const raw = fs.readFileSync(path.join(dir, 'cmdline'));
    const parts: string[] = [];
    let start = 0;
    for (let index = 0; index < raw.length && parts.length < 2; index++) {
      if (raw[index] === 0) {
        parts.push(raw.toString('utf8', start, index));
        start = index + 1;
      }
    }
    return parts;
  } catch {
    return [];
  }
}
