/**
 * Collector scale rows: report ingest rate at 10 connections with 1,000, 10,000 and 100,000
 * enrolled devices, on SQLite and PostgreSQL. The fleet is bulk-inserted into the devices table
 * before the collector listens (a few hundred active devices with real keys plus filler rows); the
 * ratio against the 1,000-device fleet shows whether ingest stays flat as the fleet grows.
 */
import fs from 'node:fs';
import { Workload } from '../lib/children';
import { collectorCounts, CPU_NOTE, devicesFilePath, postgresProblem, startServer, type BenchServer } from '../lib/collector-servers';
import { unavailable, type Group, type RowSpec } from '../lib/group';
import { spreadOf, type Row } from '../lib/summary';
import type { LoadResult } from '../workloads/load';

const FLEETS = [1_000, 10_000, 100_000] as const;
const KINDS = ['sqlite', 'postgres'] as const;
const LABEL = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const;
const CONNECTIONS = 10;

const ROWS: RowSpec[] = KINDS.flatMap((kind) =>
  FLEETS.map((fleet) => ({
    name: `Collector scale: ${LABEL[kind]} ingest, ${fleet.toLocaleString('en-US')} devices`,
    targetText: fleet === FLEETS[0] ? '— (reference)' : 'ratio ≥ 0.8 (flat)',
  })),
);

export const scaleGroup: Group = {
  name: 'scale',
  rows: ROWS,
  async run(context) {
    const runs = context.options.runs;
    const devicesPerBlock = context.options.quick ? 50 : 100;
    const reportsPerDevice = 10;
    const pgMissing = await postgresProblem();
    const devicesFile = devicesFilePath('scale');
    const load = await Workload.start('load', { maxLifetimeMs: 1_200_000 });
    const rows: Row[] = [];
    try {
      // One warm-up block plus one block per run; every fleet's collector gets the same blocks.
      const generated = await load.request<{ reports: number }>(
        'generate',
        { blocks: 1 + runs, devicesPerBlock, reportsPerDevice, devicesFile },
        600_000,
      );
      const active = (JSON.parse(fs.readFileSync(devicesFile, 'utf8')) as unknown[]).length;
      context.log(`scale: ${generated.reports} signed reports for ${active} active devices generated`);
      for (const kind of KINDS) {
        if (kind === 'postgres' && pgMissing !== null) {
          rows.push(...ROWS.filter((spec) => spec.name.includes(LABEL[kind])).map((spec) => unavailable('scale', spec, `missing: ${pgMissing}`)));
          continue;
        }
        const rates = new Map<number, number[]>();
        const checks: string[] = [];
        // All three fleets' collectors run at once and are measured in turn within each run, so a
        // burst of load elsewhere on the machine hits every fleet size alike.
        const servers = new Map<number, BenchServer>();
        try {
          for (const fleet of FLEETS) {
            const setupStart = Date.now();
            servers.set(fleet, await startServer(kind, { devicesFile, filler: Math.max(0, fleet - active) }));
            context.log(`scale: ${kind} collector with ${fleet} devices ready in ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);
          }
          const run = async (fleet: number, block: number): Promise<LoadResult> => {
            const result = await load.request<LoadResult>('run', { url: `${servers.get(fleet)!.url}/v1/reports`, kind: 'reports', connections: CONNECTIONS, block });
            if (result.non2xx > 0 || result.errors > 0) throw new Error(`${kind} with ${fleet} devices: ${result.non2xx} non-2xx, ${result.errors} errors`);
            return result;
          };
          for (const fleet of FLEETS) await run(fleet, 0);
          for (let r = 0; r < runs; r++) {
            const line: string[] = [];
            for (const fleet of FLEETS) {
              const result = await run(fleet, 1 + r);
              rates.set(fleet, [...(rates.get(fleet) ?? []), result.requestsPerSecond]);
              line.push(`${fleet}: ${result.requestsPerSecond.toFixed(0)}/s`);
            }
            context.log(`scale ${kind} run ${r + 1}: ${line.join(', ')}`);
          }
          for (const fleet of FLEETS) {
            const counts = await collectorCounts(servers.get(fleet)!);
            checks.push(`${fleet}: ${counts.devices} devices, ${counts.gaps} gaps`);
          }
        } finally {
          await Promise.all([...servers.values()].map((server) => server.workload.stop(60_000)));
        }
        const reference = rates.get(FLEETS[0]);
        for (const fleet of FLEETS) {
          const list = rates.get(fleet)!;
          const isReference = fleet === FLEETS[0];
          rows.push({
            status: 'measured', group: 'scale', name: `Collector scale: ${LABEL[kind]} ingest, ${fleet.toLocaleString('en-US')} devices`,
            unit: 'reports/s', figure: spreadOf(list),
            baselineName: isReference ? null : '1,000 devices', baseline: isReference || !reference ? null : spreadOf(reference),
            target: { kind: 'info' },
            met: isReference || !reference ? null : spreadOf(list).median / spreadOf(reference).median >= 0.8,
            targetText: isReference ? '— (reference)' : 'ratio ≥ 0.8 (flat)',
            notes: `c=${CONNECTIONS}, ${devicesPerBlock * reportsPerDevice} reports per run (${reportsPerDevice} per device, in chain order); ${LABEL[kind]} checks: ${checks.join('; ')}; ${CPU_NOTE}`,
          });
        }
      }
    } finally {
      await load.stop();
      fs.rmSync(devicesFile, { force: true });
    }
    return rows;
  },
};
