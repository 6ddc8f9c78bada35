/**
 * Content-free pointing features for the latency-in-the-loop study: from what the agent's capture
 * gives (event times, pointer step lengths, clicks; never a position) to per-movement measures and
 * per-window medians, and the held-out scoring of one feature. Pure, so it is unit-tested.
 *
 * A movement is the stretch between one click and the next: the pointer travels to a new place and
 * clicks there. Submovements are runs of pointer reports separated by a pause.
 */
import type { InputEvent } from '../agent/input/input-source';

/** A pause longer than this between two pointer reports separates submovements, ms. */
export const SUBMOVEMENT_GAP_MS = 50;

/** Measures of one movement (click to click), all times in ms. */
export interface MovementFeatures {
  /** Previous click to the first pointer report: the reaction to what the click caused. */
  readonly onsetMs: number;
  /** First pointer report to the click. */
  readonly movementMs: number;
  /** Last pointer report to the click: how long the pointer rested before the click. */
  readonly dwellMs: number;
  /** Submovements minus one. */
  readonly corrections: number;
  /** Sum of the pauses between submovements. */
  readonly pauseMs: number;
  /** From 90 % of the path covered to the click. */
  readonly finalApproachMs: number;
  /** When the speed peaked, as a fraction of the movement time. */
  readonly peakSpeedAt: number;
  /** The first submovement's share of the path. */
  readonly primaryShare: number;
  /** Mean step length between pointer reports, px. */
  readonly meanStep: number;
}

export type FeatureName = keyof MovementFeatures | 'correctedShare';

/** Every per-window feature, in table order. */
export const FEATURE_NAMES: readonly FeatureName[] = [
  'onsetMs',
  'movementMs',
  'dwellMs',
  'corrections',
  'correctedShare',
  'pauseMs',
  'finalApproachMs',
  'peakSpeedAt',
  'primaryShare',
  'meanStep',
];

/** Per-window features: the median of each movement feature, and the share of movements that needed a correction. */
export type WindowFeatures = Readonly<Record<FeatureName, number>>;

/** Split a capture into movements and measure each; movements with fewer than two pointer reports are left out. */
export function movementFeatures(events: readonly InputEvent[]): MovementFeatures[] {
  const out: MovementFeatures[] = [];
  let previousClick: number | null = null;
  let moves: { time: number; distance: number }[] = [];
  for (const event of events) {
    if (event.kind === 'mouseMove') {
      moves.push({ time: event.time, distance: event.distance ?? 0 });
    } else if (event.kind === 'click') {
      if (previousClick !== null && moves.length >= 2) out.push(measure(previousClick, moves, event.time));
      previousClick = event.time;
      moves = [];
    }
  }
  return out;
}

