/**
 * `npm run bench:loop`: does a constant network delay show in content-free pointer features once a
 * (simulated) person steers the pointer through the delayed screen? Latency in the loop, measured
 * in the real lab (lab/loop.ts): a closed-loop operator reaches squares on the target display as it
 * sees them through TigerVNC → delay proxy → x11vnc, and the agent's real capture records the
 * motion on the target. No jitter: the only difference between conditions is the constant delay.
 *
 * Per variant ('vnc': the viewer draws the operator's own cursor; 'kvm': the cursor is seen only in
 * the video) and per delay, windows of movements at that delay are positives and windows at 0 ms
 * the negatives. A feature and its threshold are chosen on the tuning seeds; the held-out seeds
 * (other simulated people: each seed draws its own reaction time, Fitts slope, checking pause...)
 * are scored with them. Runs are cached as JSON (times and step lengths only) under
 * test-output/loop-runs/ and re-scored on the next run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOrExit, type CommandSpec, type FlagSpec } from '../common/command-line';
import type { InputEvent } from '../agent/input/input-source';
import { startLab, stopAllLabs, type Lab } from '../lab/lab';
import { runLoop, type LoopVariant } from '../lab/loop';
import { chooseFeature, FEATURE_NAMES, movementFeatures, rocAuc, scoreHeldOut, windowFeatures, type WindowFeatures } from '../lab/loop-features';

export const LOOP_COMMAND = {
  usage: 'npm run bench:loop --',
  name: 'bench:loop',
  summary:
    'Latency in the loop: a simulated person (reaction time, Fitts-law minimum-jerk submovements, corrections on what it ' +
    'sees) points at squares on the lab target display through TigerVNC, a delay proxy and x11vnc, while the agent captures ' +
    'on the target. For each variant (vnc: own cursor drawn locally; kvm: cursor seen only in the delayed video) and delay, ' +
    'it picks the content-free pointer feature that best separates the delay from 0 ms on tuning seeds and prints how it ' +
    'does on held-out seeds (other simulated people): AUC, TPR at 1 % and 5 % FPR, and the tuned threshold\'s rates, with ' +
    'the load average of the runs. Runs are cached under test-output/loop-runs/. Ctrl-C or SIGTERM stops the lab and its children.',
  duration: '40-90 s per run on a busy 2-core machine; the default grid (2 variants × 0 and 110 ms × 8 seeds) about 30 minutes, --quick about 8',
  flags: {
    quick: { type: 'boolean', description: 'A small grid: 2 tuning and 2 held-out seeds, 12 movements per run.' },
    fresh: { type: 'boolean', description: 'Run again instead of re-scoring cached runs.' },
    delays: { type: 'string', value: 'MS,...', default: '110', description: 'Delays compared with 0 ms, one-way per direction, ms.' },
    variants: { type: 'string', value: 'LIST', default: 'vnc,kvm', description: 'Which variants to run.' },
    tune: { type: 'string', value: 'N', default: '4', description: 'Tuning seeds (seeds 1..N).' },
    test: { type: 'string', value: 'N', default: '4', description: 'Held-out seeds (seeds 101..100+N).' },
    targets: { type: 'string', value: 'N', default: '24', description: 'Movements per run.' },
    window: { type: 'string', value: 'N', default: '6', description: 'Movements per scored window.' },
  },
  environment: [['TELLTALE_LOOP_RUNS', 'Folder of cached runs. Default: test-output/loop-runs.']],
  examples: [
    ['npm run bench:loop -- --quick', 'A small grid.'],
    ['npm run bench:loop -- --delays 50,110', 'Also the 50 ms row.'],
  ],
  exitCodes: [
    [0, 'the tables were printed'],
    [1, 'the lab failed (a missing tool is named)'],
    [2, 'usage: a bad flag'],
    [130, 'interrupted by SIGINT (the lab and its children stopped)'],
    [143, 'stopped by SIGTERM (the lab and its children stopped)'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

/** One cached run: what the capture saw (times and step lengths), how many squares were reached, the load. */
interface CachedRun {
  readonly variant: LoopVariant;
  readonly delayMs: number;
  readonly seed: number;
  readonly hits: number;
  readonly load: number;
  readonly events: readonly InputEvent[];
}

function positiveInteger(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:loop: --${flag} must be a positive integer, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

function stopLabOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench:loop: ${signal}, stopping the lab\n`);
      void stopAllLabs().finally(() => process.exit(code));
    });
  }
}

const pct = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(0)} %`);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const values = parseOrExit(LOOP_COMMAND, process.argv.slice(2), process);
  const quick = values.quick === true;
  const delays = (values.delays ?? '110').split(',').map((d) => positiveInteger(d, 110, 'delays'));
  const variants = (values.variants ?? 'vnc,kvm').split(',') as LoopVariant[];
  if (variants.some((v) => v !== 'vnc' && v !== 'kvm')) {
    process.stderr.write(`bench:loop: --variants takes vnc and/or kvm, got ${JSON.stringify(values.variants)}\n`);
    process.exit(2);
  }
  const tuneSeeds = Array.from({ length: positiveInteger(values.tune, quick ? 2 : 4, 'tune') }, (_, i) => i + 1);
  const testSeeds = Array.from({ length: positiveInteger(values.test, quick ? 2 : 4, 'test') }, (_, i) => i + 101);
  const targets = positiveInteger(values.targets, quick ? 12 : 24, 'targets');
  const windowSize = positiveInteger(values.window, 6, 'window');
  const cacheDir = process.env.TELLTALE_LOOP_RUNS ?? path.join(import.meta.dirname, '..', 'test-output', 'loop-runs');
  fs.mkdirSync(cacheDir, { recursive: true });
  stopLabOnSignals();

  // Seeds outermost and conditions interleaved within a seed, so a change in machine load spreads over all conditions.
  const runs: CachedRun[] = [];
  let lab: Lab | null = null;
  try {
    for (const seed of [...tuneSeeds, ...testSeeds]) {
      for (const variant of variants) {
        for (const delayMs of [0, ...delays]) {
          const file = path.join(cacheDir, `${variant}-${delayMs}ms-seed${seed}-${targets}.json`);
          if (values.fresh !== true && fs.existsSync(file)) {
            runs.push(JSON.parse(fs.readFileSync(file, 'utf8')) as CachedRun);
            continue;
          }
          lab ??= await startLab({ upstream: { delayMs: 0, jitterMs: 0 }, verbose: true });
          lab.setLink({ delayMs, jitterMs: 0 });
          process.stderr.write(`loop: ${variant} ${delayMs} ms seed ${seed}: `);
          const run = await runLoop(lab, { variant, seed, targets });
          process.stderr.write(`${run.hits}/${targets} reached, load ${run.load.toFixed(1)}\n`);
          const cached: CachedRun = { variant, delayMs, seed, hits: run.hits, load: run.load, events: run.events };
          fs.writeFileSync(file, JSON.stringify(cached));
          runs.push(cached);
        }
      }
    }
  } finally {
    await lab?.stop();
  }
  printTables(runs, variants, delays, tuneSeeds, windowSize, targets);
}

