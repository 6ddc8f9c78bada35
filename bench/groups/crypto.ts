/**
 * Crypto rows: report sign and verify rates, with KeyObjects created once.
 * Baselines: SHA-256 of the same bytes (the cost floor of touching 2 KB), and for signing also
 * the naive variant that re-creates the private key from DER on every report.
 */
import { Workload } from '../lib/children';
import type { Group } from '../lib/group';
import { spreadOf, type Row } from '../lib/summary';

interface Rates {
  sign: number;
  verify: number;
  sha256: number;
  signRecreatingKey: number;
  bodyBytes: number;
}

const ROWS = [
  { name: 'Crypto: sign report (ReportSigner, Ed25519, canonical JSON)', targetText: '— (rate; ratio vs sha256)' },
  { name: 'Crypto: verify report (collector canonicalBody + verify)', targetText: '— (rate; ratio vs sha256)' },
  { name: 'Crypto: sign, key re-created per op', targetText: '— (rate; ratio vs key once)' },
] as const;

export const cryptoGroup: Group = {
  name: 'crypto',
  rows: ROWS,
  async run(context) {
    const seconds = context.seconds(1, 0.3);
    const samples: Rates[] = [];
    // One child per run, so JIT state and heap do not carry over between runs.
    for (let run = 0; run < context.options.runs; run++) {
      const workload = await Workload.start('crypto');
      try {
        samples.push(await workload.request<Rates>('measure', { seconds }));
      } finally {
        await workload.stop();
      }
    }
    const of = (key: keyof Rates) => spreadOf(samples.map((sample) => sample[key]));
    const notes = `${samples[0]?.bodyBytes ?? '?'} B body; ${seconds}s per variant per run`;
    const rows: Row[] = [
      {
        status: 'measured', group: 'crypto', name: ROWS[0].name, unit: 'ops/s', figure: of('sign'),
        baselineName: 'sha256', baseline: of('sha256'), target: { kind: 'info' }, targetText: ROWS[0].targetText, notes,
      },
      {
        status: 'measured', group: 'crypto', name: ROWS[1].name, unit: 'ops/s', figure: of('verify'),
        baselineName: 'sha256', baseline: of('sha256'), target: { kind: 'info' }, targetText: ROWS[1].targetText, notes,
      },
      {
        status: 'measured', group: 'crypto', name: ROWS[2].name, unit: 'ops/s', figure: of('signRecreatingKey'),
        baselineName: 'key once', baseline: of('sign'), target: { kind: 'info' }, targetText: ROWS[2].targetText, notes,
      },
    ];
    return rows;
  },
};
