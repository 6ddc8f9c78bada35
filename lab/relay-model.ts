/**
 * An offline model of the lab's relay, for scoring every held-out human session (hours of typing)
 * as if it had been relayed, where the real lab can replay only minutes.
 *
 * It applies to schedule times exactly what the delay proxy does to chunks (delay-proxy.ts
 * releaseTime: an exponential extra delay per event, released in order, so an event held back holds
 * back everything behind it), plus what the lab shows x11vnc does with a bunch released at once:
 * it injects the events one after another, BUNCH_SPACING_MS apart, so a bunched pair lands 0 or
 * 1 ms apart on the target's clock. The constant part of the delay is left out: it shifts every
 * event alike and changes no interval. bench:detect prints, per lab capture, the tie count the
 * model predicts beside the one the real relay produced, so the model's claim is measured.
 *
 * Each key event is treated as its own chunk, as TigerVNC's viewer sends it (one RFB KeyEvent
 * message per X key event, with TCP_NODELAY).
 */
import { assertNever } from '../common/result';
import { seededRandom } from '../agent/sync/backoff';
import type { ScheduleLine } from './injector';

/**
 * Spacing of events injected from one released bunch, ms. Fixed from the 110 ms / 40 ms lab
 * capture (u23): of bunched pairs 105 landed 0 ms apart and 47 landed 1 ms apart, i.e. a pair
 * crosses a millisecond boundary about 30-45% of the time.
 */
export const BUNCH_SPACING_MS = 0.4;

/** How the link's extra delay per event is drawn (mean or spread `jitterMs`). */
export type JitterKind = 'exponential' | 'normal' | 'uniform' | 'pareto';

/** Every jitter kind, in table order. */
export const JITTER_KINDS: readonly JitterKind[] = ['exponential', 'normal', 'uniform', 'pareto'];

/**
 * How the relay's server injects a bunch released at once: 'tuned' (the lab's latency-tuned
 * x11vnc, BUNCH_SPACING_MS apart) or 'default' (x11vnc at its default settings, which lets its
 * own event loop pace a held bunch out over 1-2 ms: DEFAULT_SPACING_MS per event).
 */
export type ServerPacing = 'tuned' | 'default';

/**
 * Per-event spacing of a bunch x11vnc injects at its default settings, ms (uniform in the range).
 * Chosen so a pair lands in one millisecond about a third as often as with tuned pacing, which is
 * what the outside evaluation measured (same-millisecond ties fell from 14 % to 4-6 % of short gaps).
 */
export const DEFAULT_SPACING_MS: readonly [number, number] = [0.7, 1.5];

/** Constant delay of the link, ms: only bounds how far a normal or uniform sample can pull an event earlier. */
export const MODEL_DELAY_MS = 110;

export interface RelayOptions {
  readonly jitter?: JitterKind;
  readonly pacing?: ServerPacing;
}

/**
 * One extra-delay sample of `kind` with scale `jitterMs`: exponential with that mean (the lab proxy's
 * rule); normal with that standard deviation and uniform over ±jitterMs (netem's distributions, both
 * around the constant delay, so never earlier than MODEL_DELAY_MS before it); Pareto with shape 3
 * and that mean (rare very late events).
 */
export function jitterSample(kind: JitterKind, jitterMs: number, random: () => number): number {
  if (jitterMs <= 0) return 0;
  switch (kind) {
    case 'exponential':
      return -Math.log(1 - random()) * jitterMs;
    case 'normal': {
      // Box-Muller; 1 - random() keeps the logarithm finite.
      const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return Math.max(-MODEL_DELAY_MS, normal * jitterMs);
    }
    case 'uniform':
      return Math.max(-MODEL_DELAY_MS, (2 * random() - 1) * jitterMs);
    case 'pareto': {
      // Lomax (Pareto starting at 0): mean scale / (shape - 1).
      const shape = 3;
      const scale = jitterMs * (shape - 1);
      return scale * ((1 - random()) ** (-1 / shape) - 1);
    }
    default:
      return assertNever(kind, 'jitter kind');
  }
}

/**
 * Relay a schedule: each line's time becomes max(previous release, time + jitter sample), plus the
 * server's pacing per event already released at that same instant (tuned: BUNCH_SPACING_MS; default:
 * DEFAULT_SPACING_MS). Order is kept (the output is sorted exactly as the input). Non-time fields
 * are passed through. The defaults (exponential jitter, tuned pacing) are the lab's own relay.
 */
export function relaySchedule(lines: readonly ScheduleLine[], jitterMs: number, seed: number, options: RelayOptions = {}): ScheduleLine[] {
  const kind = options.jitter ?? 'exponential';
  const pacing = options.pacing ?? 'tuned';
  const random = seededRandom(seed);
  // A random phase of the target's millisecond clock against the schedule's, so ties are not an
  // artefact of schedule times that happen to sit on whole milliseconds.
  const phase = random();
  // The server's pacing draws from its own generator, so the tuned relay keeps the exact jitter
  // sequence it always had.
  const pacingRandom = seededRandom(seed ^ 0x5bd1e995);
  let previous = -Infinity;
  let lastArrival = -Infinity;
  return lines.map((line) => {
    const space = line.indexOf(' ');
    const time = Number(line.slice(0, space));
    const jitter = jitterSample(kind, jitterMs, random);
    const release = Math.max(previous, time + jitter);
    // A bunch is injected one event after another; the server never injects out of order, so an
    // event released while it is still injecting the bunch before waits for it.
    const spacing = (): number => (pacing === 'tuned' ? BUNCH_SPACING_MS : DEFAULT_SPACING_MS[0] + pacingRandom() * (DEFAULT_SPACING_MS[1] - DEFAULT_SPACING_MS[0]));
    const busyUntil = lastArrival + (pacing === 'tuned' ? BUNCH_SPACING_MS : DEFAULT_SPACING_MS[1]);
    const arrival = release === previous || release + phase < busyUntil ? Math.max(release + phase, lastArrival + spacing()) : release + phase;
    previous = release;
    lastArrival = arrival;
    return `${arrival.toFixed(3)}${line.slice(space)}`;
  });
}

/**
 * A schedule as a USB keyboard polled every `periodMs` reports it: each event lands on the first
 * report after it (a random phase, plus up to `wobbleMs` of controller timing noise), so two key
 * changes inside one report share a timestamp. Locally typed on a 125 Hz keyboard (8 ms), ties are
 * common without any relay: the detector must not mistake that clock for bunching.
 */
export function reportClockSchedule(lines: readonly ScheduleLine[], periodMs: number, seed: number, wobbleMs = 0.3): ScheduleLine[] {
  const random = seededRandom(seed);
  const phase = random() * periodMs;
  let previous = -Infinity;
  return lines.map((line) => {
    const space = line.indexOf(' ');
    const time = Number(line.slice(0, space));
    const report = Math.ceil((time - phase) / periodMs) * periodMs + phase;
    // One wobble per report, so events in the same report keep the same time; never out of order.
    const at = Math.max(previous, report + wobbleFor(report, wobbleMs, seed));
    previous = at;
    return `${at.toFixed(3)}${line.slice(space)}`;
  });
}

/** Deterministic per-report timing noise in [0, wobbleMs): the same report always gets the same value. */
function wobbleFor(report: number, wobbleMs: number, seed: number): number {
  return seededRandom(Math.floor(report * 8) ^ seed)() * wobbleMs;
}
