/**
 * Command-line options of `npm run bench` (parsed by common/command-line).
 *
 * `--only a,b` picks row groups, `--runs N` sets repetitions (default 5, or 3 with `--quick`),
 * `--quick` shortens every measurement window so the whole run fits in about three minutes.
 */
import { parseCommandLine, type CommandSpec, type FlagSpec } from '../../common/command-line';

/** Every row group, in the order they run. */
export const GROUPS = ['crypto', 'store', 'scan', 'idle', 'input', 'ingest', 'scale', 'it', 'farm', 'fuzz'] as const;
export type GroupName = (typeof GROUPS)[number];
/** Groups run without --only: the fuzz checks correctness rather than speed and takes long, so it runs only when named. */
const DEFAULT_GROUPS: readonly GroupName[] = GROUPS.filter((group) => group !== 'fuzz');
/** Fuzz inputs per store: the full size, and with --quick. */
const FUZZ_INPUTS = { full: 20_000, quick: 2000 } as const;

/** Aliases accepted by --only so a row's name also selects its group. */
const ALIASES: Readonly<Record<string, GroupName>> = { memory: 'idle', collector: 'ingest', outbox: 'store' };

export interface BenchOptions {
  readonly groups: readonly GroupName[];
  readonly runs: number;
  readonly quick: boolean;
  /** Fuzz inputs per store. */
  readonly fuzzInputs: number;
  /** Run the PostgreSQL rows of groups that otherwise need TELLTALE_TEST_PG_URL set (fuzz). */
  readonly postgres: boolean;
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
    'fuzz-inputs': { type: 'string', value: 'N', description: 'Inputs per store for the fuzz group, 100-1000000.', default: `${FUZZ_INPUTS.full}, or ${FUZZ_INPUTS.quick} with --quick` },
    pg: { type: 'boolean', description: 'Also fuzz PostgreSQL (at TELLTALE_TEST_PG_URL or its default) without the variable set.' },
  },
  environment: [
    ['TELLTALE_TEST_PG_URL', 'PostgreSQL for the collector rows. Default: postgres://telltale:telltale@127.0.0.1:5432/telltale_test.'],
    ['BENCH_WRITER_THREAD', 'off: the SQLite collector rows commit on the main thread instead of the writer thread (an A/B).'],
    ['BENCH_VERIFY_THREADS', 'N: the collector rows verify signatures on N worker threads (0: on the main thread) instead of the collector default (an A/B).'],
    ['BENCH_CPU_PROF', 'A folder: every workload child writes a V8 CPU profile there when it exits (summarize with npm run profile -- FILE).'],
    ['BENCH_XI2_POINTER_MOTION', 'Set to 1: the input rows run the XInput2 helper of the agent with pointer motion (policy injectedInput.pointerMotion), for an A/B of its cost.'],
  ],
  examples: [
    ['npm run bench -- --quick', 'Every group, short.'],
    ['npm run bench -- --only crypto,store --runs 3', 'Two groups.'],
    ['nice npm run bench -- --only fuzz --pg', 'The route fuzz at full size on SQLite and PostgreSQL (not in the default run).'],
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
    const fuzzInputs = parsed.values['fuzz-inputs'] === undefined ? null : Number(parsed.values['fuzz-inputs']);
    if (fuzzInputs !== null && (!Number.isInteger(fuzzInputs) || fuzzInputs < 100 || fuzzInputs > 1_000_000)) {
      throw new Error(`--fuzz-inputs must be an integer 100..1000000, got ${JSON.stringify(parsed.values['fuzz-inputs'])}`);
    }
    const groups = only === null ? [...DEFAULT_GROUPS] : GROUPS.filter((group) => only.includes(group));
    return {
      kind: 'run',
      options: { groups, runs: runs ?? (quick ? 3 : 5), quick, fuzzInputs: fuzzInputs ?? (quick ? FUZZ_INPUTS.quick : FUZZ_INPUTS.full), postgres: parsed.values.pg === true },
    };
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
