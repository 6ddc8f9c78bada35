/**
 * Store rows: finding inserts per second (through reconcileFindings) and outbox drain per second
 * (through the real SyncService into a no-op uploader), each against bare better-sqlite3
 * statements doing the same writes. One child per run, a fresh database per measurement.
 */
import { Workload } from '../lib/children';
import type { Group } from '../lib/group';
import { spreadOf, type Row } from '../lib/summary';

const ROWS = [
  { name: 'Store: finding inserts (reconcileFindings)', targetText: '— (rate; ratio vs bare INSERT)' },
  { name: 'Store: outbox drain (SyncService, no-op sink)', targetText: '— (rate; ratio vs bare select+update)' },
] as const;

export const storeGroup: Group = {
  name: 'store',
  rows: ROWS,
  async run(context) {
    const findingCount = context.options.quick ? 1000 : 3000;
    const drainCount = context.options.quick ? 500 : 2000;
    const reconcile: number[] = [];
    const bareInsert: number[] = [];
    const service: number[] = [];
    const bareDrain: number[] = [];
    for (let run = 0; run < context.options.runs; run++) {
      const workload = await Workload.start('store');
      try {
        const f = await workload.request<{ reconcile: number; bareInsert: number }>('findings', { count: findingCount });
        reconcile.push(f.reconcile);
        bareInsert.push(f.bareInsert);
        const d = await workload.request<{ service: number; bare: number }>('drain', { count: drainCount });
        service.push(d.service);
        bareDrain.push(d.bare);
        context.log(`store run ${run + 1}: findings ${f.reconcile.toFixed(0)}/s (bare ${f.bareInsert.toFixed(0)}/s), drain ${d.service.toFixed(0)}/s (bare ${d.bare.toFixed(0)}/s)`);
      } finally {
        await workload.stop();
      }
    }
    const notes = `${findingCount} findings and ${drainCount} reports (~2 KB envelopes) per run; SQLite file in the temp folder, WAL, synchronous=NORMAL`;
    const rows: Row[] = [
      {
        status: 'measured', group: 'store', name: ROWS[0].name, unit: '/s', figure: spreadOf(reconcile),
        baselineName: 'bare INSERT', baseline: spreadOf(bareInsert), target: { kind: 'info' }, targetText: ROWS[0].targetText, notes,
      },
      {
        status: 'measured', group: 'store', name: ROWS[1].name, unit: '/s', figure: spreadOf(service),
        baselineName: 'bare select+update', baseline: spreadOf(bareDrain), target: { kind: 'info' }, targetText: ROWS[1].targetText, notes,
      },
    ];
    return rows;
  },
};
