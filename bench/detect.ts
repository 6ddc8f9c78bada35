/**
 * `npm run bench:detect`: how well the timing detector tells relayed input from local input,
 * measured on real remote-desktop sessions in the lab (lab/).
 *
 *   npm run bench:detect                     full grid (about 43 minutes on a shared 2-core machine)
 *   npm run bench:detect -- --quick          CI-size grid (about 4 minutes)
 *   npm run bench:detect -- --fresh          replay again instead of re-scoring cached captures
 *   npm run bench:detect -- --replay         no live lab: one table per OS input-clock model (bench/detect-replay.ts)
 *
 * Positives are lab captures of input relayed operator display -> viewer -> delay proxy -> server
 * -> target display: x11vnc latency-tuned or at its defaults, with the TigerVNC or the TightVNC
 * viewer, and FreeRDP; exponential, normal, uniform and Pareto jitter; bandwidth caps. Negatives
 * are lab captures of the same kind of input injected on the target directly, plus (clearly counted
 * apart) every held-out human session replayed offline
 * through the same aggregator and detector, because the held-out sessions are hours of typing and
 * the lab replays in real time. The split is fixed: even user ids tune (prior, thresholds), odd
 * user ids are reported. Captures are cached as JSON under test-output/lab-captures/.
 *
 * The load case: local typing and pointing on the target while a busy loop saturates every core
 * (lab.ts RunOptions.cpuHog). Its captures keep what the agent's load guard reads (delivery delays,
 * event-loop stalls), every capture is scored through it, and its false alarms are printed in their
 * own table beside the unloaded local runs'; they are not mixed into the AUC negatives.
 *
 * Scored unit: the detector's decision at each aggregator flush (30 s or 50 keystrokes), over the
 * rolling last 60 s of windows. "cold" = a new device (population prior only); "warm" = a device
 * whose baseline learned from that typist's own earlier sessions (sessions 0-2, offline) or, for
 * the pointer, from generated local motion of the same report rate (other seeds, offline).
 * Real-time replays are sensitive to machine load: each capture keeps the load average when it ended.
 */
import { pointerCapturePlan, printPointerTable } from './detect-pointer';
import os from 'node:os';
import { runReplay } from './detect-replay';
import { parseOrExit, type CommandSpec, type FlagSpec } from '../common/command-line';
import { initialBaseline, updateBaseline, type DeviceBaseline } from '../agent/timing-detector/baseline-model';
import type { Modality, PooledWindow } from '../agent/timing-detector/features';
import { POPULATION_PRIOR } from '../agent/timing-detector/prior';
import { ALARM_THRESHOLD, COLD_FACTOR, effectiveThreshold, scorePool } from '../agent/timing-detector/scorer';
import { isStalledWindow } from '../agent/timing-detector/features';
import { captureWindows, describeLink, describeTool, runCaptures, type Capture, type CaptureItem } from '../lab/captures';
import { stopAllLabs, type RemoteTool, type VncViewer, type X11vncMode } from '../lab/lab';
import type { JitterKind } from '../lab/relay-model';
import { isHeldOutUser, loadFineTypingSessions, typingSchedule, type TypingSession } from '../lab/schedules';
import { relaySchedule, reportClockSchedule } from '../lab/relay-model';
import { eventsFromSchedule, pointerPools, POINTER_RATES, rollingPools, schedulePools, sessionPools, windowsFromEvents } from '../lab/windows';

/** The remote conditions: a cross through (110 ms, 20 ms) over jitter and over delay. */
export const REMOTE_CONDITIONS: readonly { delayMs: number; jitterMs: number }[] = [
  { delayMs: 110, jitterMs: 0 },
  { delayMs: 110, jitterMs: 10 },
  { delayMs: 110, jitterMs: 20 },
  { delayMs: 110, jitterMs: 40 },
  { delayMs: 0, jitterMs: 20 },
  { delayMs: 50, jitterMs: 20 },
  { delayMs: 200, jitterMs: 20 },
];
const QUICK_CONDITIONS = REMOTE_CONDITIONS.filter((c) => c.delayMs === 110 && c.jitterMs !== 40);

/**
 * The same links with x11vnc at its default input settings (its own event-loop cadence), reported
 * in their own rows beside the latency-tuned ones; same typists as the tuned rows they mirror.
 */
export const DEFAULT_X11VNC_CONDITIONS: readonly { delayMs: number; jitterMs: number; user: number }[] = [
  { delayMs: 110, jitterMs: 10, user: 19 },
  { delayMs: 110, jitterMs: 20, user: 21 },
];

/** Extra held-out typists relayed at 110 ms with 10 and 20 ms jitter (full grid only). */
export const EXTRA_TYPISTS: readonly { delayMs: number; jitterMs: number; user: number }[] = [
  ...[31, 33, 35, 37].map((user) => ({ delayMs: 110, jitterMs: 10, user })),
  ...[39, 41, 43, 45].map((user) => ({ delayMs: 110, jitterMs: 20, user })),
];

