/**
 * Relay-evidence features: the numbers the timing detector compares against a device's baseline.
 *
 * A detector scores a rolling span of flushed TimingWindows (about 60 s), so windows are first
 * pooled: counts add up, shares and distribution summaries are averaged weighted by their sample
 * counts. Each feature then reads one number from the pool and knows which way a relay pushes it:
 *  - keys: jitter on the link bunches arrivals (presses and releases landing in the same
 *    millisecond, which a person on a 1 ms clock almost never produces) and smears hold times (each
 *    press and release is delayed independently, so the dwell spread grows and the shortest holds
 *    shrink against the median). The share of down-to-down intervals under 15 ms is not a
 *    feature: on the tuning users its local values have the heaviest tail of any candidate (z 4.4
 *    at the 99.9th percentile) while a 20 ms relay moves its median z by under 0.5;
 *  - mouse: viewers coalesce motion into a few tens of updates per second, so steps of several
 *    pixels arrive two or more of the device's report periods apart, which a device reporting on
 *    its own period never does (coalescedSteps, judged against the device's learned period, not a
 *    population); with jitter updates land in the same millisecond (the one pointer feature that
 *    also sees FreeRDP, which forwards every update uncoalesced). Rate, step size, interval and
 *    implied speed are kept as weight-0 evidence (POPULATION_POINTER_WEIGHT). Interval irregularity (the aggregator's
 *    intervalCv) is not a feature: measured in the lab, relayed motion is more regular than a
 *    local device's, whose updates skip whenever the position does not change.
 * Everything here is pure and works on timing features only.
 */
import { POINTER_INTERVAL_BUCKETS, pointerBucketStartMs, type TimingWindow } from '../../common/timing';

export type Modality = 'keys' | 'mouse';

/** Windows pooled over a rolling span. Null summaries mean "no samples". */
export interface PooledWindow {
  readonly windows: number;
  readonly hookStart: number;
  readonly hookEnd: number;
  readonly keystrokes: number;
  /** Down-to-down intervals (the flight sample size). */
  readonly flights: number;
  /** Key-event gap counts, summed over the windows that carry them (older stored windows do not). */
  readonly coincidentEvents: number;
  readonly shortGaps: number;
  readonly fineGaps: number;
  /** Key-event gaps of exactly 1 ms (windows stored before the count existed add none). */
  readonly oneMsGaps: number;
  readonly dwellMedian: number | null;
  readonly dwellIqr: number | null;
  /** 5th percentile of hold times, ms (windows' p5 weighted by their keystrokes). */
  readonly dwellP5: number | null;
  readonly moveIntervals: number;
  readonly moveRateHz: number | null;
  readonly stepMedian: number | null;
  /** Median interval between pointer updates within a movement, ms. */
  readonly intervalMedian: number | null;
  /** Pointer-update gap counts (0 ms; 1-2 ms), summed over the windows that carry them. */
  readonly coincidentMoves: number;
  readonly fastMoves: number;
  /** Key-event gaps of at most BUNCH_GAP_MS (or the clock's resolution), summed over the windows that carry them. */
  readonly bunchedEvents: number;
  /** Runs of three or more bunched key events. */
  readonly bunchRuns: number;
  /** Short gaps in the windows that carry the bunch counts (the chances for bunching). */
  readonly bunchChances: number;
  /** Key holds under COMPRESSED_HOLD_MS, and the keystrokes of the windows that carry the count. */
  readonly compressedHolds: number;
  readonly holdChances: number;
  /** Windows left out of the pool because the agent was stalled while they were collected. */
  readonly stalledWindows: number;
  /**
   * Pointer updates per interval bucket (common/timing.ts pointerIntervalBucket), all and wide steps
   * only, summed over the windows that carry them; null when none does.
   */
  readonly updateIntervals: readonly number[] | null;
  readonly wideStepIntervals: readonly number[] | null;
}

/**
 * What the scorer knows of the device itself, beyond feature centers: the report periods of the
 * pointing devices it has shown in local motion (baseline-model.ts PointerProfile), empty until
 * they are learned.
 */
export interface DeviceContext {
  /** Report periods of the device's own pointing devices, ms (empty: not learned yet). */
  readonly pointerPeriodsMs: readonly number[];
}

/**
 * The slowest report period an ordinary pointing device has, ms: 125 Hz, the rate USB mice are
 * polled at by default (a full-speed HID endpoint's 8-10 ms interval, which host controllers serve
 * every 8 ms). Not a population statistic but a hardware bound: a cold device is judged by what no
 * ordinary pointing device does rather than by what a typical one does.
 */
