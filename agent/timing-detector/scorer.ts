/**
 * The scorer: how far a pooled span of input sits from the device's baseline, in the direction a
 * relay pushes each feature, and a plain-language account of what moved.
 *
 * Per feature: z = direction * (value - center) / spread, where a 'share' feature's spread also
 * includes the binomial noise of a share measured on n events (a short burst of typing cannot look
 * extreme by chance alone). Only the relay direction counts (z clipped to 0..Z_CAP), and a modality's
 * score is the sum over its features: several features moving together is stronger evidence than
 * one moving far. Thresholds are fixed constants, chosen once on the tuning users (even ids) of the
 * human data and the lab's tuning runs, never on the held-out users the bench reports.
 */
import { FEATURES, MIN_SAMPLES, rawValue, scoredValue, type FeatureId, type Modality, type PooledWindow } from './features';
import type { DeviceBaseline } from './baseline-model';

/** Cap on one feature's contribution, so a single extreme feature cannot dominate forever. */
export const Z_CAP = 8;

/** Alarm thresholds on a modality's score (sum of clipped z). */
export const ALARM_THRESHOLD: Readonly<Record<Modality, number>> = { keys: 6, mouse: 6 };

/** A window updates the baseline only when it scores well clear of the alarm (below this share of it). */
export const LOCAL_FRACTION = 0.5;

export interface Contribution {
  readonly feature: FeatureId;
  readonly label: string;
  readonly unit: string;
  /** The window's value, raw units (share 0..1, ms, Hz, px). */
  readonly value: number;
  /** The baseline's center, raw units. */
  readonly usual: number;
  /** Signed z in the relay direction (before clipping). */
  readonly z: number;
}

export interface ModalityScore {
  readonly modality: Modality;
  /** Sum of clipped z over the modality's features. */
  readonly score: number;
  readonly threshold: number;
  readonly alarm: boolean;
  /** Whether the window is clean enough to teach the baseline. */
  readonly local: boolean;
  /** Sample count the modality was scored on (keystrokes or pointer intervals). */
  readonly samples: number;
  readonly contributions: readonly Contribution[];
  /** Scored values per feature, for the baseline update. */
  readonly values: Partial<Record<FeatureId, number>>;
}

/** Score every modality that has enough samples in the pool. */
export function scorePool(pool: PooledWindow, baseline: DeviceBaseline, thresholds = ALARM_THRESHOLD): ModalityScore[] {
  const scores: ModalityScore[] = [];
  for (const modality of ['keys', 'mouse'] as const) {
    const samples = modality === 'keys' ? pool.keystrokes : pool.moveIntervals;
    if (samples < MIN_SAMPLES[modality]) continue;
    let score = 0;
    const contributions: Contribution[] = [];
    const values: Partial<Record<FeatureId, number>> = {};
    for (const spec of FEATURES) {
      if (spec.modality !== modality) continue;
      const read = spec.read(pool);
      if (read === null) continue;
      const value = scoredValue(spec, read.value);
      values[spec.id] = value;
      const stats = baseline.features[spec.id];
      let spread = Math.max(stats.spread, spec.minSpread);
      if (spec.scale === 'share') {
        const p = Math.min(0.5, Math.max(stats.center, 0.002));
        spread = Math.sqrt(spread * spread + (p * (1 - p)) / read.samples);
      }
      const z = (spec.direction * (value - stats.center)) / spread;
      score += Math.min(Z_CAP, Math.max(0, z));
      contributions.push({ feature: spec.id, label: spec.label, unit: spec.unit, value: read.value, usual: rawValue(spec, stats.center), z });
    }
    const threshold = thresholds[modality];
    scores.push({
      modality,
      score,
      threshold,
      alarm: score >= threshold,
      local: score < threshold * LOCAL_FRACTION,
      samples,
      contributions,
      values,
    });
  }
  return scores;
}

/** Format a raw feature value for people: shares as percent, others rounded with their unit. */
export function formatValue(value: number, unit: string): string {
  if (unit === '%') return `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;
  if (unit === '') return value.toFixed(2);
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/**
 * The explanation sentence: the features that moved (z >= 2), strongest first, e.g.
 * "near-simultaneous keys (under 15 ms apart) 18% vs your usual 1.0%".
 */
export function explainScore(score: ModalityScore, personal: boolean): string {
  const usual = personal ? 'your usual' : 'a typical';
  const moved = [...score.contributions].filter((c) => c.z >= 2).sort((a, b) => b.z - a.z);
  const list = (moved.length > 0 ? moved : [...score.contributions].sort((a, b) => b.z - a.z).slice(0, 1)).map(
    (c) => `${c.label} ${formatValue(c.value, c.unit)} vs ${usual} ${formatValue(c.usual, c.unit)}`,
  );
  return list.join('; ');
}
