/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`, or `BENCH_CPU_PROF=DIR npm run bench`) as two
 * tables: self time by source file, and self time by function. It answers "where does the time of
 * one request go" without a browser; for call trees open the same file in Chrome DevTools.
 *
 *   npm run profile -- --file test-output/profiles/server-collector-123.cpuprofile
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseOrExit, type CommandSpec, type FlagSpec } from '../common/command-line';

const PROFILE_COMMAND = {
  usage: 'npm run profile --',
  name: 'profile',
  summary:
    'Prints where a V8 CPU profile spent its samples: self time per source file (node_modules packages grouped by ' +
    'package, Node internals as "node:", the garbage collector and idle apart) and the top functions by self time, ' +
    'each as milliseconds and as a share of the busy (non-idle) time.',
  flags: {
    file: { type: 'strings', value: 'FILE', description: 'A .cpuprofile file (repeatable: the profiles are added together).' },
    top: { type: 'string', value: 'N', description: 'Rows per table.', default: '25' },
    per: { type: 'string', value: 'N', description: 'Also show microseconds per unit of work, dividing by N (e.g. the requests answered).' },
  },
  examples: [
    ['npm run profile -- --file p.cpuprofile', 'Both tables, 25 rows each.'],
    ['npm run profile -- --file p.cpuprofile --per 20000', 'With µs per request for 20,000 requests.'],
  ],
  exitCodes: [
    [0, 'printed'],
    [1, 'a file could not be read as a CPU profile'],
    [2, 'usage: an unknown flag or no --file'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time in µs per node id. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  return self;
}

/** A readable owner of a script URL: the npm package, `node:` internals, or the repository path. */
export function ownerOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node: internals';
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = file.slice(modules + '/node_modules/'.length).split('/');
    return `npm ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return path.relative(process.cwd(), file);
}

/** Samples V8 attributes to no JavaScript: kept apart so shares are of busy time. */
const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function table(title: string, rows: readonly [string, number][], busy: number, top: number, per: number | null): string {
  const lines = [`${title}`, `| ms | share of busy | ${per === null ? '' : 'µs per unit | '}where |`, `|---:|---:|${per === null ? '' : '---:|'}---|`];
  for (const [name, micros] of rows.slice(0, top)) {
    const perText = per === null ? '' : `${(micros / per).toFixed(1)} | `;
    lines.push(`| ${(micros / 1000).toFixed(1)} | ${((micros / busy) * 100).toFixed(1)} % | ${perText}${name} |`);
  }
  return lines.join('\n');
}

function main(): void {
  const args = parseOrExit(PROFILE_COMMAND, process.argv.slice(2), process);
  const files = args.file ?? [];
  if (files.length === 0) {
    console.error('profile: give at least one --file');
    process.exit(2);
  }
  const top = Number(args.top ?? '25');
  const per = args.per === undefined ? null : Number(args.per);
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const special = new Map<string, number>();
  for (const file of files) {
    let profile: CpuProfile;
    try {
      profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
      if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples)) throw new Error('no nodes or samples');
    } catch (error) {
      console.error(`profile: ${file} is not a CPU profile (${error instanceof Error ? error.message : String(error)})`);
      process.exit(1);
    }
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    for (const [id, micros] of selfTimes(profile)) {
      const frame = nodes.get(id)?.callFrame;
      if (!frame) continue;
      if (SPECIAL.has(frame.functionName)) {
        special.set(frame.functionName, (special.get(frame.functionName) ?? 0) + micros);
        continue;
      }
      const owner = ownerOf(frame.url);
      byFile.set(owner, (byFile.get(owner) ?? 0) + micros);
      const name = `${frame.functionName || '(anonymous)'} ${owner}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    }
  }
  const sorted = (map: Map<string, number>): [string, number][] => [...map.entries()].sort((a, b) => b[1] - a[1]);
  const busy = [...byFile.values()].reduce((sum, value) => sum + value, 0) + (special.get('(garbage collector)') ?? 0) + (special.get('(program)') ?? 0);
  byFile.set('(garbage collector)', special.get('(garbage collector)') ?? 0);
  byFile.set('(program: V8 and native work outside JavaScript)', special.get('(program)') ?? 0);
  console.log(`busy ${(busy / 1000).toFixed(0)} ms, idle ${((special.get('(idle)') ?? 0) / 1000).toFixed(0)} ms${per === null ? '' : `; per unit: ${(busy / per).toFixed(1)} µs busy`}\n`);
  console.log(table('Self time by file or package', sorted(byFile), busy, top, per));
  console.log();
  console.log(table('Self time by function', sorted(byFunction), busy, top, per));
}

main();
