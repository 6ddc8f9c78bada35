/**
 * The device's timing baseline, stored as one JSON value in the kv table (`timing-baseline`).
 *
 * It holds feature centers and spreads only (timing statistics, never key identity). A stored value
 * of an unknown version, or with a feature holding a non-finite number, is discarded and the
 * detector starts again from the population prior: a broken baseline must not silently mis-score.
 * A feature the stored value lacks (it was saved by an older agent, before the feature existed)
 * starts from the prior while the learned features are kept, so an upgrade does not throw away
 * what the device has learned of its user. The pointer profile (the device's own report period,
 * baseline-model.ts) is optional: absent or damaged, only the pointer starts cold again.
 */
import { POINTER_INTERVAL_BUCKETS } from '../../common/timing';
import type { DeviceBaseline, PointerProfile } from '../timing-detector/baseline-model';
import { FEATURES } from '../timing-detector/features';
import type { Db } from './database';
import { getValue, setValue } from './kv';

export const BASELINE_KEY = 'timing-baseline';

/**
 * The stored baseline, or undefined when absent or unusable. `fallback` (normally the prior's
 * initial baseline) supplies features the stored value predates; without it such a value is unusable.
 */
export function loadBaseline(db: Db, fallback?: DeviceBaseline): DeviceBaseline | undefined {
  const stored = getValue<DeviceBaseline>(db, BASELINE_KEY);
  if (stored === undefined || stored.version !== 1 || typeof stored.features !== 'object' || stored.features === null) return undefined;
  const features = { ...stored.features };
  for (const spec of FEATURES) {
    const feature = stored.features[spec.id];
    if (feature === undefined) {
      if (fallback === undefined) return undefined;
      features[spec.id] = fallback.features[spec.id];
    } else if (!Number.isFinite(feature.center) || !Number.isFinite(feature.spread)) {
      return undefined;
    }
  }
  // A damaged pointer profile costs only the learned report period: the pointer starts cold again.
  const { pointer, ...rest } = stored;
  return { ...rest, features, ...(pointer !== undefined && isPointerProfile(pointer) ? { pointer } : {}) };
}

/** Whether a stored pointer profile has the shape and finite, non-negative counts the detector reads. */
function isPointerProfile(value: unknown): value is PointerProfile {
  if (typeof value !== 'object' || value === null) return false;
  const profile = value as Record<string, unknown>;
  const counts = (list: unknown): boolean =>
    Array.isArray(list) && list.length === POINTER_INTERVAL_BUCKETS && list.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0);
  return counts(profile.updateIntervals) && counts(profile.wideStepIntervals) && typeof profile.updates === 'number' && Number.isFinite(profile.updates) && profile.updates >= 0;
}

export function saveBaseline(db: Db, baseline: DeviceBaseline): void {
  setValue(db, BASELINE_KEY, baseline);
}
