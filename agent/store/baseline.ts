/**
 * The device's timing baseline, stored as one JSON value in the kv table (`timing-baseline`).
 *
 * It holds feature centers and spreads only (timing statistics, never key identity). A stored value
 * of an unknown version, or with a feature holding a non-finite number, is discarded and the
 * detector starts again from the population prior: a broken baseline must not silently mis-score.
 * A feature the stored value lacks (it was saved by an older agent, before the feature existed)
 * starts from the prior while the learned features are kept, so an upgrade does not throw away
 * what the device has learned of its user.
 */
import type { DeviceBaseline } from '../timing-detector/baseline-model';
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
  return { ...stored, features };
}

export function saveBaseline(db: Db, baseline: DeviceBaseline): void {
  setValue(db, BASELINE_KEY, baseline);
}
