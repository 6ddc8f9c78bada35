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
import { FEATURES, type FeatureId } from './features';

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

export interface DeviceBaseline {
  readonly version: 1;
  /** Local windows absorbed per modality (for display: how personal the baseline is yet). */
  readonly windows: { readonly keys: number; readonly mouse: number };
  readonly features: { readonly [id in FeatureId]: FeatureBaseline };
}

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
  return {
    version: 1,
    windows: { keys: baseline.windows.keys + (keys ? 1 : 0), mouse: baseline.windows.mouse + (mouse ? 1 : 0) },
    features,
  };
}
