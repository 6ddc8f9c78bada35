/**
 * Scan row workload: one detection cycle of the agent's real DetectionService (`runOnce`: the
 * remote-tool scan over /proc, sockets of matched pids, `ss` RTTs only when a session exists,
 * install-path checks, then reconcileFindings into a real SQLite file, then the hardware change
 * token), against systeminformation's si.processes() alone. A second variant advances the
 * service's clock by a minute before each cycle so the once-a-minute hardware probe (displays,
 * EDID, USB) runs too.
 *
 * CPU per op counts this process (process.cpuUsage, µs) plus the children it waited for
 * (/proc/self/stat cutime+cstime, 10 ms ticks): si.processes() does much of its work in `ps`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import si from 'systeminformation';
import type { AgentContext } from '../../agent/context';
import { DetectionService } from '../../agent/detect/detection-service';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { DEFAULT_POLICY } from '../../common/policy';
import { readProcCpu } from '../lib/proc';
import { serve } from './protocol';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-bench-scan-'));
const db = openDatabase(path.join(dataDir, 'telltale.db'));
let clockOffsetMs = 0;
const ctx: AgentContext = {
  db,
  policy: DEFAULT_POLICY,
  clock: { now: () => Date.now() + clockOffsetMs },
  logger: { log: () => undefined },
  dataDir,
  agentVersion: '0.1.0-bench',
  events: new AgentEvents(),
};
// Not started: the bench calls runOnce itself, so no timer scans behind its back.
const detection = new DetectionService(ctx);

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
async function measure(op: () => Promise<number | null>, minSeconds: number, minOps: number, gapMs = 0, warmup = true): Promise<OpCost> {
  if (warmup) await op(); // JIT, catalog, first `ps`.
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
      return measure(async () => {
        await detection.runOnce();
        return detection.lastToolScan?.processCount ?? null;
      }, seconds, 3);
    },
    async scanWithHardware(args) {
      const { seconds } = args as { seconds: number };
      return measure(async () => {
        clockOffsetMs += 61_000;
        await detection.runOnce();
        return detection.lastToolScan?.processCount ?? null;
      }, seconds, 3);
    },
    async siProcesses(args) {
      const { seconds, minOps, warmup } = args as { seconds: number; minOps?: number; warmup?: boolean };
      return measure(async () => (await si.processes()).list.length, seconds, minOps ?? 3, 600, warmup ?? true);
    },
  },
  () => {
    db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  },
);
