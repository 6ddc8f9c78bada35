/**
 * Chooses the score weights of the tie and bunch features (FEATURE_WEIGHTS in
 * agent/timing-detector/features.ts) on the tuning users only (even ids), never the held-out ones
 * the bench reports.
 *
 * Every tuning session is scored on a new device (population prior) and on a warm baseline (the
 * typist's sessions 0-2), locally and relayed by the relay model under the jitter kinds and x11vnc
 * pacings of TUNING_CONDITIONS, on the X11 clock. Each decision's clipped z per feature is kept, so
 * any weighting is a dot product. A weighting is allowed when its local false alarms stay at most
 * 0.5 % of cold decisions (cold threshold) and 1 % of warm ones (plain threshold); among those the
 * one with the highest mean true-positive rate (cold and warm, over all conditions) is printed,
 * with the runners-up. Warm baselines are learned once, with the weights in force (which windows
 * count as local depends on them), so re-run after changing FEATURE_WEIGHTS until the choice is
 * stable. The thresholds are the shipped ones and are not tuned here. Copy the
 * printed weights into FEATURE_WEIGHTS and re-run `npm run prior`, then `bench:detect -- --replay`.
 *
 *   npx tsx tools/tune-weights.ts
 */
import { parseOrExit, type CommandSpec, type FlagSpec } from '../common/command-line';
import { initialBaseline, updateBaseline, type DeviceBaseline } from '../agent/timing-detector/baseline-model';
import { FEATURES, type FeatureId, type PooledWindow } from '../agent/timing-detector/features';
import { POPULATION_PRIOR } from '../agent/timing-detector/prior';
import { ALARM_THRESHOLD, COLD_FACTOR, effectiveThreshold, scorePool, Z_CAP } from '../agent/timing-detector/scorer';
import { relaySchedule, type JitterKind, type ServerPacing } from '../lab/relay-model';
import { isHeldOutUser, loadFineTypingSessions, typingSchedule, type TypingSession } from '../lab/schedules';
import { clockSchedulePools } from '../lab/windows';

