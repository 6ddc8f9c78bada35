/**
 * The per-device baseline: for each feature, a robust running center and spread that starts at the
 * population prior and shrinks toward the device's own statistics as local windows accumulate.
 *
 * Update rule, per feature, on a window that scored as local (relayed windows never update it, so
 * an operator cannot teach the detector their relay):
 *   weight  += 1                                  (prior counts as PRIOR_WEIGHT windows)
 *   rate     = max(1 / weight, MIN_RATE)          (mean of everything so far, then a long EWMA)
 *   r        = clamp(x - center, ±CLIP * spread)  (Huber: one odd window moves it by a bounded step)
 *   center  += rate * r
 *   spread  += rate * (1.2533 * |r| - spread)     (mean absolute deviation, scaled to a normal sigma)
 * With rate = 1/weight the center is exactly (PRIOR_WEIGHT * prior + sum of clipped values) /
 * (PRIOR_WEIGHT + n): the textbook shrinkage of a new device toward the population.
 */
import { POINTER_INTERVAL_BUCKETS } from '../../common/timing';
import { COLD_DEVICE, FEATURES, reportPeriodsMs, type DeviceContext, type FeatureId, type PooledWindow } from './features';

/** Center and spread of one feature, in scored units (log2 where the feature says so). */
export interface FeatureStats {
  readonly center: number;
  readonly spread: number;
}

export interface FeatureBaseline extends FeatureStats {
  /** Prior weight plus local windows absorbed. */
  readonly weight: number;
}

/** The population prior: what a device is assumed to look like before it has any history. */
export type PopulationPrior = { readonly [id in FeatureId]: FeatureStats };

/**
 * The device's own pointer timing, learned from local motion: how long after the previous update
 * its updates come (all updates, and wide steps of WIDE_STEP_PX or more), as decayed counts per
 * interval bucket (common/timing.ts pointerIntervalBucket). Counts only, no position.
 */
export interface PointerProfile {
  readonly updateIntervals: readonly number[];
  readonly wideStepIntervals: readonly number[];
  /** Update intervals absorbed (decayed like the counts): how much the period estimate rests on. */
  readonly updates: number;
}

export interface DeviceBaseline {
  readonly version: 1;
  /** Local windows absorbed per modality (for display: how personal the baseline is yet). */
  readonly windows: { readonly keys: number; readonly mouse: number };
  readonly features: { readonly [id in FeatureId]: FeatureBaseline };
  /** Absent until the first local pointer window (and in baselines stored before it existed). */
  readonly pointer?: PointerProfile;
}

/**
 * Update intervals of local motion after which the device's report period counts as learned: at
 * 125 Hz about three seconds of movement, so the first minute of local pointing teaches it.
 */
export const PROFILE_MIN_UPDATES = 300;
/**
 * The profile's memory, in update intervals: beyond it older counts are scaled down, so a device
 * that changes (another mouse) is learned again within minutes of motion.
 */
export const PROFILE_MAX_UPDATES = 20_000;

/** How many windows the prior is worth. */
export const PRIOR_WEIGHT = 8;
/** Slowest learning rate: after ~200 windows the baseline is an EWMA with that memory. */
export const MIN_RATE = 1 / 200;
/** Huber clip, in spreads. */
export const CLIP = 2.5;

/** A fresh device: the prior, at prior weight. */
export function initialBaseline(prior: PopulationPrior): DeviceBaseline {
  const features = {} as Record<FeatureId, FeatureBaseline>;
  for (const spec of FEATURES) {
    const stats = prior[spec.id];
    features[spec.id] = { center: stats.center, spread: stats.spread, weight: PRIOR_WEIGHT };
  }
  return { version: 1, windows: { keys: 0, mouse: 0 }, features };
}

/** Absorb a local pool's pointer-interval counts into the profile (decayed beyond PROFILE_MAX_UPDATES). Pure. */
export function updatePointerProfile(profile: PointerProfile | undefined, pool: Pick<PooledWindow, 'updateIntervals' | 'wideStepIntervals'>): PointerProfile | undefined {
  if (pool.updateIntervals === null) return profile;
  let added = 0;
  for (const n of pool.updateIntervals) added += n;
  if (added === 0) return profile;
  const before = profile?.updates ?? 0;
  const keep = before + added > PROFILE_MAX_UPDATES ? Math.max(0, PROFILE_MAX_UPDATES - added) / before : 1;
  const merge = (old: readonly number[] | undefined, now: readonly number[] | null): number[] =>
    Array.from({ length: POINTER_INTERVAL_BUCKETS }, (_, i) => round3((old?.[i] ?? 0) * keep + (now?.[i] ?? 0)));
  return {
    updateIntervals: merge(profile?.updateIntervals, pool.updateIntervals),
    wideStepIntervals: merge(profile?.wideStepIntervals, pool.wideStepIntervals),
    updates: round3(before * keep + added),
  };
}

/**
 * The device's pointer report periods, ms, from its profile (features.ts reportPeriodsMs: every
 * device it has shown, so a mouse and a touchpad are both known). Empty until PROFILE_MIN_UPDATES
 * are learned.
 */
export function learnedPointerPeriodsMs(profile: PointerProfile | undefined): number[] {
  if (profile === undefined || profile.updates < PROFILE_MIN_UPDATES) return [];
  return reportPeriodsMs(profile.updateIntervals);
}

/** What the scorer knows of the device: its learned pointer periods (none while cold). */
export function deviceContext(baseline: DeviceBaseline): DeviceContext {
  const periods = learnedPointerPeriodsMs(baseline.pointer);
  return periods.length === 0 ? COLD_DEVICE : { pointerPeriodsMs: periods };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** One feature's robust update with a value in scored units. Pure. */
export function updateFeature(current: FeatureBaseline, value: number, minSpread: number): FeatureBaseline {
  const weight = current.weight + 1;
  const rate = Math.max(1 / weight, MIN_RATE);
  const spread = Math.max(current.spread, minSpread);
  const residual = Math.min(CLIP * spread, Math.max(-CLIP * spread, value - current.center));
  return {
    weight,
    center: current.center + rate * residual,
    spread: Math.max(minSpread, current.spread + rate * (1.2533 * Math.abs(residual) - current.spread)),
  };
}

/** Absorb one local window's scored values (features absent from the window are left alone). */
export function updateBaseline(
  baseline: DeviceBaseline,
  values: Partial<Record<FeatureId, number>>,
  pointer?: Pick<PooledWindow, 'updateIntervals' | 'wideStepIntervals'>,
): DeviceBaseline {
  const features = { ...baseline.features };
  let keys = false;
  let mouse = false;
  for (const spec of FEATURES) {
    const value = values[spec.id];
    if (value === undefined || !Number.isFinite(value)) continue;
    features[spec.id] = updateFeature(features[spec.id], value, spec.minSpread);
    if (spec.modality === 'keys') keys = true;
    else mouse = true;
  }
  const profile = pointer === undefined || !mouse ? baseline.pointer : updatePointerProfile(baseline.pointer, pointer);
  return {
    version: 1,
    windows: { keys: baseline.windows.keys + (keys ? 1 : 0), mouse: baseline.windows.mouse + (mouse ? 1 : 0) },
    features,
    ...(profile !== undefined ? { pointer: profile } : {}),
  };
}
