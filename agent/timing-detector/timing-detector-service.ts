/**
 * TimingDetectorService: scores each flushed timing window (pooled over the last 60 s of hook time)
 * for evidence that input is being relayed from another computer, and keeps the per-device baseline.
 *
 * Findings are reconciled under source `timing`, one key per modality
 * (`timing:relayed-input:keys`, `timing:relayed-input:mouse`). A finding opens when a modality's
 * score reaches its alarm threshold; it stays open while alarms continue and closes after
 * HOLD_MS of hook time without one (so a short local burst between relayed ones does not flap it).
 * Only windows that score clearly local update the baseline.
 */
import type { FindingObservation } from '../../common/findings';
import type { AgentContext, AgentService } from '../context';
import { loadBaseline, saveBaseline } from '../store/baseline';
import { reconcileFindings } from '../store/findings';
import { storageHealth } from '../store/storage-health';
import { initialBaseline, updateBaseline, type DeviceBaseline, type PopulationPrior } from './baseline-model';
import type { Modality, PooledWindow } from './features';
import { POPULATION_PRIOR } from './prior';
import { ROLLING_MS, RollingWindows } from './rolling';
import { ALARM_THRESHOLD, explainScore, scorePool, type ModalityScore } from './scorer';

/** The findings source (key prefix). */
export const TIMING_SOURCE = 'timing';
/** An open finding closes after this much hook time without another alarm. */
export const HOLD_MS = 5 * 60_000;
/** Baseline windows per modality before explanations say "your usual" rather than "a typical". */
export const PERSONAL_AFTER = 10;

export interface TimingDetectorOptions {
  readonly prior?: PopulationPrior;
  readonly thresholds?: Readonly<Record<Modality, number>>;
}

interface OpenAlarm {
  readonly lastAlarmHook: number;
  readonly observation: FindingObservation;
}

export class TimingDetectorService implements AgentService {
  readonly name = 'timing-detector';
  private readonly rolling = new RollingWindows();
  private readonly thresholds: Readonly<Record<Modality, number>>;
  private baseline: DeviceBaseline;
  private unsubscribers: (() => void)[] = [];
  private readonly alarms = new Map<Modality, OpenAlarm>();
  /** The latest scores, for the transparency view and tests. */
  lastScores: readonly ModalityScore[] = [];

  constructor(
    private readonly ctx: AgentContext,
    options: TimingDetectorOptions = {},
  ) {
    this.thresholds = options.thresholds ?? ALARM_THRESHOLD;
    const initial = initialBaseline(options.prior ?? POPULATION_PRIOR);
    this.baseline = loadBaseline(ctx.db, initial) ?? initial;
  }

  start(): void {
    this.unsubscribers = [
      this.ctx.events.on('windowFlushed', ({ window }) => this.onWindow(window)),
      this.ctx.events.on('windowProgress', ({ window }) => this.onProgress(window)),
    ];
  }

  stop(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    storageHealth(this.ctx).write('saving the timing baseline', () => saveBaseline(this.ctx.db, this.baseline));
  }

  /** The current baseline (a copy-safe immutable value). */
  get currentBaseline(): DeviceBaseline {
    return this.baseline;
  }

  private onWindow(window: Parameters<RollingWindows['add']>[0]): void {
    this.decide(this.rolling.add(window), true);
  }

  /**
   * A window still open: score the span with it so a relay is found seconds into sustained input
   * rather than when the window is due. Only alarms come of it: the baseline learns from stored
   * windows alone, once each.
   */
  private onProgress(window: Parameters<RollingWindows['add']>[0]): void {
    this.decide(this.rolling.peekWith(window), false);
  }

  private decide(pool: PooledWindow, mayLearn: boolean): void {
    const scores = scorePool(pool, this.baseline, this.thresholds);
    this.lastScores = scores;
    let learned = false;
    // The span the decision covers: the pool can hold a window that began before the rolling span.
    const spanMs = Math.min(ROLLING_MS, pool.hookEnd - pool.hookStart);
    for (const score of scores) {
      if (score.alarm) {
        this.alarms.set(score.modality, { lastAlarmHook: pool.hookEnd, observation: this.observe(score, spanMs) });
      } else if (score.local && mayLearn) {
        // A local pointer span also teaches the device's own report period (baseline-model.ts PointerProfile).
        this.baseline = updateBaseline(this.baseline, score.values, score.modality === 'mouse' ? pool : undefined);
        learned = true;
      }
    }
    for (const [modality, alarm] of this.alarms) {
      if (pool.hookEnd - alarm.lastAlarmHook > HOLD_MS || pool.hookEnd < alarm.lastAlarmHook) this.alarms.delete(modality);
    }
    // A refused write leaves the baseline and open alarms in memory: the next window writes them.
    const health = storageHealth(this.ctx);
    if (learned) health.write('saving the timing baseline', () => saveBaseline(this.ctx.db, this.baseline));
    health.write('storing timing findings', () =>
      reconcileFindings(
        this.ctx.db,
        TIMING_SOURCE,
        [...this.alarms.values()].map((alarm) => alarm.observation),
        this.ctx.clock.now(),
        this.ctx.events,
      ),
    );
    for (const score of scores) {
      this.ctx.logger.log('debug', 'timing window scored', {
        modality: score.modality,
        score: Math.round(score.score * 100) / 100,
        alarm: score.alarm,
        samples: score.samples,
      });
    }
  }

  private observe(score: ModalityScore, spanMs: number): FindingObservation {
    const personal = this.baseline.windows[score.modality] >= PERSONAL_AFTER;
    const what = score.modality === 'keys' ? 'Typing' : 'Pointer movement';
    return {
      key: `${TIMING_SOURCE}:relayed-input:${score.modality}`,
      kind: 'relayed-input-timing',
      severity: score.score >= 2 * score.threshold ? 'high' : 'medium',
      title: `${what} looks relayed from another computer`,
      explanation: `${what} timing over the last ${Math.max(1, Math.floor(spanMs / 1000))} s arrives the way input relayed over a network does: ${explainScore(score, personal)}.`,
      evidence: {
        modality: score.modality,
        score: round2(score.score),
        threshold: score.threshold,
        samples: score.samples,
        baselineWindows: this.baseline.windows[score.modality],
        features: score.contributions.map((c) => ({ feature: c.feature, value: round3(c.value), usual: round3(c.usual), z: round2(c.z) })),
      },
    };
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
