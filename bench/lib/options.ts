/**
 * Command-line options of `npm run bench`.
 *
 * `--only a,b` picks row groups, `--runs N` sets repetitions (default 5, or 3 with `--quick`),
 * `--quick` shortens every measurement window so the whole run fits in about three minutes.
 */

/** Every row group, in the order they run. */
export const GROUPS = ['crypto', 'store', 'scan', 'idle', 'input', 'ingest', 'scale'] as const;
export type GroupName = (typeof GROUPS)[number];

/** Aliases accepted by --only so a row's name also selects its group. */
const ALIASES: Readonly<Record<string, GroupName>> = { memory: 'idle', collector: 'ingest', outbox: 'store' };

export interface BenchOptions {
  readonly groups: readonly GroupName[];
  readonly runs: number;
  readonly quick: boolean;
}

/** Parse argv (without node and script). Throws with a usage message on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  let only: GroupName[] | null = null;
  let runs: number | null = null;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    switch (flag) {
      case '--only':
        only = [...(only ?? []), ...value().split(',').filter(Boolean).map(groupOf)];
        break;
      case '--runs': {
        runs = Number(value());
        if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`--runs must be an integer 1..50\n${USAGE}`);
        break;
      }
      case '--quick':
        quick = true;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`Unknown option ${arg}\n${USAGE}`);
    }
  }
  const groups = only === null ? [...GROUPS] : GROUPS.filter((group) => only.includes(group));
  return { groups, runs: runs ?? (quick ? 3 : 5), quick };
}

function groupOf(name: string): GroupName {
  const lower = name.toLowerCase();
  if ((GROUPS as readonly string[]).includes(lower)) return lower as GroupName;
  const alias = ALIASES[lower];
  if (alias) return alias;
  throw new Error(`Unknown row group "${name}"; known: ${GROUPS.join(', ')}\n${USAGE}`);
}

export const USAGE = `usage: npm run bench -- [--only ${GROUPS.join('|')}[,...]] [--runs N] [--quick]`;
