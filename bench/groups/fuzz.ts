/**
 * Fuzz rows: the schema-driven fuzz of every collector route (lab/collector/fuzz.ts, the same code
 * the CI tests run at a reduced size) at full size on each store, in this process. Not a speed
 * figure: the counts say whether the collector held its promises under ~20,000 hostile inputs —
 * no 5xx, every 4xx with a clear code and message, every acknowledged report stored.
 * Only with `--only fuzz` (not part of the default run); PostgreSQL with --pg or TELLTALE_TEST_PG_URL.
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { openPostgresStorage } from '../../collector/storage/postgres';
import { fuzzCollector, FUZZ_LIMITS, type FuzzFigures } from '../../lab/collector/fuzz';
import { startLabCollector, type LabCollector } from '../../lab/collector/harness';
import { onCleanup } from '../lib/children';
import { dropSchema, PG_URL, postgresProblem } from '../lib/collector-servers';
import { unavailable, type Group, type RowSpec } from '../lib/group';
import { spreadOf, type Row, type Target } from '../lib/summary';

type Store = 'SQLite' | 'PostgreSQL';
const STORES: readonly Store[] = ['SQLite', 'PostgreSQL'];
/** The seed the CI tests use, so a full run extends the inputs CI tried. */
const SEED = 0x7e11_7a1e;

const COUNTS: readonly { key: keyof FuzzFigures; label: string; mustBeZero: boolean }[] = [
  { key: 'inputs', label: 'inputs tried', mustBeZero: false },
  { key: 'serverErrors', label: '5xx answers', mustBeZero: true },
  { key: 'malformedClientErrors', label: '4xx without a clear message', mustBeZero: true },
  { key: 'acknowledgedStored', label: 'reports acknowledged stored', mustBeZero: false },
  { key: 'deletedReports', label: 'reports deleted with their device', mustBeZero: false },
  { key: 'stored', label: 'reports stored at the end', mustBeZero: false },
  { key: 'lost', label: 'acknowledged reports lost', mustBeZero: true },
];

function rowSpecs(): RowSpec[] {
  return STORES.flatMap((store) => COUNTS.map((count) => ({ name: `Fuzz (${store}): ${count.label}`, targetText: count.mustBeZero ? '= 0' : '—' })));
}

async function openStore(store: Store): Promise<LabCollector> {
  if (store === 'SQLite') return startLabCollector(FUZZ_LIMITS);
  const schema = `telltale_bench_fuzz_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const forget = onCleanup(() => dropSchema(schema));
  const database = await openPostgresStorage(PG_URL, { schema });
  const collector = await startLabCollector(FUZZ_LIMITS, { database });
  return {
    ...collector,
    async close() {
      await collector.close();
      await dropSchema(schema);
      forget();
    },
  };
}

export const fuzzGroup: Group = {
  name: 'fuzz',
  rows: rowSpecs(),
  async run(context) {
    const cases = context.options.fuzzInputs;
    const wantPostgres = context.options.postgres || process.env.TELLTALE_TEST_PG_URL !== undefined;
    const pgMissing = wantPostgres ? await postgresProblem() : 'PostgreSQL not asked for (--pg or TELLTALE_TEST_PG_URL)';
    const rows: Row[] = [];
    for (const store of STORES) {
      if (store === 'PostgreSQL' && pgMissing !== null) {
        rows.push(...rowSpecs().filter((spec) => spec.name.includes(store)).map((spec) => unavailable('fuzz', spec, `missing: ${pgMissing}`)));
        continue;
      }
      const started = Date.now();
      const collector = await openStore(store);
      let figures: FuzzFigures;
      try {
        figures = await fuzzCollector(collector, cases, SEED, (inputs) => {
          if (inputs % 5000 === 0) context.log(`fuzz ${store}: ${inputs} inputs`);
        });
      } finally {
        await collector.close();
      }
      const seconds = (Date.now() - started) / 1000;
      context.log(
        `fuzz ${store}: ${figures.inputs} inputs in ${seconds.toFixed(0)} s; 5xx ${figures.serverErrors}; 4xx without a clear message ${figures.malformedClientErrors}; ` +
          `acknowledged ${figures.acknowledgedStored}, deleted ${figures.deletedReports}, stored ${figures.stored}, lost ${figures.lost}; statuses ${JSON.stringify(figures.statuses)}`,
      );
      for (const sample of figures.samples) context.log(`fuzz ${store}: ${sample}`);
      const notes = `seed 0x${SEED.toString(16)}; one run; ${seconds.toFixed(0)} s; statuses ${JSON.stringify(figures.statuses)}`;
      for (const count of COUNTS) {
        const value = figures[count.key] as number;
        const target: Target = count.mustBeZero ? { kind: 'atMost', value: 0, unit: '' } : { kind: 'info' };
        rows.push({
          status: 'measured', group: 'fuzz', name: `Fuzz (${store}): ${count.label}`, unit: 'count', figure: spreadOf([value]),
          baselineName: null, baseline: null, target, targetText: count.mustBeZero ? '= 0' : '—', notes,
        });
      }
    }
    return rows;
  },
};