/**
 * The same kind of links relayed by the other real tool, FreeRDP (shadow server + xfreerdp), with
 * their own held-out typists and pointer seeds (full grid only).
 */
export const RDP_CONDITIONS: readonly { delayMs: number; jitterMs: number; user: number }[] = [
  { delayMs: 110, jitterMs: 0, user: 47 },
  { delayMs: 110, jitterMs: 10, user: 49 },
  { delayMs: 110, jitterMs: 20, user: 51 },
  { delayMs: 110, jitterMs: 40, user: 53 },
];
const RDP_POINTER: readonly { delayMs: number; jitterMs: number; rateHz: number }[] = [
  { delayMs: 110, jitterMs: 0, rateHz: 125 },
  { delayMs: 110, jitterMs: 20, rateHz: 125 },
  { delayMs: 110, jitterMs: 20, rateHz: 1000 },
];

/** A widened condition: another viewer, jitter shape or bandwidth cap, with its own held-out typist and pointer seed. */
export interface WideCondition {
  readonly delayMs: number;
  readonly jitterMs: number;
  readonly jitter?: JitterKind;
  readonly rateKbps?: number;
  readonly x11vnc?: X11vncMode;
  readonly viewer?: VncViewer;
  readonly user: number;
  /** Pointer report rate, Hz, for the condition's pointer row; absent: typing only. */
  readonly rateHz?: number;
}

/**
 * The TightVNC viewer (with tuned and default x11vnc), the jitter shapes and the bandwidth caps
 * (full grid only). Normal and uniform at 25 ms are the outside evaluation's links; the caps run
 * without jitter, so whatever they show is the cap's own doing.
 */
export const WIDE_CONDITIONS: readonly WideCondition[] = [
  { delayMs: 110, jitterMs: 20, viewer: 'tightvnc', user: 13, rateHz: 125 },
  { delayMs: 110, jitterMs: 40, viewer: 'tightvnc', user: 15 },
  { delayMs: 0, jitterMs: 0, viewer: 'tightvnc', user: 17, rateHz: 125 },
  { delayMs: 110, jitterMs: 25, jitter: 'normal', viewer: 'tightvnc', x11vnc: 'default', user: 19, rateHz: 1000 },
  { delayMs: 110, jitterMs: 25, jitter: 'normal', user: 23, rateHz: 125 },
  { delayMs: 110, jitterMs: 25, jitter: 'normal', x11vnc: 'default', user: 25 },
  { delayMs: 110, jitterMs: 25, jitter: 'uniform', user: 27, rateHz: 125 },
  { delayMs: 110, jitterMs: 20, jitter: 'pareto', user: 29, rateHz: 125 },
  { delayMs: 110, jitterMs: 0, rateKbps: 1000, user: 31, rateHz: 125 },
  { delayMs: 110, jitterMs: 0, rateKbps: 256, user: 33, rateHz: 125 },
];

/** The load case: local typists and pointer rates replayed with a busy loop on every core. */
export const LOAD_TYPISTS: readonly number[] = [13, 15];
const LOAD_POINTER_RATES: readonly number[] = [125, 1000];

/** Cache label: the replay's identity, duration included (a 30 s quick capture never stands in for a 45 s one). */
function label(parts: string, durationMs: number, x11vnc: X11vncMode = 'tuned', tool: RemoteTool = 'vnc', wide: Partial<WideCondition> = {}): string {
  const extra = `${wide.viewer === 'tightvnc' ? '-tightvnc' : ''}${wide.jitter && wide.jitter !== 'exponential' ? `-${wide.jitter}` : ''}${wide.rateKbps ? `-cap${wide.rateKbps}k` : ''}`;
  return `${parts}-${durationMs / 1000}s${tool === 'rdp' ? '-rdp' : x11vnc === 'default' ? '-x11vnc-default' : ''}${extra}`;
}