export const COLD_POINTER_PERIOD_MS = 8;

/** The cold device context: nothing learned. */
export const COLD_DEVICE: DeviceContext = { pointerPeriodsMs: [] };

/**
 * Share of a span's (or a profile's) update intervals an interval bucket of at most
 * COLD_POINTER_PERIOD_MS + 1 ms must hold to count as a pointing device's report period. Local
 * motion puts most of its updates on its period (lab: 60-85 %); a relay that coalesces at 17 ms and
 * more has no such bucket, and one that jitters spreads its updates thin over every bucket.
 */
export const PERIOD_SHARE = 0.1;

/** The report periods (ms) a histogram of update intervals shows: buckets 1..COLD+1 ms holding PERIOD_SHARE of the non-tied updates. */
export function reportPeriodsMs(updateIntervals: readonly number[]): number[] {
  let total = 0;
  for (let bucket = 1; bucket < updateIntervals.length; bucket++) total += updateIntervals[bucket]!;
  const periods: number[] = [];
  if (total === 0) return periods;
  for (let bucket = 1; bucket <= COLD_POINTER_PERIOD_MS + 1 && bucket < updateIntervals.length; bucket++) {
    if (updateIntervals[bucket]! >= PERIOD_SHARE * total) periods.push(bucket);
  }
  return periods;
}

/**
 * The report period a span's wide steps are judged against, ms: the slowest of the device's learned
 * periods and of the periods the span itself shows (a laptop whose user picks up the touchpad after
 * a 1000 Hz mouse shows the touchpad's 8 ms in that very span), never slower than the cold bound,
 * and the cold bound when neither shows one. So a device that learned its 1000 Hz mouse judges a
 * relay's coalesced steps against 1 ms, while its own slower touchpad is never taken for a relay.
 */
export function judgedPeriodMs(updateIntervals: readonly number[] | null, device: DeviceContext): number {
  const periods = [...device.pointerPeriodsMs, ...(updateIntervals === null ? [] : reportPeriodsMs(updateIntervals))];
  return periods.length === 0 ? COLD_POINTER_PERIOD_MS : Math.min(COLD_POINTER_PERIOD_MS, Math.max(...periods));
}

/**
 * The shortest interval (ms) after which a wide step is inconsistent with a device reporting every
 * `periodMs`: twice its period, and at least three milliseconds past it (clock wobble). A device
 * reports on every period while its position changes, so a step of several pixels comes one period
 * after the last report; only a sender that held motion back (a viewer coalescing updates) lands a
 * wide step two or more periods later.
 */
export function coalesceLimitMs(periodMs: number): number {
  return Math.max(2 * periodMs, periodMs + 3);
}

/** Fewest wide steps a pool needs before its share of coalesced steps is read. */
export const COALESCED_MIN_STEPS = 30;
/** Floor of the coalesced-step baseline's spread: the share a device is allowed above its center (local stalls). */
export const COALESCED_MIN_SPREAD = 0.05;

/** Element-wise sum of the histograms the windows carry, or null when none carries one. */
function sumHistograms(windows: readonly TimingWindow[], read: (w: TimingWindow) => readonly number[] | undefined): number[] | null {
  let total: number[] | null = null;
  for (const w of windows) {
    const counts = read(w);
    if (counts === undefined || counts.length !== POINTER_INTERVAL_BUCKETS) continue;
    total ??= new Array<number>(POINTER_INTERVAL_BUCKETS).fill(0);
    for (let i = 0; i < POINTER_INTERVAL_BUCKETS; i++) total[i]! += counts[i]!;
  }
  return total;
}

/** Wide steps in a pooled histogram, and how many of them came at least `limitMs` after the update before. */
export function coalescedCounts(wideStepIntervals: readonly number[], limitMs: number): { readonly steps: number; readonly coalesced: number } {
  let steps = 0;
  let coalesced = 0;
  for (let bucket = 0; bucket < wideStepIntervals.length; bucket++) {
    const n = wideStepIntervals[bucket]!;
    steps += n;
    if (pointerBucketStartMs(bucket) >= limitMs) coalesced += n;
  }
  return { steps, coalesced };
}

/** How many samples a modality needs in the pool before it is scored at all. */
export const MIN_SAMPLES: Readonly<Record<Modality, number>> = { keys: 40, mouse: 60 };

