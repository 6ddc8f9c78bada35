/**
 * The pointer rows of `npm run bench:detect`: relayed and local pointing, each scored on a new
 * device (cold) and on devices whose baseline learned a real local mouse first (warm), so the table
 * shows whether learning the device's own mouse hides a coalescing relay.
 *
 * Every condition is replayed with two seeds: the tuning seed (seed ending in 0), on which the
 * pointer weights and limits in agent/timing-detector/features.ts were fixed, and the held-out seed
 * (ending in 1), scored only after they were. Both are printed, in separate rows.
 *
 * Decisions are the agent's: the rolling 60 s pool at each 5 s progress tick and at each flush
 * (lab/windows.ts progressPools). Warm baselines learn, through the detector's own update rule
 * (windows scoring local only), from generated local motion at the mouse's rate (tuning seeds) and
 * then from the lab's local capture of that rate (tuning seed): a 125 Hz and a 1000 Hz mouse.
 */
import { initialBaseline, learnedPointerPeriodsMs, updateBaseline, type DeviceBaseline } from '../agent/timing-detector/baseline-model';
import type { PooledWindow } from '../agent/timing-detector/features';
import { POPULATION_PRIOR } from '../agent/timing-detector/prior';
import { ALARM_THRESHOLD, COLD_FACTOR, effectiveThreshold, scorePool } from '../agent/timing-detector/scorer';
import type { Capture, CaptureItem } from '../lab/captures';
import type { X11vncMode } from '../lab/lab';
import { eventsFromSchedule, POINTER_AREA, POINTER_RATES, progressPools } from '../lab/windows';
import { pointerSchedule } from '../lab/schedules';
import type { InputEvent } from '../agent/input/input-source';

/** Relayed pointer conditions (TigerVNC viewer -> delay proxy -> x11vnc): delay, jitter, x11vnc mode. */
export const POINTER_CONDITIONS: readonly { delayMs: number; jitterMs: number; x11vnc: X11vncMode }[] = [
  { delayMs: 0, jitterMs: 0, x11vnc: 'tuned' },
  { delayMs: 50, jitterMs: 10, x11vnc: 'tuned' },
  { delayMs: 110, jitterMs: 0, x11vnc: 'tuned' },
  { delayMs: 110, jitterMs: 20, x11vnc: 'tuned' },
  { delayMs: 0, jitterMs: 0, x11vnc: 'default' },
];
/** Mouse report rates relayed (the slowest and fastest common USB mice). */
export const RELAYED_POINTER_RATES = [125, 1000] as const;
/** Rates of the warm baselines' local mice. */
export const WARM_MOUSE_RATES = [125, 1000] as const;
const LOCAL_MS = 10_000;
const REMOTE_MS = 12_000;

/** 0: the tuning seed; 1: the held-out seed. */
type Split = 0 | 1;

/** The pointer replays (real time: about 5 minutes for the full set, plus lab start-up). */
export function pointerCapturePlan(quick: boolean): CaptureItem[] {
  const items: CaptureItem[] = [];
  const splits: readonly Split[] = [0, 1];
  for (const rateHz of quick ? [125, 1000] : POINTER_RATES) {
    for (const k of splits) {
      const seed = rateHz * 10 + k;
      items.push({ label: `mouse-local-r${rateHz}-s${seed}-10s`, modality: 'mouse', route: 'local', delayMs: 0, jitterMs: 0, rateHz, seed, durationMs: LOCAL_MS });
    }
  }
  for (const c of quick ? POINTER_CONDITIONS.filter((p) => p.delayMs === 0 && p.x11vnc === 'tuned') : POINTER_CONDITIONS) {
    for (const rateHz of RELAYED_POINTER_RATES) {
      for (const k of splits) {
        const seed = 500 + rateHz * 10 + k;
        items.push({
          label: `mouse-d${c.delayMs}-j${c.jitterMs}-r${rateHz}-s${seed}-12s${c.x11vnc === 'default' ? '-x11vnc-default' : ''}`,
          modality: 'mouse',
          route: 'remote',
          delayMs: c.delayMs,
          jitterMs: c.jitterMs,
          rateHz,
          seed,
          durationMs: REMOTE_MS,
          x11vnc: c.x11vnc,
        });
      }
    }
  }
  return items;
}

function split(capture: CaptureItem): Split {
  return ((capture.seed ?? 0) % 10 === 0 ? 0 : 1) as Split;
}

/** The agent's pointer decisions on a stream of events (progress ticks and flushes). */
export function pointerDecisions(events: readonly InputEvent[]): PooledWindow[] {
  return progressPools(events.map((event) => ({ event, deliveryDelayMs: 0 }))).map((d) => d.pool);
}

/** Generated local motion at `rateHz` (schedules.ts pointerSchedule), as the agent's decisions. */
function generatedDecisions(rateHz: number, seed: number): PooledWindow[] {
  return pointerDecisions(eventsFromSchedule(pointerSchedule({ rateHz, durationMs: 60_000, seed, area: POINTER_AREA }).lines));
}

