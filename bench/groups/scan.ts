/**
 * Scan rows: CPU and wall time of one full remote-tool scan against si.processes() alone, then the
 * scan's cost with about 100, 500 and 2,000 processes on the machine (extra `sleep` processes
 * started and killed here) to check that it grows linearly.
 */
import { Workload } from '../lib/children';
import type { Group } from '../lib/group';
import { countProcesses } from '../lib/proc';
import { startSleepers } from '../lib/sleepers';
import { spreadOf, type Row } from '../lib/summary';
import type { OpCost } from '../workloads/scan';

const SCALE_POINTS = [100, 500, 2000] as const;

/** One scaling point: the process count reached and per-run CPU of a cycle and of si.processes(). */
interface ScalePoint {
  readonly target: number;
  readonly processes: number;
  readonly cpu: number[];
  readonly siCpu: number[];
}

const ROWS = [
  { name: 'Scan: one detection cycle (tool scan + findings), CPU', targetText: 'ratio ≤ 0.05' },
  { name: 'Scan: one detection cycle, wall time', targetText: 'ratio ≤ 0.05' },
  { name: 'Scan: cycle with the once-a-minute hardware probe, CPU', targetText: '— (vs si.processes())' },
  ...SCALE_POINTS.map((point) => ({ name: `Scan scaling: cycle CPU at ~${point} processes`, targetText: 'ratio ≤ 0.05' })),
  { name: 'Scan scaling: marginal CPU/process, upper vs lower range', targetText: 'ratio ≤ 1.5 (linear)' },
];

export const scanGroup: Group = {
  name: 'scan',
  rows: ROWS,
  async run(context) {
    const runs = context.options.runs;
    const scanSeconds = context.seconds(1, 0.4);
    const siSeconds = context.seconds(0.8, 0.3);
    const rows: Row[] = [];
    const workload = await Workload.start('scan');
    try {
      const scans: OpCost[] = [];
      const sis: OpCost[] = [];
      const hardware: OpCost[] = [];
      for (let run = 0; run < runs; run++) {
        scans.push(await workload.request<OpCost>('scan', { seconds: scanSeconds }));
        hardware.push(await workload.request<OpCost>('scanWithHardware', { seconds: scanSeconds }));
        sis.push(await workload.request<OpCost>('siProcesses', { seconds: siSeconds }));
        context.log(
          `scan run ${run + 1}: scan ${scans.at(-1)!.cpuMs.toFixed(1)} ms CPU / ${scans.at(-1)!.wallMs.toFixed(1)} ms wall; si.processes ${sis.at(-1)!.cpuMs.toFixed(0)} ms CPU / ${sis.at(-1)!.wallMs.toFixed(0)} ms wall`,
        );
      }
      const notes = `${scans[0]?.processCount ?? '?'} processes; DetectionService.runOnce on a real SQLite file; scan variants and si.processes() alternate in one child; CPU includes waited-for children (ps, ss, udevadm...)`;
      rows.push(
        {
          status: 'measured', group: 'scan', name: ROWS[0]!.name, unit: 'ms CPU', figure: spreadOf(scans.map((s) => s.cpuMs)),
          baselineName: 'si.processes()', baseline: spreadOf(sis.map((s) => s.cpuMs)), target: { kind: 'ratioAtMost', value: 0.05 }, notes,
        },
        {
          status: 'measured', group: 'scan', name: ROWS[1]!.name, unit: 'ms', figure: spreadOf(scans.map((s) => s.wallMs)),
          baselineName: 'si.processes()', baseline: spreadOf(sis.map((s) => s.wallMs)), target: { kind: 'ratioAtMost', value: 0.05 }, notes,
        },
        {
          status: 'measured', group: 'scan', name: ROWS[2]!.name, unit: 'ms CPU', figure: spreadOf(hardware.map((s) => s.cpuMs)),
          baselineName: 'si.processes()', baseline: spreadOf(sis.map((s) => s.cpuMs)), target: { kind: 'info' }, targetText: ROWS[2]!.targetText, notes,
        },
      );

      // Scaling: add sleepers to reach each point (the machine's own processes count too).
      const points: ScalePoint[] = [];
      for (const target of SCALE_POINTS) {
        const extra = Math.max(0, target - countProcesses());
        const sleepers = extra > 0 ? await startSleepers(extra) : null;
        try {
          const cpu: number[] = [];
          const siCpu: number[] = [];
          let processes = 0;
          for (let run = 0; run < runs; run++) {
            const cost = await workload.request<OpCost>('scan', { seconds: scanSeconds });
            cpu.push(cost.cpuMs);
            processes = cost.processCount ?? 0;
            // The 1/20 target at the same process count: a real laptop runs hundreds of processes.
            // One call per run, no warm-up (it has run before): at 2,000 processes each call takes seconds.
            siCpu.push((await workload.request<OpCost>('siProcesses', { seconds: 0, minOps: 1, warmup: false })).cpuMs);
          }
          points.push({ target, processes, cpu, siCpu });
          context.log(`scan scaling: ${processes} processes, median ${spreadOf(cpu).median.toFixed(1)} ms CPU (si.processes ${spreadOf(siCpu).median.toFixed(0)} ms)`);
        } finally {
          await sleepers?.stop();
        }
      }
      for (const point of points) {
        rows.push({
          status: 'measured', group: 'scan', name: `Scan scaling: cycle CPU at ~${point.target} processes`, unit: 'ms CPU',
          figure: spreadOf(point.cpu), baselineName: `si.processes() at ${point.processes}`,
          baseline: spreadOf(point.siCpu), target: { kind: 'ratioAtMost', value: 0.05 },
          targetText: `ratio ≤ 0.05 (${point.processes} processes seen)`,
        });
      }
      // Linear means the cost of one more process is the same in both ranges.
      if (points.length === 3) {
        const [low, mid, high] = points as [ScalePoint, ScalePoint, ScalePoint];
        const slope = (a: ScalePoint, b: ScalePoint, run: number) => ((b.cpu[run] ?? 0) - (a.cpu[run] ?? 0)) / (b.processes - a.processes) * 1000;
        const lower = Array.from({ length: runs }, (_, run) => slope(low, mid, run));
        const upper = Array.from({ length: runs }, (_, run) => slope(mid, high, run));
        rows.push({
          status: 'measured', group: 'scan', name: ROWS[ROWS.length - 1]!.name, unit: 'µs/process',
          figure: spreadOf(upper), baselineName: `${low.processes}–${mid.processes}`, baseline: spreadOf(lower),
          target: { kind: 'ratioAtMost', value: 1.5 },
          targetText: `ratio ≤ 1.5 (linear; ${mid.processes}–${high.processes} vs ${low.processes}–${mid.processes})`,
        });
      }
    } finally {
      await workload.stop();
    }
    return rows;
  },
};