function measure(previousClick: number, moves: readonly { time: number; distance: number }[], click: number): MovementFeatures {
  const first = moves[0]!.time;
  const last = moves[moves.length - 1]!.time;
  const movementMs = Math.max(1, click - first);
  const path = moves.reduce((sum, move, index) => sum + (index === 0 ? 0 : move.distance), 0);
  let segments = 1;
  let pauseMs = 0;
  let firstSegmentPath = 0;
  let inFirst = true;
  let covered = 0;
  let ninetyAt: number | null = null;
  let peakSpeed = -1;
  let peakAt = first;
  for (let index = 1; index < moves.length; index++) {
    const gap = moves[index]!.time - moves[index - 1]!.time;
    if (gap > SUBMOVEMENT_GAP_MS) {
      segments++;
      pauseMs += gap;
      inFirst = false;
    }
    const step = moves[index]!.distance;
    if (inFirst) firstSegmentPath += step;
    covered += step;
    if (ninetyAt === null && covered >= 0.9 * path) ninetyAt = moves[index]!.time;
    // Speed over the last three reports, so one bunched report does not make a peak.
    const back = moves[Math.max(0, index - 3)]!;
    const span = moves[index]!.time - back.time;
    if (span > 0 && span <= 3 * SUBMOVEMENT_GAP_MS) {
      let distance = 0;
      for (let k = Math.max(1, index - 2); k <= index; k++) distance += moves[k]!.distance;
      const speed = distance / span;
      if (speed > peakSpeed) {
        peakSpeed = speed;
        peakAt = moves[index]!.time;
      }
    }
  }
  return {
    onsetMs: first - previousClick,
    movementMs,
    dwellMs: click - last,
    corrections: segments - 1,
    pauseMs,
    finalApproachMs: click - (ninetyAt ?? last),
    peakSpeedAt: (peakAt - first) / movementMs,
    primaryShare: path > 0 ? firstSegmentPath / path : 1,
    meanStep: path / Math.max(1, moves.length - 1),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Non-overlapping windows of `size` movements (a trailing partial window is dropped), each summarised. */
export function windowFeatures(movements: readonly MovementFeatures[], size: number): WindowFeatures[] {
  const out: WindowFeatures[] = [];
  for (let start = 0; start + size <= movements.length; start += size) {
    const slice = movements.slice(start, start + size);
    const of = (name: keyof MovementFeatures): number => median(slice.map((m) => m[name]));
    out.push({
      onsetMs: of('onsetMs'),
      movementMs: of('movementMs'),
      dwellMs: of('dwellMs'),
      corrections: of('corrections'),
      correctedShare: slice.filter((m) => m.corrections > 0).length / slice.length,
      pauseMs: of('pauseMs'),
      finalApproachMs: of('finalApproachMs'),
      peakSpeedAt: of('peakSpeedAt'),
      primaryShare: of('primaryShare'),
      meanStep: of('meanStep'),
    });
  }
  return out;
}

/** ROC AUC of scores where positives should be higher (ties count half). */
export function rocAuc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}

/** The best true-positive rate with at most `fpr` of negatives above the threshold (ties count against). */
export function tprAtFpr(positives: readonly number[], negatives: readonly number[], fpr: number): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  const sorted = [...negatives].sort((a, b) => b - a);
  const threshold = sorted[Math.floor(fpr * sorted.length)] ?? -Infinity;
  return positives.filter((p) => p > threshold).length / positives.length;
}

/** A feature chosen on tuning data: which one, which way it points, and the alarm threshold. */
export interface ChosenFeature {
  readonly feature: FeatureName;
  /** +1 when delayed windows score higher, -1 when lower. */
  readonly direction: 1 | -1;
  /** Alarm when direction × value is above this: the highest tuning negative, so tuning FPR is 0. */
  readonly threshold: number;
  readonly tuningAuc: number;
}

/** Pick the feature that best separates delayed (positive) from undelayed (negative) tuning windows. */
export function chooseFeature(positives: readonly WindowFeatures[], negatives: readonly WindowFeatures[]): ChosenFeature {
  let best: ChosenFeature | null = null;
  for (const feature of FEATURE_NAMES) {
    const raw = rocAuc(positives.map((w) => w[feature]), negatives.map((w) => w[feature]));
    const direction: 1 | -1 = raw >= 0.5 ? 1 : -1;
    const tuningAuc = direction === 1 ? raw : 1 - raw;
    if (best === null || tuningAuc > best.tuningAuc) {
      best = { feature, direction, tuningAuc, threshold: Math.max(...negatives.map((w) => direction * w[feature])) };
    }
  }
  return best!;
}

/** How a chosen feature does on held-out windows. */
export interface HeldOutScore {
  readonly auc: number;
  /** Held-out TPR with the threshold re-read from the held-out negatives (the ROC's own points). */
  readonly tprAt1: number;
  readonly tprAt5: number;
  /** With the threshold fixed on tuning data: the rates a shipped detector would have. */
  readonly tprFixed: number;
  readonly fprFixed: number;
}

export function scoreHeldOut(chosen: ChosenFeature, positives: readonly WindowFeatures[], negatives: readonly WindowFeatures[]): HeldOutScore {
  const pos = positives.map((w) => chosen.direction * w[chosen.feature]);
  const neg = negatives.map((w) => chosen.direction * w[chosen.feature]);
  return {
    auc: rocAuc(pos, neg),
    tprAt1: tprAtFpr(pos, neg, 0.01),
    tprAt5: tprAtFpr(pos, neg, 0.05),
    tprFixed: pos.filter((v) => v > chosen.threshold).length / Math.max(1, pos.length),
    fprFixed: neg.filter((v) => v > chosen.threshold).length / Math.max(1, neg.length),
  };
}
