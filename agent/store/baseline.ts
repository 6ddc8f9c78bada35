/**
 * The device's timing baseline, stored as one JSON value in the kv table (`timing-baseline`).
 *
 * It holds feature centers and spreads only (timing statistics, never key identity). A stored value
 * of an unknown version or with missing features is discarded and the detector starts again from
 * the population prior: a stale baseline must not silently mis-score.
 */
import type { DeviceBaseline } from '../timing-detector/baseline-model';
import { FEATURES } from '../timing-detector/features';
import type { Db } from './database';
import { getValue, setValue } from './kv';

export const BASELINE_KEY = 'timing-baseline';

/** The stored baseline, or undefined when absent or unusable. */
export function loadBaseline(db: Db): DeviceBaseline | undefined {
  const stored = getValue<DeviceBaseline>(db, BASELINE_KEY);
  if (stored === undefined || stored.version !== 1) return undefined;
  for (const spec of FEATURES) {
    const feature = stored.features?.[spec.id];
    if (feature === undefined || !Number.isFinite(feature.center) || !Number.isFinite(feature.spread)) return undefined;
  }
  return stored;
}

export function saveBaseline(db: Db, baseline: DeviceBaseline): void {
  setValue(db, BASELINE_KEY, baseline);
}
