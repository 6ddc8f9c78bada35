/**
 * Process listing through systeminformation, kept for comparison with the /proc reader and as a
 * cross-platform fallback. It spawns `ps` and computes CPU shares, so it costs roughly 1 ms of CPU
 * per process: too expensive for every scan (see bench/detect.ts).
 */
import si from 'systeminformation';
import { baseName, type ProcessInfo } from './process-info';

export async function listProcessesSystemInformation(): Promise<ProcessInfo[]> {
  const data = await si.processes();
  return data.list.map((item) => {
    const started = Date.parse(item.started);
    const exe = item.path && item.command ? `${item.path}/${item.command}` : null;
    return {
      pid: item.pid,
      ppid: item.parentPid ?? null,
      uid: null,
      name: item.name,
      exe,
      argv0: item.command ? baseName(item.command) : null,
      script: null,
      startedAt: Number.isFinite(started) ? started : null,
    };
  });
}
