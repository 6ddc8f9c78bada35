/**
 * `npm run bench:detect -- --replay`: the timing detector under each OS input-clock model, offline.
 *
 * No live lab: every held-out human typing session (odd user ids) is replayed through each clock
 * model (lab/clock-models.ts), locally and relayed by the relay model (lab/relay-model.ts) under
 * several jitter kinds and both x11vnc pacings; lab captures already cached under
 * test-output/lab-captures/ (by a live `npm run bench:detect`) are restamped through each clock
 * model too. One table per clock model, cold (new device) and warm (baseline learned from the
 * typist's own sessions 0-2 on the same clock) side by side.
 *
 * Negatives: the held-out sessions typed locally (cold: all six sessions; warm: sessions 3-5), plus a
 * local-load row (the same sessions with the agent stalled for 150-400 ms every few seconds).
 * Positives: the same sessions relayed. Thresholds are the shipped ones; "TPR@1%FPR" re-picks the
 * threshold on these negatives and is shown only for comparison.
 */
import fs from 'node:fs';
import path from 'node:path';
import { initialBaseline, updateBaseline, type DeviceBaseline } from '../agent/timing-detector/baseline-model';
import type { Modality, PooledWindow } from '../agent/timing-detector/features';
import { POPULATION_PRIOR } from '../agent/timing-detector/prior';
import { ALARM_THRESHOLD, COLD_FACTOR, effectiveThreshold, scorePool } from '../agent/timing-detector/scorer';
import { CAPTURE_DIR, describeLink, describeTool, type Capture } from '../lab/captures';
import { CLOCK_MODELS, clockModelLabel, clockResolutionMs, clockStamper, fineCaptureEvents, restampEvents, type ClockModelId } from '../lab/clock-models';
import { relaySchedule, reportClockSchedule, type JitterKind, type ServerPacing } from '../lab/relay-model';
import { isHeldOutUser, loadFineTypingSessions, typingSchedule, type TypingSession } from '../lab/schedules';
import { AGGREGATOR_LIMITS, clockSchedulePools, eventsFromSchedule, progressPools, rollingPools, windowsFromStamped } from '../lab/windows';
import type { ScheduleLine } from '../lab/injector';
import { withLoadStalls } from '../lab/load-model';

/** A simulated relay condition. */
export interface ReplayCondition {
  readonly jitter: JitterKind;
  readonly jitterMs: number;
  readonly pacing: ServerPacing;
}

/** The simulated conditions, each over every held-out session. */
export const REPLAY_CONDITIONS: readonly ReplayCondition[] = [
  { jitter: 'exponential', jitterMs: 0, pacing: 'tuned' },
  { jitter: 'exponential', jitterMs: 10, pacing: 'tuned' },
  { jitter: 'exponential', jitterMs: 20, pacing: 'tuned' },
  { jitter: 'exponential', jitterMs: 40, pacing: 'tuned' },
  { jitter: 'exponential', jitterMs: 20, pacing: 'default' },
  { jitter: 'normal', jitterMs: 10, pacing: 'default' },
  { jitter: 'normal', jitterMs: 25, pacing: 'tuned' },
  { jitter: 'normal', jitterMs: 25, pacing: 'default' },
  { jitter: 'normal', jitterMs: 40, pacing: 'default' },
  { jitter: 'uniform', jitterMs: 25, pacing: 'default' },
  { jitter: 'pareto', jitterMs: 20, pacing: 'default' },
];

const JITTER_SEED: Readonly<Record<JitterKind, number>> = { exponential: 0, normal: 7, uniform: 13, pareto: 19 };

interface Scored {
  readonly score: number;
  readonly at: number;
}

function scores(pools: readonly PooledWindow[], baseline: DeviceBaseline, modality: Modality): Scored[] {
  const origin = pools[0]?.hookStart ?? 0;
  return pools.flatMap((pool) =>
    scorePool(pool, baseline)
      .filter((s) => s.modality === modality)
      .map((s) => ({ score: s.score, at: pool.hookEnd - origin })),
  );
}

function learn(baseline: DeviceBaseline, pools: readonly PooledWindow[]): DeviceBaseline {
  let out = baseline;
  for (const pool of pools) for (const score of scorePool(pool, out)) if (score.local) out = updateBaseline(out, score.values);
  return out;
}