function weighted(pairs: readonly (readonly [number | null | undefined, number])[]): number | null {
  let sum = 0;
  let weight = 0;
  for (const [value, n] of pairs) {
    if (value === null || value === undefined || n <= 0) continue;
    sum += value * n;
    weight += n;
  }
  return weight === 0 ? null : sum / weight;
}

function sum(windows: readonly TimingWindow[], read: (w: TimingWindow) => number | undefined): number {
  let total = 0;
  for (const w of windows) total += read(w) ?? 0;
  return total;
}

/**
 * A window whose collection overlapped a stall of the agent's event loop longer than this (ms) is
 * left out of every decision: a starved machine bunches its own input (X server and agent alike),
 * so its timing says nothing about a link.
 */
export const STALL_LOOP_MS = 100;

/** Whether a window was collected while the machine was too stalled for its timing to count. */
export function isStalledWindow(window: TimingWindow): boolean {
  return (window.eventLoopDelayMs ?? 0) > STALL_LOOP_MS;
}

/** Pool windows (any order) into one summary; weights are each window's sample counts. Stalled windows are left out. */
export function poolWindows(all: readonly TimingWindow[]): PooledWindow {
  const windows = all.filter((w) => !isStalledWindow(w));
  let keystrokes = 0;
  let flights = 0;
  let moveIntervals = 0;
  for (const w of windows) {
    keystrokes += w.keys.keystrokes;
    flights += w.keys.flight?.n ?? 0;
    moveIntervals += w.mouse.interval?.n ?? 0;
  }
  return {
    windows: windows.length,
    hookStart: windows.length === 0 ? 0 : Math.min(...windows.map((w) => w.hookStart)),
    hookEnd: windows.length === 0 ? 0 : Math.max(...windows.map((w) => w.hookEnd)),
    keystrokes,
    flights,
    coincidentEvents: sum(windows, (w) => w.keys.coincidentEvents),
    shortGaps: sum(windows, (w) => w.keys.shortGaps),
    fineGaps: sum(windows, (w) => w.keys.fineGaps),
    oneMsGaps: sum(windows, (w) => w.keys.oneMsGaps),
    dwellMedian: weighted(windows.map((w) => [w.keys.dwell?.median, w.keys.dwell?.n ?? 0])),
    dwellIqr: weighted(windows.map((w) => [w.keys.dwell?.iqr, w.keys.dwell?.n ?? 0])),
    dwellP5: weighted(windows.map((w) => [w.keys.dwell?.p5, w.keys.dwell?.n ?? 0])),
    moveIntervals,
    moveRateHz: weighted(windows.map((w) => [w.mouse.moveRateHz, w.mouse.interval?.n ?? 0])),
    stepMedian: weighted(windows.map((w) => [w.mouse.step?.median, w.mouse.step?.n ?? 0])),
    intervalMedian: weighted(windows.map((w) => [w.mouse.interval?.median, w.mouse.interval?.n ?? 0])),
    coincidentMoves: sum(windows, (w) => w.mouse.coincidentMoves),
    fastMoves: sum(windows, (w) => w.mouse.fastMoves),
    bunchedEvents: sum(windows, (w) => w.keys.bunchedEvents),
    bunchRuns: sum(windows, (w) => w.keys.bunchRuns),
    bunchChances: sum(windows, (w) => (w.keys.bunchedEvents === undefined ? 0 : w.keys.shortGaps)),
    compressedHolds: sum(windows, (w) => w.keys.compressedHolds),
    holdChances: sum(windows, (w) => (w.keys.compressedHolds === undefined ? 0 : w.keys.keystrokes)),
    stalledWindows: all.length - windows.length,
    updateIntervals: sumHistograms(windows, (w) => w.mouse.updateIntervals),
    wideStepIntervals: sumHistograms(windows, (w) => w.mouse.wideStepIntervals),
  };
}

export type FeatureId =
  | 'coincidence'
  | 'bunching'
  | 'bunchRuns'
  | 'compressedHolds'
  | 'dwellSpread'
  | 'shortHolds'
  | 'moveRate'
  | 'stepSize'
  | 'moveInterval'
  | 'pointerSpeed'
  | 'pointerCoincidence'
  | 'coalescedSteps';

