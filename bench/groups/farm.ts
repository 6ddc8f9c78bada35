/**
 * Farm rows: what location correlation adds to ingest, and the farm query, at 1k / 10k / 100k
 * devices on SQLite (bench/workloads/farm.ts). One child per size and run.
 */
import { Workload } from '../lib/children';
import type { Group } from '../lib/group';
import { spreadOf, type Row } from '../lib/summary';
import type { FarmMeasure } from '../workloads/farm';

const SIZES = [1_000, 10_000, 100_000] as const;

const ROWS = SIZES.flatMap((devices) => [
  { name: `Farm: correlation per report, p99 (${devices / 1000}k devices)`, targetText: '— (ms; vs location upsert only)' },
  { name: `Farm: GET /v1/farms reads, p99 (${devices / 1000}k devices)`, targetText: '— (ms)' },
]);

export const farmGroup: Group = {
  name: 'farm',
  rows: ROWS,
  async run(context) {
    const rows: Row[] = [];
    const samples = context.options.quick ? 200 : 1000;
    for (const [sizeIndex, devices] of SIZES.entries()) {
      if (context.options.quick && devices > 10_000) continue;
      const ingest: number[] = [];
      const bare: number[] = [];
      const query: number[] = [];
      const ingestP50: number[] = [];
      const queryP50: number[] = [];
      let farms = 0;
      for (let run = 0; run < context.options.runs; run++) {
        const workload = await Workload.start('farm');
        try {
          const result = await workload.request<FarmMeasure>('measure', { devices, samples });
          ingest.push(result.ingest);
          bare.push(result.bare);
          query.push(result.query);
          ingestP50.push(result.ingestP50);
          queryP50.push(result.queryP50);
          farms = result.farms;
          context.log(`farm ${devices}: correlation p50 ${result.ingestP50.toFixed(2)} / p99 ${result.ingest.toFixed(2)} ms (bare p99 ${result.bare.toFixed(2)} ms), farms query p50 ${result.queryP50.toFixed(2)} / p99 ${result.query.toFixed(2)} ms, ${result.farms} farms, seeded in ${result.seedSeconds.toFixed(0)} s`);
        } finally {
          await workload.stop();
        }
      }
      const notes = `${devices} devices, ${farms} farms of 5 (1% of devices), ${samples} reports per run; SQLite, WAL; p50 correlation ${spreadOf(ingestP50).median.toFixed(2)} ms, farms query ${spreadOf(queryP50).median.toFixed(2)} ms`;
      rows.push(
        {
          status: 'measured', group: 'farm', name: ROWS[sizeIndex * 2]!.name, unit: 'ms', figure: spreadOf(ingest),
          baselineName: 'location upsert only', baseline: spreadOf(bare), target: { kind: 'info' }, targetText: ROWS[sizeIndex * 2]!.targetText, notes,
        },
        { status: 'measured', group: 'farm', name: ROWS[sizeIndex * 2 + 1]!.name, unit: 'ms', figure: spreadOf(query), baselineName: null, baseline: null, target: { kind: 'info' }, targetText: ROWS[sizeIndex * 2 + 1]!.targetText, notes },
      );
    }
    return rows;
  },
};
