/**
 * Command-line options of `npm run bench` (parsed by common/command-line).
 *
 * `--only a,b` picks row groups, `--runs N` sets repetitions (default 5, or 3 with `--quick`),
 * `--quick` shortens every measurement window so the whole run fits in about three minutes.
 */
import { parseCommandLine, type CommandSpec, type FlagSpec } from '../../common/command-line';

/** Every row group, in the order they run. */
export const GROUPS = ['crypto', 'store', 'scan', 'idle', 'input', 'ingest', 'scale', 'farm'] as const;
export type GroupName = (typeof GROUPS)[number];

/** Aliases accepted by --only so a row's name also selects its group. */
const ALIASES: Readonly<Record<string, GroupName>> = { memory: 'idle', collector: 'ingest', outbox: 'store' };

export interface BenchOptions {
  readonly groups: readonly GroupName[];
  readonly runs: number;
  readonly quick: boolean;
}

export const BENCH_COMMAND = {
  usage: 'npm run bench --',
  name: 'bench',
  summary:
    'Measures agent overhead (input path, idle, memory, scan, store, crypto) and collector throughput (SQLite and ' +
    'PostgreSQL against Fastify baselines) against baselines taken in the same run, each workload in its own child ' +
    'process, and prints one table (also test-output/bench.md and test-output/bench.json). Progress goes to stderr. ' +
    'Ctrl-C stops it and its children. Run it on a quiet machine; see docs/benchmarks.md.',
  duration: 'about 10 minutes for every group with 5 runs; about 3 minutes with --quick',
  flags: {
    only: { type: 'strings', value: 'GROUP[,GROUP]', description: `Row groups to run: ${GROUPS.join(', ')} (also ${Object.keys(ALIASES).join(', ')}).`, default: 'all' },
    runs: { type: 'string', value: 'N', description: 'Repetitions per figure, 1-50.', default: '5, or 3 with --quick' },
    quick: { type: 'boolean', description: 'Shorter measurement windows.' },
  },
  environment: [['TELLTALE_TEST_PG_URL', 'PostgreSQL for the collector rows. Default: postgres://telltale:telltale@127.0.0.1:5432/telltale_test.']],
  examples: [
    ['npm run bench -- --quick', 'Every group, short.'],
    ['npm run bench -- --only crypto,store --runs 3', 'Two groups.'],
  ],
  exitCodes: [
    [0, 'the table was printed'],
    [1, 'a workload failed'],
    [2, 'usage: an unknown flag or a bad value'],
    [130, 'interrupted (children stopped)'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

/** Parse argv (without node and script): the options, the help text, or a usage error message. */
export function parseOptions(argv: readonly string[]): { kind: 'run'; options: BenchOptions } | { kind: 'help'; text: string } | { kind: 'usage-error'; message: string } {
  const parsed = parseCommandLine(BENCH_COMMAND, argv);
  if (parsed.kind !== 'run') return parsed;
  try {
    const only = parsed.values.only === undefined ? null : parsed.values.only.flatMap((list) => list.split(',').filter(Boolean)).map(groupOf);
    const runs = parsed.values.runs === undefined ? null : Number(parsed.values.runs);
    if (runs !== null && (!Number.isInteger(runs) || runs < 1 || runs > 50)) throw new Error(`--runs must be an integer 1..50, got ${JSON.stringify(parsed.values.runs)}`);
    const quick = parsed.values.quick === true;
    const groups = only === null ? [...GROUPS] : GROUPS.filter((group) => only.includes(group));
    return { kind: 'run', options: { groups, runs: runs ?? (quick ? 3 : 5), quick } };
  } catch (error) {
    return { kind: 'usage-error', message: error instanceof Error ? error.message : String(error) };
  }
}

function groupOf(name: string): GroupName {
  const lower = name.toLowerCase();
  if ((GROUPS as readonly string[]).includes(lower)) return lower as GroupName;
  const alias = ALIASES[lower];
  if (alias) return alias;
  throw new Error(`--only: unknown row group "${name}"; known: ${GROUPS.join(', ')}`);
}