/** One feature's definition. */
export interface FeatureSpec {
  readonly id: FeatureId;
  readonly modality: Modality;
  /** Plain-language name for explanations, e.g. "near-simultaneous keys". */
  readonly label: string;
  /** +1 when a relay raises the value, -1 when it lowers it. */
  readonly direction: 1 | -1;
  /**
   * 'log2': compared on a log2 scale (rates and sizes that vary by multiples between devices);
   * 'value': compared as is;
   * 'rate': a rate of rare events among `samples` chances, scored by its one-sided Poisson tail.
   */
  readonly scale: 'log2' | 'value' | 'rate';
  /** How to display the raw value. */
  readonly unit: '%' | 'ms' | 'Hz' | 'px' | 'px/s' | '';
  /**
   * Score points per unit of z (WEIGHTS): how much this feature's evidence counts in the sum. A
   * feature whose local values almost never stray (same-millisecond ties) earns more per unit
   * than one whose local values wander between sessions (hold-time spread).
   */
  readonly weight: number;
  /** Smallest baseline spread, in the feature's scored units: keeps a very steady device from alarming on noise. */
  readonly minSpread: number;
  /** Value and sample count from a pool (judged against `device`, cold when not given), or null when absent. */
  read(pool: PooledWindow, device?: DeviceContext): { readonly value: number; readonly samples: number } | null;
}

/** Fewest short gaps a pool needs before its coincidence rate is read at all. */
export const COINCIDENCE_MIN_GAPS = 10;
/** Floor of the coincidence baseline's spread: the rate a device is allowed above its center. */
export const COINCIDENCE_MIN_SPREAD = 0.02;
/** Floors of the bunching features' baseline spreads: the rate a device is allowed above its center. */
export const BUNCHING_MIN_SPREAD = 0.03;
export const RUNS_MIN_SPREAD = 0.01;
export const HOLDS_MIN_SPREAD = 0.01;

/**
 * Score points per unit of z for the tie and bunch features, chosen by tools/tune-weights.ts (tuning
 * users only, relays simulated by lab/relay-model.ts under exponential, normal, uniform and Pareto
 * jitter with tuned and default x11vnc pacing; allowed: local false alarms at most 0.5 % of cold
 * and 1 % of warm decisions; chosen: the highest mean true-positive rate). [1, 2, 2, 0] led with
 * 59.3 % at 0.06 % / 0.95 % local false alarms. Compressed holds never added a detection (a relay
 * bunches a press with its own release far less often than consecutive events, which the bunch
 * count already sees): the count stays in the window for IT, and a weight-0 feature's z is kept
 * in the evidence but adds nothing and explains nothing.
 */
export const FEATURE_WEIGHTS = { coincidence: 1, bunching: 2, bunchRuns: 2, compressedHolds: 0 } as const;

/**
 * Weight of the pointer features that can only be compared with a population (update rate, step
 * size, update interval, implied speed): none. No shippable recording of real pointing at the
 * device's own report rate was found to derive that population from (docs/detection/pointer.md),
 * and a generated one put a typical step at 2.1 px where real-rate mice step about 4.5 px, so relays
 * were flagged for the wrong reason and a learned mouse would have hidden them. They stay in the
 * evidence IT sees; the pointer score rests on the device's own report period (coalescedSteps) and
 * same-millisecond updates.
 */
export const POPULATION_POINTER_WEIGHT = 0;

/**
 * Score points per unit of z of the coalesced-step share: fixed on the lab's tuning seeds (even
 * seeds of each pointer condition) before the held-out seeds were scored (bench:detect).
 */
export const COALESCED_WEIGHT = 1;

const present = (value: number | null, samples: number): { value: number; samples: number } | null =>
  value === null || samples === 0 ? null : { value, samples };

