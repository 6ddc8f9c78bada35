/**
 * Derives the timing detector's population prior from human data and writes it to the reviewed data
 * file the agent reads, agent/timing-detector/population-prior.json (see prior.ts). Run it when
 * a feature, the aggregator or the human data changes, and review the diff like code.
 *
 *   npm run prior             rewrite the data file
 *   npm run prior -- --check  exit 1 if the data file is not what derivation gives
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseOrExit, type CommandSpec, type FlagSpec } from '../common/command-line';
import type { PopulationPrior } from '../agent/timing-detector/baseline-model';
import { FEATURES, MIN_SAMPLES, scoredValue } from '../agent/timing-detector/features';
import { isHeldOutUser, loadFineTypingSessions } from '../lab/schedules';
import { pointerPools, POINTER_RATES, sessionPools } from '../lab/windows';

const PRIOR_FILE = path.resolve(import.meta.dirname, '../agent/timing-detector/population-prior.json');

const PRIOR_COMMAND = {
  usage: 'npm run prior --',
  name: 'prior',
  summary:
    "Derives the timing detector's population prior (median and 1.4826 * MAD per feature) from the even-id (tuning) " +
    `users of the Monaco free-text timing set and from generated minimum-jerk pointer motion at ${POINTER_RATES.join('/')} Hz ` +
    `(even seeds), and writes it to ${path.relative(process.cwd(), PRIOR_FILE)}, the data file the agent reads ` +
    '(agent/timing-detector/prior.ts). Review the diff and commit it.',
  duration: 'a few seconds',
  flags: {
    check: { type: 'boolean', description: 'Write nothing; exit 1 if the file differs from a fresh derivation.' },
  },
  examples: [
    ['npm run prior', 'Rewrite the data file.'],
    ['npm run prior -- --check', 'Only compare.'],
  ],
  exitCodes: [
    [0, 'written (or up to date with --check)'],
    [1, 'differs (with --check)'],
    [2, 'usage: an unknown flag'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The population prior: median and 1.4826 * MAD per feature over tuning pools. */
function derivePrior(): { features: PopulationPrior; provenance: Record<string, string | number> } {
  const keyPools = loadFineTypingSessions()
    .filter((s) => !isHeldOutUser(s.user))
    .flatMap(sessionPools)
    .filter((p) => p.keystrokes >= MIN_SAMPLES.keys);
  // Tuning seeds for pointer motion are even; the bench's held-out offline pointer streams use odd ones.
  const mousePools = POINTER_RATES.flatMap((rateHz) => [2, 4, 6, 8].flatMap((seed) => pointerPools(rateHz, seed * 1000 + rateHz))).filter(
    (p) => p.moveIntervals >= MIN_SAMPLES.mouse,
  );
  const features = {} as Record<string, { center: number; spread: number }>;
  for (const spec of FEATURES) {
    const pools = spec.modality === 'keys' ? keyPools : mousePools;
    const values = pools.map((p) => spec.read(p)).flatMap((r) => (r === null ? [] : [scoredValue(spec, r.value)]));
    // A feature no tuning pool can read (pointer ties: unread on every local generated device) starts at 0 with its floor.
    const center = values.length === 0 ? 0 : median(values);
    const spread = values.length === 0 ? spec.minSpread : Math.max(spec.minSpread, 1.4826 * median(values.map((v) => Math.abs(v - center))));
    features[spec.id] = { center: Math.round(center * 1e4) / 1e4, spread: Math.round(spread * 1e4) / 1e4 };
  }
  return {
    features: features as PopulationPrior,
    provenance: {
      keys: `Monaco free_text, even user ids, ${keyPools.length} rolling 60 s pools`,
      mouse: `generated minimum-jerk pointing at ${POINTER_RATES.join('/')} Hz, even seeds, ${mousePools.length} pools; only for pointer features of weight 0 (shown, not scored: docs/detection/pointer.md)`,
      derivedBy: 'npx tsx tools/derive-prior.ts',
    },
  };
}

function main(): void {
  const args = parseOrExit(PRIOR_COMMAND, process.argv.slice(2), process);
  const text = `${JSON.stringify(derivePrior(), null, 2)}\n`;
  const file = path.relative(process.cwd(), PRIOR_FILE);
  if (args.check) {
    const same = fs.existsSync(PRIOR_FILE) && fs.readFileSync(PRIOR_FILE, 'utf8') === text;
    console.log(same ? `${file} is up to date` : `${file} differs from a fresh derivation; run npx tsx tools/derive-prior.ts and review the diff`);
    process.exitCode = same ? 0 : 1;
    return;
  }
  fs.writeFileSync(PRIOR_FILE, text);
  console.log(`wrote ${file}; review the diff before committing`);
}

main();
