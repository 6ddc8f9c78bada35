/**
 * Small-sample statistics for timing windows.
 *
 * Quantiles use linear interpolation between order statistics, Hyndman & Fan type 7 (the default
 * of R's quantile() and NumPy's percentile()): for sorted x[0..n-1] and probability p, h = (n-1)p,
 * q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
 */
import type { Distribution } from '../../common/timing';

/** A sample: a plain array or a typed array (the aggregator's windows use typed buffers). */
export type Samples = ArrayLike<number>;

/** Type-7 quantile of an ascending-sorted, non-empty array. */
export function quantileSorted(sorted: Samples, p: number): number {
  if (sorted.length === 0) throw new Error('quantileSorted of an empty sample');
  if (p < 0 || p > 1) throw new Error(`quantile probability out of range: ${p}`);
  const h = (sorted.length - 1) * p;
  const lower = Math.floor(h);
  const below = sorted[lower]!;
  const above = sorted[Math.min(lower + 1, sorted.length - 1)]!;
  return below + (h - lower) * (above - below);
}

/** Median, IQR, p5 and p95 of a sample; null when it is empty. Does not modify `values`. */
export function distributionOf(values: Samples): Distribution | null {
  if (values.length === 0) return null;
  // A typed copy sorts numerically (a plain array's default sort compares strings).
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    median: round3(quantileSorted(sorted, 0.5)),
    iqr: round3(quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)),
    p5: round3(quantileSorted(sorted, 0.05)),
    p95: round3(quantileSorted(sorted, 0.95)),
  };
}

/** Population coefficient of variation (standard deviation / mean); null under two samples or a zero mean. */
export function coefficientOfVariation(values: Samples): number | null {
  if (values.length < 2) return null;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  if (mean === 0) return null;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  return round3(Math.sqrt(squares / values.length) / mean);
}

/** Share of values strictly below `limit` (0..1); 0 for an empty sample. */
export function shareBelow(values: Samples, limit: number): number {
  if (values.length === 0) return 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! < limit) count++;
  return round3(count / values.length);
}

/** How many of `values` lie in [low, high] (inclusive). */
export function countBetween(values: Samples, low: number, high: number): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! >= low && values[i]! <= high) count++;
  return count;
}

/**
 * Gap counts over event times (see KeyFeatures): coincident (0 ms), short (< shortMs), fine (2-9 ms),
 * one ms (exactly 1 ms), bunched (at most the bunch limit) and bunch runs (three or more events each
 * within the bunch limit of the one before).
 */
export interface GapCounts {
  readonly coincident: number;
  readonly short: number;
  readonly fine: number;
  readonly oneMs: number;
  readonly bunched: number;
  readonly bunchRuns: number;
}

/**
 * Count the gaps between consecutive values of `times` once sorted (integer ms expected). Does not
 * modify `times`. `bunchMs` is the largest gap that counts as bunched.
 */
export function gapCounts(times: Samples, shortMs: number, bunchMs: number): GapCounts {
  const sorted = Float64Array.from(times).sort();
  let coincident = 0;
  let short = 0;
  let fine = 0;
  let oneMs = 0;
  let bunched = 0;
  let bunchRuns = 0;
  let run = 1;
  for (let i = 1; i < sorted.length; i++) {
    const gap = sorted[i]! - sorted[i - 1]!;
    if (gap > bunchMs) run = 1;
    if (gap === 0) coincident++;
    if (gap < shortMs) short++;
    if (gap >= 2 && gap <= 9) fine++;
    if (gap === 1) oneMs++;
    if (gap <= bunchMs) {
      bunched++;
      run++;
      // A run counts once, when it reaches three events.
      if (run === 3) bunchRuns++;
    }
  }
  return { coincident, short, fine, oneMs, bunched, bunchRuns };
}

/** Round to 3 decimals: stored features need no more, and it keeps JSON short. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