export const FEATURES: readonly FeatureSpec[] = [
  {
    id: 'coincidence',
    modality: 'keys',
    label: 'key events arriving in the same millisecond (share of gaps under 60 ms)',
    direction: 1,
    scale: 'rate',
    unit: '%',
    weight: FEATURE_WEIGHTS.coincidence,
    minSpread: COINCIDENCE_MIN_SPREAD,
    // Only where the keyboard's clock is shown to resolve 1 ms (some key events exactly 1 ms apart).
    // On a coarser clock local typing ties all the time: a USB keyboard polled at 125 Hz puts every
    // key change within one 8 ms report on one timestamp. Replayed through modelled report clocks
    // (lab/relay-model.ts reportClockSchedule), this guard lets 0, 0 and 1 of the 330 human
    // sessions alarm at 125, 250 and 500 Hz, where a guard on 2-9 ms gaps (which an 8 ms report's
    // 7-9 ms wobble passes) lets 143, 50 and 6, and one on 1-2 ms gaps 0, 0 and 6. A relay bunching
    // key events leaves 1 ms gaps (x11vnc injects a released bunch about 0.4 ms apart), so relayed
    // typing does not hide behind it.
    read: (pool) =>
      pool.shortGaps < COINCIDENCE_MIN_GAPS || pool.oneMsGaps === 0 ? null : { value: pool.coincidentEvents / pool.shortGaps, samples: pool.shortGaps },
  },
  {
    id: 'bunching',
    modality: 'keys',
    label: 'key events arriving in bunches, at most 2 ms apart (share of gaps under 60 ms)',
    direction: 1,
    scale: 'rate',
    unit: '%',
    weight: FEATURE_WEIGHTS.bunching,
    minSpread: BUNCHING_MIN_SPREAD,
    // Ties widened to the few milliseconds a relay's server takes to inject a released bunch, so
    // default x11vnc (which paces a bunch over 1-2 ms) is seen like a tuned one. Same keyboard-clock
    // guard as ties: a coarse keyboard clock never leaves a 1 ms gap.
    read: (pool) =>
      pool.bunchChances < COINCIDENCE_MIN_GAPS || pool.oneMsGaps === 0 ? null : { value: pool.bunchedEvents / pool.bunchChances, samples: pool.bunchChances },
  },
  {
    id: 'bunchRuns',
    modality: 'keys',
    label: 'runs of three or more key events within 2 ms of each other (share of gaps under 60 ms)',
    direction: 1,
    scale: 'rate',
    unit: '%',
    weight: FEATURE_WEIGHTS.bunchRuns,
    minSpread: RUNS_MIN_SPREAD,
    // A person rarely lands three key changes within a few ms; a late event holding back two or more
    // behind it does that on every long jitter sample.
    read: (pool) =>
      pool.bunchChances < COINCIDENCE_MIN_GAPS || pool.oneMsGaps === 0 ? null : { value: pool.bunchRuns / pool.bunchChances, samples: pool.bunchChances },
  },
  {
    id: 'compressedHolds',
    modality: 'keys',
    label: 'key holds shorter than 15 ms (share of keystrokes)',
    direction: 1,
    scale: 'rate',
    unit: '%',
    weight: FEATURE_WEIGHTS.compressedHolds,
    minSpread: HOLDS_MIN_SPREAD,
    // A press held back by the link and its release arriving on time land milliseconds apart: a hold
    // no finger makes. Needs no ties, so it also works where the server spaces a bunch out.
    read: (pool) => (pool.holdChances < MIN_SAMPLES.keys ? null : { value: pool.compressedHolds / pool.holdChances, samples: pool.holdChances }),
  },
  {
    id: 'dwellSpread',
    modality: 'keys',
    label: 'spread of key hold times (interquartile range)',
    direction: 1,
    scale: 'log2',
    unit: 'ms',
    weight: 1,
    minSpread: 0.08,
    read: (pool) => present(pool.dwellIqr === null ? null : Math.max(pool.dwellIqr, 1), pool.keystrokes),
  },
  {
    id: 'shortHolds',
    modality: 'keys',
    label: 'shortest key holds (5th percentile) as a share of the median hold',
    direction: -1,
    scale: 'log2',
    unit: '%',
    // Weight 0.5 and spread floor 0.3 (log2 units): chosen on the tuning users among weights 0.5-2 and
    // floors 0.1-0.3 as the pair that added most relayed windows while no tuning session alarmed
    // (a personal baseline's spread gets narrow, and lower floors let its tail alarm).
    weight: 0.5,
    minSpread: 0.3,
    // Each press and release is delayed independently, so some holds shrink by tens of ms (a bunched
    // pair to 0 ms) while the median barely moves: a person's shortest holds sit at a steady
    // fraction of their usual hold. Relative to the median, so fast and slow typists compare.
    read: (pool) =>
      present(pool.dwellP5 === null || pool.dwellMedian === null || pool.dwellMedian <= 0 ? null : Math.max(pool.dwellP5, 1) / pool.dwellMedian, pool.keystrokes),
  },
  {
    id: 'moveRate',
    modality: 'mouse',
    label: 'pointer updates per second',
    direction: -1,
    scale: 'log2',
    unit: 'Hz',
    weight: POPULATION_POINTER_WEIGHT,
    minSpread: 0.15,
    read: (pool) => present(pool.moveRateHz === null ? null : Math.max(pool.moveRateHz, 1), pool.moveIntervals),
  },
  {
    id: 'stepSize',
    modality: 'mouse',
    label: 'pointer step size (median)',
    direction: 1,
    scale: 'log2',
    unit: 'px',
    weight: POPULATION_POINTER_WEIGHT,
    minSpread: 0.15,
    read: (pool) => present(pool.stepMedian === null ? null : Math.max(pool.stepMedian, 0.5), pool.moveIntervals),
  },
  {
    id: 'moveInterval',
    modality: 'mouse',
    label: 'time between pointer updates (median)',
    direction: 1,
    scale: 'log2',
    unit: 'ms',
    weight: POPULATION_POINTER_WEIGHT,
    minSpread: 0.15,
    // A 1 ms floor: a 1000 Hz device's median is 1 ms, and log2 of 0 would be meaningless.
    read: (pool) => present(pool.intervalMedian === null ? null : Math.max(pool.intervalMedian, 1), pool.moveIntervals),
  },
  {
    id: 'pointerSpeed',
    modality: 'mouse',
    label: 'pointer distance per second of movement (median step x update rate)',
    direction: 1,
    scale: 'log2',
    unit: 'px/s',
    // Wide floor: the lab's generated pointing has a narrow speed range, real people vary by
    // multiples between tasks, so only a speed several times the usual counts for much.
    weight: POPULATION_POINTER_WEIGHT,
    minSpread: 0.7,
    // A jittered relay releases coalesced updates in bunches: large steps arriving milliseconds apart,
    // an implied speed no hand produces. Device-independent: a 1000 Hz mouse takes small steps often.
    read: (pool) =>
      present(pool.stepMedian === null || pool.moveRateHz === null ? null : Math.max(pool.stepMedian * pool.moveRateHz, 1), pool.moveIntervals),
  },
  {
    id: 'pointerCoincidence',
    modality: 'mouse',
    label: 'pointer updates arriving in the same millisecond (share of updates)',
    direction: 1,
    scale: 'rate',
    unit: '%',
    weight: 1,
    minSpread: COINCIDENCE_MIN_SPREAD,
    // The pointer's own ties: a jittery link releases updates held behind a late one together, and
    // a 125-500 Hz device never reports twice in one millisecond. Whatever the client does to motion
    // (TigerVNC coalesces it, xfreerdp forwards every update), bunching survives. Unread when 1-2 ms
    // gaps are at least as common as ties: a device reporting at 1000 Hz or faster, whose clock puts
    // some reports in one millisecond by itself (a relay of such a device turns its 1 ms gaps into ties).
    read: (pool) =>
      pool.moveIntervals < MIN_SAMPLES.mouse || pool.fastMoves >= pool.coincidentMoves
        ? null
        : { value: pool.coincidentMoves / pool.moveIntervals, samples: pool.moveIntervals },
  },
  {
    id: 'coalescedSteps',
    modality: 'mouse',
    label: "pointer steps of 3 px or more arriving two report periods or more after the update before (share of such steps)",
    direction: 1,
    scale: 'rate',
    unit: '%',
    weight: COALESCED_WEIGHT,
    minSpread: COALESCED_MIN_SPREAD,
    // Speed, step and the device's report period must agree: a device moving several pixels per
    // report reports every period, so its wide steps come one period apart. A viewer that coalesces
    // motion (TigerVNC sends at most every 17 ms) turns a 125-1000 Hz device's motion into wide steps
    // 17-25 ms apart: fewer, larger steps than the device's rate gives at that speed. Judged against
    // the device's own learned period, so learning a real mouse sharpens the test instead of
    // absorbing the relay.
    read: (pool, device = COLD_DEVICE) => {
      if (pool.wideStepIntervals === null) return null;
      const { steps, coalesced } = coalescedCounts(pool.wideStepIntervals, coalesceLimitMs(judgedPeriodMs(pool.updateIntervals, device)));
      return steps < COALESCED_MIN_STEPS ? null : { value: coalesced / steps, samples: steps };
    },
  },
];

/** A feature value in the units the baseline and scorer use (log2 applied where the spec says). */
export function scoredValue(spec: FeatureSpec, raw: number): number {
  return spec.scale === 'log2' ? Math.log2(raw) : raw;
}

/** Back from scored units to the raw unit, for explanations. */
export function rawValue(spec: FeatureSpec, scored: number): number {
  return spec.scale === 'log2' ? 2 ** scored : scored;
}