function tprAtFpr(positives: readonly number[], negatives: readonly number[], fpr: number): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  const sorted = [...negatives].sort((a, b) => b - a);
  const threshold = sorted[Math.floor(fpr * sorted.length)] ?? -Infinity;
  return positives.filter((p) => p > threshold).length / positives.length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[sorted.length >> 1]!;
}

const seconds = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(0) : 'none');
const share = (hits: number, total: number): string => (total === 0 ? 'n/a' : `${((100 * hits) / total).toFixed(total >= 1000 ? 1 : 0)}% (${hits}/${total})`);
const pct = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(0)}%`);

function sessionSeed(session: TypingSession): number {
  return 100 * session.user + session.session;
}

function linesOf(session: TypingSession): ScheduleLine[] {
  return typingSchedule(session.keystrokes).lines;
}

function relayedLines(session: TypingSession, condition: ReplayCondition): ScheduleLine[] {
  const seed = 1000 * session.user + 10 * session.session + condition.jitterMs + JITTER_SEED[condition.jitter];
  return relaySchedule(linesOf(session), condition.jitterMs, seed, { jitter: condition.jitter, pacing: condition.pacing });
}

/** Lab captures cached by a live run, if any (no lab is started here). */
export function cachedCaptures(dir = CAPTURE_DIR): Capture[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Capture);
}

function captureStamped(capture: Capture, clock: ClockModelId): ReturnType<typeof restampEvents> {
  const seed = (capture.user ?? capture.seed ?? 0) * 31 + capture.delayMs + capture.jitterMs;
  return restampEvents(fineCaptureEvents(capture.events, seed), clockStamper(clock, seed));
}

function toolOf(capture: Capture): string {
  if (capture.route === 'local') return capture.cpuHog === true ? 'local, CPU hog' : '-';
  const link = describeLink(capture);
  return `${describeTool(capture)}${capture.viewer === 'tightvnc' ? ', TightVNC' : ''}${link.cap === '-' ? '' : `, ${link.cap}`}`;
}

/** Print one table per clock model. `clocks` narrows the models (tests and quick looks). */
export function runReplay(clocks: readonly ClockModelId[] = CLOCK_MODELS, conditions: readonly ReplayCondition[] = REPLAY_CONDITIONS): void {
  const started = Date.now();
  const sessions = loadFineTypingSessions();
  const held = sessions.filter((s) => isHeldOutUser(s.user));
  const users = [...new Set(held.map((s) => s.user))];
  const captures = cachedCaptures(process.env.TELLTALE_LAB_CAPTURES ?? CAPTURE_DIR);
  const cold = initialBaseline(POPULATION_PRIOR);
  const coldThr = {
    keys: effectiveThreshold(ALARM_THRESHOLD.keys, 0, COLD_FACTOR.keys),
    mouse: effectiveThreshold(ALARM_THRESHOLD.mouse, 0, COLD_FACTOR.mouse),
  };
  console.log(`bench:detect --replay: ${held.length} held-out sessions (${users.length} users), ${captures.length} cached lab captures`);
  console.log(`thresholds: keys ${coldThr.keys} on a new device (cold), ${ALARM_THRESHOLD.keys} warm; mouse ${coldThr.mouse}`);
  for (const clock of clocks) {
    const poolsOf = (lines: readonly ScheduleLine[], seed: number): PooledWindow[] => clockSchedulePools(lines, clock, seed);
    const warmBy = new Map<number, DeviceBaseline>();
    for (const user of users) {
      let baseline = cold;
      for (const session of held.filter((s) => s.user === user && s.session <= 2)) baseline = learn(baseline, poolsOf(linesOf(session), sessionSeed(session)));
      warmBy.set(user, baseline);
    }
    const negCold: number[] = [];
    const negWarm: number[] = [];
    let alarmedSessions = 0;
    const loadCold: number[] = [];
    let keyboardAlarms = 0;
    let keyboardDecisions = 0;
    for (const session of held) {
      const pools = poolsOf(linesOf(session), sessionSeed(session));
      const coldScores = scores(pools, cold, 'keys').map((s) => s.score);
      negCold.push(...coldScores);
      if (coldScores.some((s) => s >= coldThr.keys)) alarmedSessions++;
      if (session.session > 2) negWarm.push(...scores(pools, warmBy.get(session.user)!, 'keys').map((s) => s.score));
      const loaded = rollingPools(withLoadStalls(linesOf(session), clock, sessionSeed(session)));
      loadCold.push(...scores(loaded, cold, 'keys').map((s) => s.score));
      const keyboard = poolsOf(reportClockSchedule(linesOf(session), 8, sessionSeed(session)), sessionSeed(session));
      const keyboardScores = scores(keyboard, cold, 'keys');
      keyboardDecisions += keyboardScores.length;
      keyboardAlarms += keyboardScores.filter((s) => s.score >= coldThr.keys).length;
    }
    console.log('');
    console.log(`### ${clockModelLabel(clock)}`);
    console.log('');
    console.log(
      `Local typing (negatives): cold false alarms ${share(negCold.filter((s) => s >= coldThr.keys).length, negCold.length)}, sessions with any ${alarmedSessions}/${held.length}; ` +
        `warm ${share(negWarm.filter((s) => s >= ALARM_THRESHOLD.keys).length, negWarm.length)}; ` +
        `busy machine (stalls) ${share(loadCold.filter((s) => s >= coldThr.keys).length, loadCold.length)}; ` +
        `125 Hz USB keyboard ${share(keyboardAlarms, keyboardDecisions)}`,
    );
    console.log('');
    const header =
      '| relay (simulated, held-out sessions) | pacing | decisions | cold TPR@thr | cold TPR@1%FPR | warm TPR@thr | warm TPR@1%FPR | sessions alarmed within 60 s (cold) | median first alarm s, 5 s progress decisions (cold) |';
    console.log(header);
    console.log(header.replace(/[^|]/g, '-'));
    for (const condition of conditions) {
      const positives: number[] = [];
      const positivesWarm: number[] = [];
      let within = 0;
      const firstProgress: number[] = [];
      for (const session of held) {
        const stamped = restampEvents(eventsFromSchedule(relayedLines(session, condition), false), clockStamper(clock, sessionSeed(session)));
        const progress = progressPools(stamped, clockResolutionMs(clock)).find(({ pool }) => scorePool(pool, cold).some((s) => s.modality === 'keys' && s.alarm));
        firstProgress.push(progress === undefined ? Infinity : progress.at);
        const relayedPools = poolsOf(relayedLines(session, condition), sessionSeed(session));
        const scored = scores(relayedPools, cold, 'keys');
        positives.push(...scored.map((s) => s.score));
        const first = scored.find((s) => s.score >= coldThr.keys);
        if (first !== undefined && first.at <= 60_000) within++;
        if (session.session > 2) positivesWarm.push(...scores(relayedPools, warmBy.get(session.user)!, 'keys').map((s) => s.score));
      }
      console.log(
        `| ${condition.jitter} ${condition.jitterMs} ms | ${condition.pacing} | ${positives.length} | ${pct(positives.filter((s) => s >= coldThr.keys).length / positives.length)} | ${pct(tprAtFpr(positives, negCold, 0.01))} | ${pct(positivesWarm.filter((s) => s >= ALARM_THRESHOLD.keys).length / positivesWarm.length)} | ${pct(tprAtFpr(positivesWarm, negWarm, 0.01))} | ${within}/${held.length} | ${seconds(median(firstProgress))} |`,
      );
    }
    if (captures.length > 0) {
      console.log('');
      const labHeader = '| lab capture (restamped) | tool | delay ms | jitter ms | typist/rate | decisions | cold alarms at thr | first alarm s (5 s progress) |';
      console.log(labHeader);
      console.log(labHeader.replace(/[^|]/g, '-'));
      for (const capture of captures) {
        const stamped = captureStamped(capture, clock);
        const got = scores(rollingPools(windowsFromStamped(stamped, AGGREGATOR_LIMITS, clockResolutionMs(clock))), cold, capture.modality);
        const firstAlarm = progressPools(stamped, clockResolutionMs(clock)).find(({ pool }) => scorePool(pool, cold).some((s) => s.modality === capture.modality && s.alarm));
        const who = capture.modality === 'keys' ? `u${capture.user}` : `${capture.rateHz} Hz`;
        console.log(
          `| ${capture.modality} ${capture.route} | ${toolOf(capture)} | ${capture.delayMs} | ${describeLink(capture).jitter} | ${who} | ${got.length} | ${got.filter((s) => s.score >= coldThr[capture.modality]).length}/${got.length} | ${firstAlarm === undefined ? 'none' : (firstAlarm.at / 1000).toFixed(1)} |`,
        );
      }
    }
  }
  console.log('');
  console.log(`replay total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
