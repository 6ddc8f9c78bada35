/**
 * Reading a process's CPU time and memory from /proc (Linux).
 *
 * /proc/<pid>/stat reports CPU in clock ticks (usually 10 ms), too coarse for an idle process over
 * a few seconds, so workloads also report process.cpuUsage() (µs) over IPC; /proc is the cross-check
 * and the only way to see the CPU of a workload's own children (cutime/cstime).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecond: number | null = null;

/** sysconf(_SC_CLK_TCK), read once. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcCpu {
  /** utime + stime of the process (all its threads), ms. */
  readonly selfMs: number;
  /** cutime + cstime: CPU of children it has waited for, ms. */
  readonly childrenMs: number;
}

/** CPU time of `pid` from /proc/<pid>/stat, or null if the process is gone. */
export function readProcCpu(pid: number | 'self'): ProcCpu | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const tick = 1000 / clockTicksPerSecond();
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  const cutime = Number(fields[16 - 3]);
  const cstime = Number(fields[17 - 3]);
  return { selfMs: (utime + stime) * tick, childrenMs: (cutime + cstime) * tick };
}

/** VmRSS of `pid` in KiB from /proc/<pid>/status, or null if the process is gone. */
export function readRssKb(pid: number | 'self'): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Number of processes on the machine (numeric entries of /proc). */
export function countProcesses(): number {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
}

/** The 1-minute load average, to say how busy the machine was. */
export function loadAverage(): number {
  try {
    return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/** Pids of every descendant of `pid` (children, grandchildren...), from /proc/<n>/stat ppid fields. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Exited while we looked.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const [child, parent] of parentOf) {
      if (parent === current) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Summed VmRSS (KiB) of `pid`'s descendants: helpers it spawned and kept (e.g. an esbuild service). */
export function descendantsRssKb(pid: number): number {
  return descendants(pid).reduce((sum, child) => sum + (readRssKb(child) ?? 0), 0);
}
