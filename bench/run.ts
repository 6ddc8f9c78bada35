/**
 * `npm run bench`: measure the agent and collector against baselines taken in the same run, and
 * print one table (also written to test-output/bench.md and test-output/bench.json).
 *
 * Every workload runs in its own child process; figures are medians over --runs repetitions with
 * their min–max. Rows whose code is not in the tree print as "n/a (missing: ...)" instead of
 * failing the run. See docs/benchmarks.md for how to read the table.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupAll, installExitHandlers, MissingCodeError, OUTPUT_DIR, REPO_ROOT } from './lib/children';
import { unavailable, type Group, type GroupContext } from './lib/group';
import { BENCH_COMMAND, parseOptions, type BenchOptions, type GroupName } from './lib/options';
import { usageExit } from '../common/command-line';
import { loadAverage } from './lib/proc';
import { metOf, ratioOf, renderTable, targetText, type Row } from './lib/summary';
import { cryptoGroup } from './groups/crypto';
import { fuzzGroup } from './groups/fuzz';
import { idleGroup } from './groups/idle';
import { ingestGroup } from './groups/ingest';
import { itGroup } from './groups/it';
import { inputGroup } from './groups/input';
import { scaleGroup } from './groups/scale';
import { scanGroup } from './groups/scan';
import { storeGroup } from './groups/store';

const GROUP_IMPLEMENTATIONS: Record<GroupName, Group> = {
  crypto: cryptoGroup,
  fuzz: fuzzGroup,
  idle: idleGroup,
  ingest: ingestGroup,
  it: itGroup,
  input: inputGroup,
  scale: scaleGroup,
  scan: scanGroup,
  store: storeGroup,
};

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'usage-error') usageExit(BENCH_COMMAND, parsed.message, process);
  const options: BenchOptions = parsed.options;
  installExitHandlers();
  const startedAt = new Date();
  const loadBefore = loadAverage();
  const log = (message: string): void => {
    console.error(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)}s] ${message}`);
  };
  const context: GroupContext = {
    options,
    log,
    seconds: (full, quick) => (options.quick ? quick : full),
  };
  log(`groups: ${options.groups.join(', ')}; runs: ${options.runs}${options.quick ? '; quick' : ''}; load average ${loadBefore}`);

  const rows: Row[] = [];
  const groupNotes: string[] = [];
  for (const name of options.groups) {
    const group = GROUP_IMPLEMENTATIONS[name];
    const groupStart = Date.now();
    log(`${name}: start`);
    try {
      const measured = await group.run(context);
      rows.push(...measured);
      const notes = new Set(measured.flatMap((row) => (row.status === 'measured' && row.notes ? [row.notes] : [])));
      for (const note of notes) groupNotes.push(`${name}: ${note}`);
    } catch (error) {
      const reason = error instanceof MissingCodeError ? `missing: ${error.missing}` : `failed: ${firstLine(error)}`;
      if (!(error instanceof MissingCodeError)) console.error(error);
      rows.push(...group.rows.map((spec) => unavailable(name, spec, reason)));
    } finally {
      await cleanupAll();
    }
    log(`${name}: done in ${((Date.now() - groupStart) / 1000).toFixed(0)} s`);
  }

  const loadAfter = loadAverage();
  const header = [
    `Telltale bench, ${startedAt.toISOString()}, commit ${gitCommit()}, node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
    `runs: ${options.runs}${options.quick ? ' (--quick: shorter windows)' : ''}; load average ${loadBefore} before, ${loadAfter} after; took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`,
  ];
  const table = renderTable(rows);
  const notes = groupNotes.length > 0 ? `\nNotes:\n${groupNotes.map((note) => `- ${note}`).join('\n')}\n` : '';
  const markdown = `${header.join('\n\n')}\n\n${table}\n${notes}`;
  console.log(`\n${markdown}`);

  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUTPUT_DIR, 'bench.md'), markdown);
  const json = {
    startedAt: startedAt.toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: os.cpus().length,
    options,
    loadAverage: { before: loadBefore, after: loadAfter },
    rows: rows.map((row) => ({ ...row, ratio: row.status === 'measured' ? ratioOf(row) : null, targetText: targetText(row), met: metOf(row) })),
  };
  fs.writeFileSync(path.join(OUTPUT_DIR, 'bench.json'), `${JSON.stringify(json, null, 2)}\n`);
  log(`wrote ${path.relative(REPO_ROOT, path.join(OUTPUT_DIR, 'bench.md'))} and bench.json`);
  return 0;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 160);
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().then(
  async (code) => {
    await cleanupAll();
    process.exit(code);
  },
  async (error: unknown) => {
    console.error(error);
    await cleanupAll();
    process.exit(1);
  },
);