/** Lab replays for the bench. Typists are held-out (odd) users only. */
export function capturePlan(quick: boolean): CaptureItem[] {
  const items: CaptureItem[] = [];
  for (const user of quick ? [1, 3] : [1, 3, 5, 7, 9, 11]) {
    items.push({ label: label(`keys-local-u${user}`, 30_000), modality: 'keys', route: 'local', delayMs: 0, jitterMs: 0, user, session: 5, durationMs: 30_000 });
  }
  const conditions = quick ? QUICK_CONDITIONS : REMOTE_CONDITIONS;
  const remoteUsers = [17, 19, 21, 23, 25, 27, 29];
  const keysMs = quick ? 30_000 : 45_000;
  conditions.forEach((c, i) => {
    const user = remoteUsers[i % remoteUsers.length]!;
    items.push({ label: label(`keys-d${c.delayMs}-j${c.jitterMs}-u${user}`, keysMs), modality: 'keys', route: 'remote', ...c, user, session: 4, durationMs: keysMs });
  });
  if (!quick) {
    // More typists at the two jitters the target is about (10 and 20 ms), so those rows do not rest on one person.
    for (const c of EXTRA_TYPISTS) {
      items.push({ label: label(`keys-d${c.delayMs}-j${c.jitterMs}-u${c.user}`, keysMs), modality: 'keys', route: 'remote', delayMs: c.delayMs, jitterMs: c.jitterMs, user: c.user, session: 4, durationMs: keysMs });
    }
  }
  for (const c of quick ? DEFAULT_X11VNC_CONDITIONS.filter((d) => d.jitterMs === 20) : DEFAULT_X11VNC_CONDITIONS) {
    const { user, ...link } = c;
    items.push({
      label: label(`keys-d${c.delayMs}-j${c.jitterMs}-u${user}`, keysMs, 'default'),
      modality: 'keys',
      route: 'remote',
      ...link,
      user,
      session: 4,
      durationMs: keysMs,
      x11vnc: 'default',
    });
  }
  const localMouseMs = quick ? 8000 : 10_000;
  for (const rateHz of quick ? [125, 1000] : POINTER_RATES) {
    items.push({ label: label(`mouse-local-r${rateHz}`, localMouseMs), modality: 'mouse', route: 'local', delayMs: 0, jitterMs: 0, rateHz, seed: rateHz, durationMs: localMouseMs });
  }
  const mouseMs = quick ? 8000 : 12_000;
  conditions.forEach((c, i) => {
    const rateHz = POINTER_RATES[i % POINTER_RATES.length]!;
    items.push({ label: label(`mouse-d${c.delayMs}-j${c.jitterMs}-r${rateHz}`, mouseMs), modality: 'mouse', route: 'remote', ...c, rateHz, seed: 100 + i, durationMs: mouseMs });
  });
  if (!quick) {
    for (const c of RDP_CONDITIONS) {
      const { user, ...link } = c;
      items.push({ label: label(`keys-d${c.delayMs}-j${c.jitterMs}-u${user}`, keysMs, 'tuned', 'rdp'), modality: 'keys', route: 'remote', ...link, user, session: 4, durationMs: keysMs, tool: 'rdp' });
    }
    RDP_POINTER.forEach((c, i) => {
      items.push({ label: label(`mouse-d${c.delayMs}-j${c.jitterMs}-r${c.rateHz}`, mouseMs, 'tuned', 'rdp'), modality: 'mouse', route: 'remote', ...c, seed: 300 + i, durationMs: mouseMs, tool: 'rdp' });
    });
    items.push({ label: label('mouse-d110-j20-r125', mouseMs, 'default'), modality: 'mouse', route: 'remote', delayMs: 110, jitterMs: 20, rateHz: 125, seed: 200, durationMs: mouseMs, x11vnc: 'default' });
    WIDE_CONDITIONS.forEach((c, i) => {
      const { user, rateHz, ...link } = c;
      const x11vnc = c.x11vnc ?? 'tuned';
      items.push({ label: label(`keys-d${c.delayMs}-j${c.jitterMs}-u${user}`, keysMs, x11vnc, 'vnc', c), modality: 'keys', route: 'remote', ...link, user, session: 4, durationMs: keysMs });
      if (rateHz !== undefined) {
        items.push({ label: label(`mouse-d${c.delayMs}-j${c.jitterMs}-r${rateHz}`, mouseMs, x11vnc, 'vnc', c), modality: 'mouse', route: 'remote', ...link, rateHz, seed: 400 + i, durationMs: mouseMs });
      }
    });
  }
  // The load case, quick grid included: local input while every core is busy must raise nothing.
  for (const user of quick ? LOAD_TYPISTS.slice(0, 1) : LOAD_TYPISTS) {
    items.push({ label: `keys-local-u${user}-${30}s-cpu-hog`, modality: 'keys', route: 'local', delayMs: 0, jitterMs: 0, user, session: 5, durationMs: 30_000, cpuHog: true });
  }
  for (const rateHz of quick ? LOAD_POINTER_RATES.slice(0, 1) : LOAD_POINTER_RATES) {
    items.push({ label: `mouse-local-r${rateHz}-${localMouseMs / 1000}s-cpu-hog`, modality: 'mouse', route: 'local', delayMs: 0, jitterMs: 0, rateHz, seed: 500 + rateHz, durationMs: localMouseMs, cpuHog: true });
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Offline streams from the human data (held-out sessions, warm baselines)

/** Jitters of the simulated-relay rows (the constant delay changes no interval, so it is not a parameter). */
export const SIMULATED_JITTERS = [0, 5, 10, 20, 40] as const;

/** A session as the relay model (lab/relay-model.ts) would deliver it, with a seed per session and jitter. */
function relayedSessionPools(session: TypingSession, jitterMs: number): PooledWindow[] {
  return schedulePools(relaySchedule(typingSchedule(session.keystrokes).lines, jitterMs, 1000 * session.user + 10 * session.session + jitterMs));
}

/** Same-millisecond ties the relay model predicts for a lab capture's schedule: mean over `seeds` seeds. */
function modelTies(sessions: readonly TypingSession[], capture: Capture, seeds = 10): number {
  const session = sessions.find((s) => s.user === capture.user && s.session === capture.session);
  if (session === undefined) return NaN;
  const lines = typingSchedule(session.keystrokes, { maxDurationMs: capture.durationMs }).lines;
  let total = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const windows = windowsFromEvents(eventsFromSchedule(relaySchedule(lines, capture.jitterMs, seed)));
    total += windows.reduce((a, w) => a + (w.keys.coincidentEvents ?? 0), 0);
  }
  return total / seeds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A warm baseline: the typist's own sessions 0-2 replayed offline through the detector's update rule. */
function warmBaseline(sessions: readonly TypingSession[], user: number): DeviceBaseline {
  let baseline = initialBaseline(POPULATION_PRIOR);
  for (const session of sessions.filter((s) => s.user === user && s.session <= 2)) {
    for (const pool of sessionPools(session)) {
      for (const score of scorePool(pool, baseline)) if (score.local) baseline = updateBaseline(baseline, score.values);
    }
  }
  return baseline;
}

// ---------------------------------------------------------------------------------------------
// Scoring

interface Scored {
  readonly score: number;
  /** Hook ms from the capture's first event to this decision. */
  readonly at: number;
}

function modalityScores(pools: readonly PooledWindow[], baseline: DeviceBaseline, modality: Modality, origin: number): Scored[] {
  return pools.flatMap((pool) =>
    scorePool(pool, baseline)
      .filter((s) => s.modality === modality)
      .map((s) => ({ score: s.score, at: pool.hookEnd - origin })),
  );
}

function captureOrigin(capture: Capture): number {
  const first = capture.events[0];
  if (first === undefined) return 0;
  return first.kind === 'keystroke' ? first.downTime : first.time;
}

function auc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}

/** TPR at the smallest threshold whose FPR is at most `fpr` (ties count against). */
function tprAtFpr(positives: readonly number[], negatives: readonly number[], fpr: number): number {
  const sorted = [...negatives].sort((a, b) => b - a);
  const allowed = Math.floor(fpr * sorted.length);
  // Threshold strictly above the (allowed+1)-th highest negative.
  const threshold = sorted[allowed] ?? -Infinity;
  return positives.filter((p) => p > threshold).length / positives.length;
}

const pct = (x: number): string => (Number.isNaN(x) ? '  n/a' : `${(x * 100).toFixed(0).padStart(4)}%`);

export const DETECT_COMMAND = {
  usage: 'npm run bench:detect --',
  name: 'bench:detect',
  summary:
    'Measures how well the timing detector tells relayed input from local input: replays held-out human typing and ' +
    'generated pointer motion through real x11vnc (tuned and default; TigerVNC and TightVNC viewers) and FreeRDP sessions ' +
    'over a delay proxy (exponential, normal, uniform or Pareto jitter; 1 Mbit/s and 256 kbit/s caps) on Xvfb displays, ' +
    'and local input with a busy loop on every core (the load case), and prints ROC AUC, true-positive rate at 1 % false ' +
    'positives, false alarms and time to finding per condition, cold and warm. ' +
    'Captures are cached under test-output/lab-captures/ and re-scored on the next run. Progress goes to stderr; ' +
    'Ctrl-C or SIGTERM stops the lab and its children. The population prior it scores against is derived by tools/derive-prior.ts, not here.',
  duration:
    'about 43 minutes for the full grid (measured on a shared 2-core machine at load average 7-22; 32 minutes of it replaying schedules in real time, plus about 6 for the pointer rows), about 4 with --quick; seconds when every capture is cached',
  flags: {
    quick: { type: 'boolean', description: 'The CI-size grid.' },
    fresh: { type: 'boolean', description: 'Replay again instead of re-scoring cached captures.' },
    replay: {
      type: 'boolean',
      description:
        'No live lab: replay the held-out human sessions (locally, relayed by the relay model, and on a busy machine) and any cached lab captures through each OS input-clock model, and print one table per model (about two minutes).',
    },
  },
  environment: [['TELLTALE_LAB_CAPTURES', 'Folder of cached captures (read by --replay too). Default: test-output/lab-captures.']],
  examples: [
    ['npm run bench:detect -- --quick', 'The CI-size grid.'],
    ['npm run bench:detect -- --fresh', 'The full grid, replayed anew.'],
    ['npm run bench:detect -- --replay', 'Per-OS clock tables, offline.'],
  ],
  exitCodes: [
    [0, 'the tables were printed'],
    [1, 'the lab failed (a missing tool is named)'],
    [2, 'usage: an unknown flag'],
    [130, 'interrupted by SIGINT (the lab and its children stopped)'],
    [143, 'stopped by SIGTERM (the lab and its children stopped)'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

function main(): Promise<void> | void {
  const values = parseOrExit(DETECT_COMMAND, process.argv.slice(2), process);
  if (values.replay === true) return runReplay();
  stopLabOnSignals();
  return runBench(values.quick === true, values.fresh === true);
}

/** SIGINT/SIGTERM/SIGHUP stop the lab's children (Xvfb, x11vnc, viewers...) before exiting: a signal to this process alone does not reach them. */
function stopLabOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench:detect: ${signal}, stopping the lab\n`);
      void stopAllLabs().finally(() => process.exit(code));
    });
  }
}

/** A warm pointer baseline: generated local motion at `rateHz` (seeds apart from every scored one), offline. */
function warmMouseBaseline(rateHz: number): DeviceBaseline {
  let baseline = initialBaseline(POPULATION_PRIOR);
  for (const seed of [2, 4, 6]) {
    for (const pool of pointerPools(rateHz, seed * 1000 + rateHz)) {
      for (const score of scorePool(pool, baseline)) if (score.local) baseline = updateBaseline(baseline, score.values);
    }
  }
  return baseline;
}

async function runBench(quick: boolean, fresh: boolean): Promise<void> {
  const started = Date.now();
  const captures = await runCaptures(capturePlan(quick), { fresh, verbose: true, ...(process.env.TELLTALE_LAB_CAPTURES ? { cacheDir: process.env.TELLTALE_LAB_CAPTURES } : {}) });
  const sessions = loadFineTypingSessions();
  const cold = initialBaseline(POPULATION_PRIOR);
  const warmMouse = new Map<number, DeviceBaseline>();
  const warmMouseOf = (rateHz: number): DeviceBaseline => {
    if (!warmMouse.has(rateHz)) warmMouse.set(rateHz, warmMouseBaseline(rateHz));
    return warmMouse.get(rateHz)!;
  };
  /** The warm baseline a capture is scored against: its typist's own, or its pointer rate's. */
  const warmOf = (capture: Capture): DeviceBaseline => (capture.modality === 'keys' ? warmBaseline(sessions, capture.user!) : warmMouseOf(capture.rateHz ?? 125));

  // A new device alarms at the raised cold threshold; a warm baseline (10+ local windows) at the plain one.
  const coldThr: Record<Modality, number> = {
    keys: effectiveThreshold(ALARM_THRESHOLD.keys, 0, COLD_FACTOR.keys),
    mouse: effectiveThreshold(ALARM_THRESHOLD.mouse, 0, COLD_FACTOR.mouse),
  };
  // Negatives: unloaded local captures (the load case is reported apart, below).
  const unloaded = captures.filter((c) => c.route === 'local' && c.cpuHog !== true);
  const loaded = captures.filter((c) => c.route === 'local' && c.cpuHog === true);
  const labLocal: Record<Modality, number[]> = { keys: [], mouse: [] };
  const labLocalWarm: Record<Modality, number[]> = { keys: [], mouse: [] };
  for (const capture of unloaded) {
    const pools = rollingPools(captureWindows(capture));
    labLocal[capture.modality].push(...modalityScores(pools, cold, capture.modality, captureOrigin(capture)).map((s) => s.score));
    labLocalWarm[capture.modality].push(...modalityScores(pools, warmOf(capture), capture.modality, 0).map((s) => s.score));
  }
  const offlineKeys: number[] = [];
  const offlineKeysWarm: number[] = [];
  const alarmedSessions: string[] = [];
  const heldOutUsers = [...new Set(sessions.filter((s) => isHeldOutUser(s.user)).map((s) => s.user))];
  for (const user of heldOutUsers) {
    const warm = warmBaseline(sessions, user);
    for (const session of sessions.filter((s) => s.user === user)) {
      const pools = sessionPools(session);
      const coldScores = modalityScores(pools, cold, 'keys', 0).map((s) => s.score);
      offlineKeys.push(...coldScores);
      if (coldScores.some((s) => s >= coldThr.keys)) alarmedSessions.push(`${user}/${session.session}`);
      if (session.session > 2) offlineKeysWarm.push(...modalityScores(pools, warm, 'keys', 0).map((s) => s.score));
    }
  }
  const offlineMousePools = POINTER_RATES.flatMap((rateHz) => [1, 3, 5, 7].map((seed) => ({ rateHz, pools: pointerPools(rateHz, seed * 1000 + rateHz) })));
  const offlineMouse = offlineMousePools.flatMap(({ pools }) => modalityScores(pools, cold, 'mouse', 0)).map((s) => s.score);
  const offlineMouseWarm = offlineMousePools.flatMap(({ rateHz, pools }) => modalityScores(pools, warmMouseOf(rateHz), 'mouse', 0)).map((s) => s.score);

  const negatives: Record<Modality, number[]> = { keys: [...labLocal.keys, ...offlineKeys], mouse: [...labLocal.mouse, ...offlineMouse] };
  const negativesWarm: Record<Modality, number[]> = { keys: [...labLocalWarm.keys, ...offlineKeysWarm], mouse: [...labLocalWarm.mouse, ...offlineMouseWarm] };
  const warmThr = ALARM_THRESHOLD;

  const loads = captures.map((c) => c.loadAverage).filter((x): x is number => x !== undefined);
  console.log('');
  console.log(`bench:detect (${quick ? 'quick' : 'full'}); captures from ${[...new Set(captures.map((c) => c.capturedAt.slice(0, 16)))].join(', ')}`);
  console.log(
    `machine: ${os.availableParallelism()} cores; 1-minute load average at the end of each replay ${loads.length ? `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)})` : 'not recorded'}: real-time replays on a busy machine are noisier than on a laptop`,
  );
  console.log(
    `decision = rolling 60 s at each aggregator flush (30 s / 50 keys); alarm thresholds keys ${ALARM_THRESHOLD.keys}, mouse ${ALARM_THRESHOLD.mouse} with a warm baseline; on a new device keys ${coldThr.keys}, mouse ${coldThr.mouse}`,
  );
  console.log(
    `negatives keys: ${labLocal.keys.length} lab-local decisions (users ${unloaded.filter((c) => c.modality === 'keys').map((c) => c.user).join(',')}) + ${offlineKeys.length} offline decisions from all ${heldOutUsers.length} held-out users' ${heldOutUsers.length * 6} sessions`,
  );
  console.log(`negatives mouse: ${labLocal.mouse.length} lab-local decisions + ${offlineMouse.length} offline decisions (held-out seeds); warm pointer baselines learn generated local motion of the same rate (other seeds)`);
  const labFp = (m: Modality): number => labLocal[m].filter((s) => s >= coldThr[m]).length;
  console.log(
    `false alarms at the fixed threshold: keys lab ${labFp('keys')}/${labLocal.keys.length}, offline ${offlineKeys.filter((s) => s >= coldThr.keys).length}/${offlineKeys.length} (sessions with any alarm: ${alarmedSessions.length}/${heldOutUsers.length * 6}${alarmedSessions.length ? `: ${alarmedSessions.join(' ')}` : ''}); warm keys ${negativesWarm.keys.filter((s) => s >= warmThr.keys).length}/${negativesWarm.keys.length}; mouse lab ${labFp('mouse')}/${labLocal.mouse.length}, offline ${offlineMouse.filter((s) => s >= coldThr.mouse).length}/${offlineMouse.length}; warm mouse ${negativesWarm.mouse.filter((s) => s >= warmThr.mouse).length}/${negativesWarm.mouse.length}; raw scores at the plain threshold: keys offline ${offlineKeys.filter((s) => s >= ALARM_THRESHOLD.keys).length}/${offlineKeys.length}`,
  );
  console.log('');
  console.log('Relayed input in the lab (positives); cold = new device at the raised threshold, warm = learned baseline at the plain one');
  const header = `| input | tool | viewer | delay ms | jitter | cap | typist/rate | n | AUC | cold TPR@1%FPR | cold TPR@thr | warm TPR@1%FPR | warm TPR@thr | first alarm s (cold) | same-ms ties / gaps<60ms | model ties | max inj. late ms | load avg |`;
  console.log(header);
  console.log(header.replace(/[^|]/g, '-'));
  for (const capture of captures.filter((c) => c.route === 'remote')) {
    const windows = captureWindows(capture);
    const pools = rollingPools(windows);
    const scored = modalityScores(pools, cold, capture.modality, captureOrigin(capture));
    const positives = scored.map((s) => s.score);
    const neg = negatives[capture.modality];
    const firstAlarm = scored.find((s) => s.score >= coldThr[capture.modality]);
    const warmScores = modalityScores(pools, warmOf(capture), capture.modality, 0).map((s) => s.score);
    const warm = pct(tprAtFpr(warmScores, negativesWarm[capture.modality], 0.01));
    const warmAtThr = pct(warmScores.filter((p) => p >= warmThr[capture.modality]).length / warmScores.length);
    let ties = '-';
    let model = '-';
    if (capture.modality === 'keys') {
      model = capture.rateKbps === undefined && (capture.jitter ?? 'exponential') === 'exponential' ? modelTies(sessions, capture).toFixed(1) : '-';
      ties = `${windows.reduce((a, w) => a + (w.keys.coincidentEvents ?? 0), 0)}/${windows.reduce((a, w) => a + (w.keys.shortGaps ?? 0), 0)}`;
    }
    const who = capture.modality === 'keys' ? `u${capture.user}` : `${capture.rateHz} Hz`;
    const link = describeLink(capture);
    console.log(
      `| ${capture.modality} | ${describeTool(capture)} | ${capture.tool === 'rdp' ? 'xfreerdp' : capture.viewer === 'tightvnc' ? 'TightVNC' : 'TigerVNC'} | ${capture.delayMs} | ${link.jitter} | ${link.cap} | ${who} | ${positives.length} | ${auc(positives, neg).toFixed(3)} | ${pct(tprAtFpr(positives, neg, 0.01))} | ${pct(positives.filter((p) => p >= coldThr[capture.modality]).length / positives.length)} | ${warm} | ${warmAtThr} | ${firstAlarm ? (firstAlarm.at / 1000).toFixed(1) : 'none'} | ${ties} | ${model} | ${(capture.maxLateUs / 1000).toFixed(1)} | ${capture.loadAverage?.toFixed(1) ?? '-'} |`,
    );
  }
  console.log('');
  printLocal(unloaded, loaded, cold, warmOf, coldThr);
  console.log('');
  printSimulated(sessions, heldOutUsers, cold, coldThr.keys, negatives.keys, negativesWarm.keys);
  console.log('');
  // The pointer rows, cold and warm, tuning and held-out seeds apart (bench/detect-pointer.ts).
  printPointerTable(await runCaptures(pointerCapturePlan(quick), { fresh, verbose: true, ...(process.env.TELLTALE_LAB_CAPTURES ? { cacheDir: process.env.TELLTALE_LAB_CAPTURES } : {}) }), quick);
  console.log('');
  printKeyboardClocks(sessions, cold);
  console.log('');
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * Local input in the lab, each run a row: decisions and false alarms cold and warm, and what the
 * load guard saw (windows left out as stalled, the longest delivery delay and loop stall). The
 * CPU-hog rows are the load case: every one of their alarms is a false alarm on a busy laptop.
 */
function printLocal(
  unloaded: readonly Capture[],
  loaded: readonly Capture[],
  cold: DeviceBaseline,
  warmOf: (capture: Capture) => DeviceBaseline,
  coldThr: Record<Modality, number>,
): void {
  console.log('Local input in the lab (negatives): false alarms per decision, cold and warm; the CPU-hog rows are the load case (every core busy)');
  const header = '| input | load | typist/rate | decisions | cold false alarms | warm false alarms | highest cold score / thr | windows left out as stalled | max delivery delay ms | max loop stall ms | max inj. late ms | load avg |';
  console.log(header);
  console.log(header.replace(/[^|]/g, '-'));
  const totals = { decisions: 0, cold: 0, warm: 0 };
  for (const capture of [...unloaded, ...loaded]) {
    const windows = captureWindows(capture);
    const pools = rollingPools(windows);
    const coldScores = modalityScores(pools, cold, capture.modality, 0).map((s) => s.score);
    const warmScores = modalityScores(pools, warmOf(capture), capture.modality, 0).map((s) => s.score);
    const coldAlarms = coldScores.filter((s) => s >= coldThr[capture.modality]).length;
    const warmAlarms = warmScores.filter((s) => s >= ALARM_THRESHOLD[capture.modality]).length;
    if (capture.cpuHog === true) {
      totals.decisions += coldScores.length;
      totals.cold += coldAlarms;
      totals.warm += warmAlarms;
    }
    const who = capture.modality === 'keys' ? `u${capture.user}` : `${capture.rateHz} Hz`;
    const maxDelivery = Math.max(0, ...(capture.deliveryDelaysMs ?? []));
    const maxLoop = Math.max(0, ...(capture.loopDelays ?? []).map((d) => d.ms));
    console.log(
      `| ${capture.modality} | ${capture.cpuHog === true ? 'CPU hog, every core' : 'idle lab'} | ${who} | ${coldScores.length} | ${coldAlarms}/${coldScores.length} | ${warmAlarms}/${warmScores.length} | ${coldScores.length === 0 ? 'none' : Math.max(...coldScores).toFixed(1)} / ${coldThr[capture.modality]} | ${windows.filter(isStalledWindow).length}/${windows.length} | ${maxDelivery.toFixed(0)} | ${maxLoop.toFixed(0)} | ${(capture.maxLateUs / 1000).toFixed(1)} | ${capture.loadAverage?.toFixed(1) ?? '-'} |`,
    );
  }
  console.log(`load case total: ${totals.cold}/${totals.decisions} cold false alarms, ${totals.warm}/${totals.decisions} warm (target: zero)`);
}

/**
 * Typing relayed through the relay model, every held-out session: the statistical weight the lab's
 * few minutes cannot give. Negatives are the same offline held-out decisions as the lab rows'.
 * "alarm within 60 s" counts sessions whose first alarm comes at most 60 s of typing after the
 * session starts (the aggregator flushes every 30 s or 50 keys, so a fast typist decides sooner).
 */
function printSimulated(
  sessions: readonly TypingSession[],
  heldOutUsers: readonly number[],
  cold: DeviceBaseline,
  coldThreshold: number,
  negatives: readonly number[],
  negativesWarm: readonly number[],
): void {
  console.log('Simulated relay (lab/relay-model.ts; its tie counts are checked against the lab in the "model ties" column above), held-out users only');
  const header = '| input | jitter ms | sessions | decisions | AUC | TPR@1%FPR | TPR@cold thr | warm TPR@1%FPR | warm TPR@thr | sessions alarmed within 60 s (cold) | median first alarm s (cold) |';
  console.log(header);
  console.log(header.replace(/[^|]/g, '-'));
  const held = sessions.filter((s) => heldOutUsers.includes(s.user));
  const warmByUser = new Map(heldOutUsers.map((user) => [user, warmBaseline(sessions, user)]));
  for (const jitterMs of SIMULATED_JITTERS) {
    const positives: number[] = [];
    const positivesWarm: number[] = [];
    const firstAlarms: number[] = [];
    for (const session of held) {
      const pools = relayedSessionPools(session, jitterMs);
      const origin = pools[0]?.hookStart ?? 0;
      const scored = modalityScores(pools, cold, 'keys', origin);
      positives.push(...scored.map((x) => x.score));
      const first = scored.find((x) => x.score >= coldThreshold);
      firstAlarms.push(first === undefined ? Infinity : first.at);
      if (session.session > 2) positivesWarm.push(...modalityScores(pools, warmByUser.get(session.user)!, 'keys', 0).map((x) => x.score));
    }
    const within = firstAlarms.filter((t) => t <= 60_000).length;
    const medianFirst = median(firstAlarms);
    console.log(
      `| keys | ${jitterMs} | ${held.length} | ${positives.length} | ${auc(positives, negatives).toFixed(3)} | ${pct(tprAtFpr(positives, negatives, 0.01))} | ${pct(positives.filter((p) => p >= coldThreshold).length / positives.length)} | ${pct(tprAtFpr(positivesWarm, negativesWarm, 0.01))} | ${pct(positivesWarm.filter((p) => p >= ALARM_THRESHOLD.keys).length / positivesWarm.length)} | ${within}/${held.length} (${pct(within / held.length).trim()}) | ${Number.isFinite(medianFirst) ? (medianFirst / 1000).toFixed(0) : 'none'} |`,
    );
  }
}

/**
 * Local typing through modelled USB keyboard report clocks (relay-model.ts reportClockSchedule): a
 * keyboard polled at 125 Hz stamps every key change within one 8 ms report alike, ties that are the
 * device's clock, not a relay. Every session (tuning and held-out) on a new device; then the
 * held-out ones relayed at 20 ms from such a keyboard.
 */
function printKeyboardClocks(sessions: readonly TypingSession[], cold: DeviceBaseline): void {
  console.log('Local typing on modelled USB keyboard clocks, new device (all 330 sessions), and held-out sessions relayed at 20 ms from such a keyboard');
  const header = '| keyboard poll rate | local decisions | local false alarms | sessions with a false alarm | relayed 20 ms: decisions alarmed |';
  console.log(header);
  console.log(header.replace(/[^|]/g, '-'));
  const keyScores = (lines: readonly string[]): number[] =>
    modalityScores(schedulePools(lines), cold, 'keys', 0).map((x) => x.score);
  const threshold = effectiveThreshold(ALARM_THRESHOLD.keys, 0, COLD_FACTOR.keys);
  for (const rateHz of [125, 250, 500, 1000]) {
    let decisions = 0;
    let alarms = 0;
    let alarmedSessions = 0;
    let relayed = 0;
    let relayedAlarms = 0;
    for (const session of sessions) {
      const lines = reportClockSchedule(typingSchedule(session.keystrokes).lines, 1000 / rateHz, 10 * session.user + session.session);
      const local = keyScores(lines);
      decisions += local.length;
      const found = local.filter((x) => x >= threshold).length;
      alarms += found;
      if (found > 0) alarmedSessions++;
      if (isHeldOutUser(session.user)) {
        const remote = keyScores(relaySchedule(lines, 20, 1000 * session.user + session.session));
        relayed += remote.length;
        relayedAlarms += remote.filter((x) => x >= threshold).length;
      }
    }
    console.log(`| ${rateHz} Hz | ${decisions} | ${alarms} | ${alarmedSessions}/${sessions.length} | ${relayedAlarms}/${relayed} (${pct(relayedAlarms / relayed).trim()}) |`);
  }
}

await main();