const TUNE_COMMAND = {
  usage: 'npx tsx tools/tune-weights.ts',
  name: 'tune-weights',
  summary:
    'Chooses the weights of the key tie and bunch features on the tuning users (even ids) of the human data with relays ' +
    'simulated by lab/relay-model.ts, under a false-alarm limit on the same users, and prints them for FEATURE_WEIGHTS.',
  duration: 'about a minute',
  flags: {},
  examples: [['npx tsx tools/tune-weights.ts', 'Print the chosen weights and the runners-up.']],
  exitCodes: [
    [0, 'printed'],
    [2, 'usage: an unknown flag'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

/** Features whose weights are tuned, and the candidate weights of each. */
const TUNED: readonly { id: FeatureId; candidates: readonly number[] }[] = [
  { id: 'coincidence', candidates: [0, 1, 2, 3] },
  { id: 'bunching', candidates: [0, 1, 2, 3, 4, 5, 6] },
  { id: 'bunchRuns', candidates: [0, 0.5, 1, 2] },
  { id: 'compressedHolds', candidates: [0, 0.5, 1, 2] },
];

const TUNING_CONDITIONS: readonly { jitter: JitterKind; jitterMs: number; pacing: ServerPacing }[] = [
  { jitter: 'exponential', jitterMs: 10, pacing: 'tuned' },
  { jitter: 'exponential', jitterMs: 20, pacing: 'tuned' },
  { jitter: 'exponential', jitterMs: 20, pacing: 'default' },
  { jitter: 'normal', jitterMs: 25, pacing: 'default' },
  { jitter: 'uniform', jitterMs: 25, pacing: 'default' },
  { jitter: 'pareto', jitterMs: 20, pacing: 'default' },
];

/** A decision as fixed score (untuned features) plus the clipped z of each tuned feature. */
interface Decision {
  readonly fixed: number;
  readonly z: readonly number[];
}

function decisions(pools: readonly PooledWindow[], baseline: DeviceBaseline): Decision[] {
  return pools.flatMap((pool) =>
    scorePool(pool, baseline)
      .filter((s) => s.modality === 'keys')
      .map((s) => {
        const z = TUNED.map(({ id }) => Math.min(Z_CAP, Math.max(0, s.contributions.find((c) => c.feature === id)?.z ?? 0)));
        let tunedPart = 0;
        TUNED.forEach(({ id }, i) => (tunedPart += FEATURES.find((f) => f.id === id)!.weight * z[i]!));
        return { fixed: s.score - tunedPart, z };
      }),
  );
}

function learn(baseline: DeviceBaseline, pools: readonly PooledWindow[]): DeviceBaseline {
  let out = baseline;
  for (const pool of pools) for (const score of scorePool(pool, out)) if (score.local) out = updateBaseline(out, score.values);
  return out;
}

function main(): void {
  parseOrExit(TUNE_COMMAND, process.argv.slice(2), process);
  const sessions = loadFineTypingSessions().filter((s) => !isHeldOutUser(s.user));
  const cold = initialBaseline(POPULATION_PRIOR);
  const lines = (session: TypingSession): string[] => typingSchedule(session.keystrokes).lines;
  const seed = (session: TypingSession): number => 100 * session.user + session.session;
  const warm = new Map<number, DeviceBaseline>();
  for (const user of new Set(sessions.map((s) => s.user))) {
    let baseline = cold;
    for (const session of sessions.filter((s) => s.user === user && s.session <= 2)) baseline = learn(baseline, clockSchedulePools(lines(session), 'x11', seed(session)));
    warm.set(user, baseline);
  }
  const localCold: Decision[] = [];
  const localWarm: Decision[] = [];
  const relayedCold: Decision[][] = TUNING_CONDITIONS.map(() => []);
  const relayedWarm: Decision[][] = TUNING_CONDITIONS.map(() => []);
  for (const session of sessions) {
    const local = clockSchedulePools(lines(session), 'x11', seed(session));
    localCold.push(...decisions(local, cold));
    if (session.session > 2) localWarm.push(...decisions(local, warm.get(session.user)!));
    TUNING_CONDITIONS.forEach((condition, i) => {
      const relayed = relaySchedule(lines(session), condition.jitterMs, 7 * seed(session) + condition.jitterMs, { jitter: condition.jitter, pacing: condition.pacing });
      const pools = clockSchedulePools(relayed, 'x11', seed(session));
      relayedCold[i]!.push(...decisions(pools, cold));
      if (session.session > 2) relayedWarm[i]!.push(...decisions(pools, warm.get(session.user)!));
    });
  }
  const coldThreshold = effectiveThreshold(ALARM_THRESHOLD.keys, 0, COLD_FACTOR.keys);
  const rate = (list: readonly Decision[], weights: readonly number[], threshold: number): number => {
    let hits = 0;
    for (const d of list) {
      let score = d.fixed;
      for (let i = 0; i < weights.length; i++) score += weights[i]! * d.z[i]!;
      if (score >= threshold) hits++;
    }
    return list.length === 0 ? 0 : hits / list.length;
  };
  const results: { weights: number[]; fpCold: number; fpWarm: number; tpr: number; perCondition: number[] }[] = [];
  const grid = (index: number, prefix: number[]): void => {
    if (index === TUNED.length) {
      const fpCold = rate(localCold, prefix, coldThreshold);
      const fpWarm = rate(localWarm, prefix, ALARM_THRESHOLD.keys);
      const perCondition = TUNING_CONDITIONS.map((_, i) => (rate(relayedCold[i]!, prefix, coldThreshold) + rate(relayedWarm[i]!, prefix, ALARM_THRESHOLD.keys)) / 2);
      results.push({ weights: prefix, fpCold, fpWarm, tpr: perCondition.reduce((a, b) => a + b, 0) / perCondition.length, perCondition });
      return;
    }
    for (const candidate of TUNED[index]!.candidates) grid(index + 1, [...prefix, candidate]);
  };
  grid(0, []);
  const allowed = results.filter((r) => r.fpCold <= 0.005 && r.fpWarm <= 0.01).sort((a, b) => b.tpr - a.tpr);
  console.log(`tuning users: ${sessions.length} sessions; decisions local cold ${localCold.length}, warm ${localWarm.length}; conditions ${TUNING_CONDITIONS.map((c) => `${c.jitter} ${c.jitterMs} ${c.pacing}`).join(', ')}`);
  console.log(`weights order: ${TUNED.map((t) => t.id).join(', ')}; ${allowed.length} of ${results.length} weightings within the false-alarm limits`);
  for (const r of allowed.slice(0, 8)) {
    console.log(
      `  [${r.weights.join(', ')}] mean TPR ${(100 * r.tpr).toFixed(1)}% (per condition ${r.perCondition.map((x) => (100 * x).toFixed(0)).join('/')}) local FA cold ${(100 * r.fpCold).toFixed(2)}% warm ${(100 * r.fpWarm).toFixed(2)}%`,
    );
  }
  const current = results.find((r) => r.weights.every((w, i) => w === FEATURES.find((f) => f.id === TUNED[i]!.id)!.weight));
  if (current !== undefined) console.log(`current weights [${current.weights.join(', ')}]: mean TPR ${(100 * current.tpr).toFixed(1)}%, FA cold ${(100 * current.fpCold).toFixed(2)}% warm ${(100 * current.fpWarm).toFixed(2)}%`);
}

main();
