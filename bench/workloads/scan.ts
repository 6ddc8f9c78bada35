/**
 * Scan row workload: one full remote-tool scan (agent/detect/tool-scanner.ts with the real Linux
 * probes: /proc processes, sockets of matched pids, `ss` RTTs only when a session exists, install
 * path checks) against systeminformation's si.processes() alone.
 *
 * CPU per op counts this process (process.cpuUsage, µs) plus the children it waited for
 * (/proc/self/stat cutime+cstime, 10 ms ticks): si.processes() does much of its work in `ps`.
 */
import fs from 'node:fs';
import si from 'systeminformation';
import { loadCatalog, ProcessMatcher } from '../../agent/detect/catalog/catalog';
import { processListerFor } from '../../agent/detect/processes/list-processes';
import { readTcpRttLinux } from '../../agent/detect/rtt/linux';
import { socketListerFor } from '../../agent/detect/sockets/list-sockets';
import { scanTools, type ToolScanOptions } from '../../agent/detect/tool-scanner';
import { readProcCpu } from '../lib/proc';
import { serve } from './protocol';

const platform = process.platform;
const options: ToolScanOptions = {
  matcher: new ProcessMatcher(loadCatalog(), 'linux'),
  probes: {
    listProcesses: processListerFor(platform),
    listSockets: socketListerFor(platform),
    readRtt: readTcpRttLinux,
    pathExists: (file) => fs.existsSync(file),
  },
  approvedTools: [],
  platform,
};

export interface OpCost {
  /** CPU ms per op, this process plus waited-for children. */
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly ops: number;
  /** Processes the last scan saw (scanner only). */
  readonly processCount: number | null;
}

/**
 * Cost per op of `op`, repeated until both `minSeconds` of measured time and `minOps` ops have passed.
 * `gapMs` of unmeasured sleep goes between ops: si.processes() returns its cached result when called
 * again within 500 ms, and that cache hit is not the cost being compared.
 */
async function measure(op: () => Promise<number | null>, minSeconds: number, minOps: number, gapMs = 0): Promise<OpCost> {
  await op(); // warm-up: JIT, catalog, first `ps`.
  let cpuUs = 0;
  let childrenMs = 0;
  let wallNs = 0n;
  let ops = 0;
  let processCount: number | null = null;
  while (ops < minOps || Number(wallNs) / 1e9 < minSeconds) {
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    const cpu0 = process.cpuUsage();
    const children0 = readProcCpu('self')!.childrenMs;
    const start = process.hrtime.bigint();
    processCount = await op();
    wallNs += process.hrtime.bigint() - start;
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
    childrenMs += readProcCpu('self')!.childrenMs - children0;
    ops++;
  }
  return { cpuMs: (cpuUs / 1000 + childrenMs) / ops, wallMs: Number(wallNs) / 1e6 / ops, ops, processCount };
}

serve(
  {
    async scan(args) {
      const { seconds } = args as { seconds: number };
      return measure(async () => (await scanTools(options)).processCount, seconds, 3);
    },
    async siProcesses(args) {
      const { seconds } = args as { seconds: number };
      return measure(async () => (await si.processes()).list.length, seconds, 3, 600);
    },
  },
  () => undefined,
);
