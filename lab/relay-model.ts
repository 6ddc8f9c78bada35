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
import { seededRandom } from './delay-proxy';
import type { ScheduleLine } from './injector';

/**
 * Spacing of events injected from one released bunch, ms. Fixed from the 110 ms / 40 ms lab
 * capture (u23): of bunched pairs 105 landed 0 ms apart and 47 landed 1 ms apart, i.e. a pair
 * crosses a millisecond boundary about 30-45% of the time.
 */
export const BUNCH_SPACING_MS = 0.4;

/**
 * Relay a schedule: each line's time becomes max(previous release, time + Exp(jitterMs)), plus
 * BUNCH_SPACING_MS per event already released at that same instant. Order is kept (the output
 * is sorted exactly as the input). Non-time fields are passed through.
 */
export function relaySchedule(lines: readonly ScheduleLine[], jitterMs: number, seed: number): ScheduleLine[] {
  const random = seededRandom(seed);
  // A random phase of the target's millisecond clock against the schedule's, so ties are not an
  // artefact of schedule times that happen to sit on whole milliseconds.
  const phase = random();
  let previous = -Infinity;
  let inBunch = 0;
  return lines.map((line) => {
    const space = line.indexOf(' ');
    const time = Number(line.slice(0, space));
    const jitter = jitterMs > 0 ? -Math.log(1 - random()) * jitterMs : 0;
    const release = Math.max(previous, time + jitter);
    inBunch = release === previous ? inBunch + 1 : 0;
    previous = release;
    const arrival = release + inBunch * BUNCH_SPACING_MS + phase;
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