function printTables(runs: readonly CachedRun[], variants: readonly LoopVariant[], delays: readonly number[], tuneSeeds: readonly number[], windowSize: number, targets: number): void {
  const tuning = new Set(tuneSeeds);
  const windowsOf = (variant: LoopVariant, delayMs: number, heldOut: boolean): WindowFeatures[] =>
    runs.filter((r) => r.variant === variant && r.delayMs === delayMs && tuning.has(r.seed) !== heldOut).flatMap((r) => windowFeatures(movementFeatures(r.events), windowSize));
  const movementMs = (variant: LoopVariant, delayMs: number): number => {
    const all = runs.filter((r) => r.variant === variant && r.delayMs === delayMs).flatMap((r) => movementFeatures(r.events).map((m) => m.movementMs));
    return mean(all);
  };
  const loadOf = (variant: LoopVariant, delayMs: number): string => {
    const loads = runs.filter((r) => r.variant === variant && (r.delayMs === delayMs || r.delayMs === 0)).map((r) => r.load);
    return `${mean(loads).toFixed(1)} (${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)})`;
  };
  console.log(`\nLatency in the loop: ${windowSize}-movement windows, delay vs 0 ms without jitter, feature chosen on seeds ${tuneSeeds.join(',')}, scored on the others.`);
  console.log('Reached: squares clicked / asked over all runs at that delay. Tuned threshold: the highest 0 ms tuning window, applied unchanged to the held-out people. Load: 1-minute load average at the end of each run (2 cores; mean and range).\n');
  console.log('| variant | delay | reached | movement time vs 0 ms | chosen feature | tuning AUC | held-out AUC | TPR @ FPR ≤ 1 % | TPR @ FPR ≤ 5 % | tuned threshold: TPR / FPR | windows +/− | load |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const perFeature: string[] = [];
  for (const variant of variants) {
    for (const delayMs of delays) {
      const cell = runs.filter((r) => r.variant === variant && r.delayMs === delayMs);
      const reached = `${cell.reduce((a, r) => a + r.hits, 0)}/${cell.length * targets}`;
      const tunePos = windowsOf(variant, delayMs, false);
      const tuneNeg = windowsOf(variant, 0, false);
      const testPos = windowsOf(variant, delayMs, true);
      const testNeg = windowsOf(variant, 0, true);
      if (tunePos.length === 0 || tuneNeg.length === 0 || testPos.length === 0 || testNeg.length === 0) {
        console.log(`| ${variant} | ${delayMs} ms | ${reached} | | too few windows | | | | | | ${testPos.length}/${testNeg.length} | ${loadOf(variant, delayMs)} |`);
        continue;
      }
      const chosen = chooseFeature(tunePos, tuneNeg);
      const held = scoreHeldOut(chosen, testPos, testNeg);
      const ratio = movementMs(variant, delayMs) / movementMs(variant, 0) - 1;
      console.log(
        `| ${variant} | ${delayMs} ms | ${reached} | ${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(0)} % | ${chosen.feature} (${chosen.direction > 0 ? 'higher' : 'lower'}) | ${chosen.tuningAuc.toFixed(2)} | ${held.auc.toFixed(2)} | ${pct(held.tprAt1)} | ${pct(held.tprAt5)} | ${pct(held.tprFixed)} / ${pct(held.fprFixed)} | ${testPos.length}/${testNeg.length} | ${loadOf(variant, delayMs)} |`,
      );
      const aucs = FEATURE_NAMES.map((feature) => {
        const tuneRaw = rocAuc(tunePos.map((w) => w[feature]), tuneNeg.map((w) => w[feature]));
        const direction = tuneRaw >= 0.5 ? 1 : -1;
        const heldAuc = rocAuc(testPos.map((w) => direction * w[feature]), testNeg.map((w) => direction * w[feature]));
        return `${feature} ${heldAuc.toFixed(2)}`;
      });
      perFeature.push(`- ${variant} ${delayMs} ms: ${aucs.join(', ')}`);
    }
  }
  console.log('\nHeld-out AUC of every feature (direction taken from the tuning seeds):\n');
  for (const line of perFeature) console.log(line);
  console.log(`\nMachine: ${os.cpus().length} cores; load average now ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}.`);
}

await main();