/** Learn from pools the way the detector does: only spans that score local teach the baseline. */
export function learn(baseline: DeviceBaseline, pools: readonly PooledWindow[]): DeviceBaseline {
  let learned = baseline;
  for (const pool of pools) {
    for (const score of scorePool(pool, learned)) {
      if (score.local) learned = updateBaseline(learned, score.values, score.modality === 'mouse' ? pool : undefined);
    }
  }
  return learned;
}

function mouseScores(pools: readonly PooledWindow[], baseline: DeviceBaseline): number[] {
  return pools.flatMap((pool) => scorePool(pool, baseline).filter((s) => s.modality === 'mouse').map((s) => s.score));
}

const rate = (hits: number, n: number): string => (n === 0 ? 'n/a' : `${hits}/${n} (${Math.round((100 * hits) / n)}%)`);

/**
 * Print the pointer table: one row per condition and seed split, cold and warm alarm rates at the
 * fixed thresholds, and the offline local negatives (held-out generated seeds) the same way.
 */
export function printPointerTable(all: readonly Capture[], quick: boolean): void {
  const labels = new Set(pointerCapturePlan(quick).map((item) => item.label));
  const captures = all.filter((c) => labels.has(c.label));
  const cold = initialBaseline(POPULATION_PRIOR);
  const coldThreshold = effectiveThreshold(ALARM_THRESHOLD.mouse, 0, COLD_FACTOR.mouse);
  const warmThreshold = ALARM_THRESHOLD.mouse;
  const local = captures.filter((c) => c.route === 'local');
  const warm = new Map<number, DeviceBaseline>();
  for (const rateHz of WARM_MOUSE_RATES) {
    let baseline = cold;
    for (const seed of [2, 4, 6, 8]) baseline = learn(baseline, generatedDecisions(rateHz, seed * 1000 + rateHz));
    const lab = local.find((c) => c.rateHz === rateHz && split(c) === 0);
    if (lab !== undefined) baseline = learn(baseline, pointerDecisions(lab.events));
    warm.set(rateHz, baseline);
  }
  console.log('Pointer: relayed (TigerVNC viewer -> delay proxy -> x11vnc) and local pointing, decisions every 5 s and at each flush over the rolling 60 s');
  console.log(
    `Weights and limits were fixed on the tuning seeds (seed ending 0) before the held-out seeds (ending 1) were scored. Thresholds: cold ${coldThreshold}, warm ${warmThreshold}. ` +
      `Warm baselines learned a local mouse first: ${WARM_MOUSE_RATES.map((r) => `${r} Hz -> learned report period ${learnedPointerPeriodsMs(warm.get(r)!.pointer).join('/') || 'none'} ms after ${warm.get(r)!.windows.mouse} local spans`).join('; ')}.`,
  );
  const header = `| route | x11vnc | delay ms | jitter ms | mouse Hz | seeds | decisions | alarms cold | ${WARM_MOUSE_RATES.map((r) => `alarms warm (local ${r} Hz mouse learned)`).join(' | ')} | median score cold |`;
  console.log(header);
  console.log(header.replace(/[^|]/g, '-'));
  /** The cells every row shares: decisions, cold alarms, warm alarms per learned mouse, median cold score. */
  const scoreCells = (pools: ReturnType<typeof pointerDecisions>): string => {
    const coldScores = mouseScores(pools, cold);
    const warmCells = WARM_MOUSE_RATES.map((r) => {
      const scores = mouseScores(pools, warm.get(r)!);
      return rate(scores.filter((s) => s >= warmThreshold).length, scores.length);
    });
    const sorted = [...coldScores].sort((a, b) => a - b);
    return `${coldScores.length} | ${rate(coldScores.filter((s) => s >= coldThreshold).length, coldScores.length)} | ${warmCells.join(' | ')} | ${sorted[sorted.length >> 1]?.toFixed(1) ?? '-'}`;
  };
  for (const capture of captures) {
    console.log(
      `| ${capture.route} | ${capture.route === 'local' ? '-' : (capture.x11vnc ?? 'tuned')} | ${capture.delayMs} | ${capture.jitterMs} | ${capture.rateHz} | ${split(capture) === 0 ? 'tuning' : 'held-out'} | ${scoreCells(pointerDecisions(capture.events))} |`,
    );
  }
  // Offline local negatives: generated motion at every rate, held-out (odd) seeds, cold and warm.
  for (const rateHz of POINTER_RATES) {
    const pools = [1, 3, 5, 7].flatMap((seed) => generatedDecisions(rateHz, seed * 1000 + rateHz));
    console.log(`| offline local (generated) | - | 0 | 0 | ${rateHz} | held-out | ${scoreCells(pools)} |`);
  }
  console.log(
    'Warm columns for a local row of a different rate than the learned mouse show a laptop whose user switches pointing devices (the learned period no longer fits the new one).',
  );
}
