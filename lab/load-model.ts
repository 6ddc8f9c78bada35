/**
 * A busy machine, modelled for offline replay: local typing while the CPU is saturated (a build, a
 * video call), so the X server and the agent are both starved for a few hundred ms at a time.
 *
 * Stalls start at exponential intervals (mean STALL_EVERY_MS) and last 150-400 ms. An event typed
 * during a stall is received when it ends, all of them together: on X11 the X server stamps it
 * then as well (it too was starved: the bunching the outside evaluation saw at 91 % load), on
 * Windows and macOS the OS stamp keeps the real moment and only the receive time bunches. The
 * agent's event-loop delay monitor sees each stall when it ends.
 */
import type { TimingWindow } from '../common/timing';
import { clockResolutionMs, restampEvents, stamperWithReceipt, type ClockModelId, type StampedEvent } from './clock-models';
import { seededRandom } from './delay-proxy';
import type { ScheduleLine } from './injector';
import { AGGREGATOR_LIMITS, eventsFromSchedule, windowsFromStamped } from './windows';

/** Mean time between stalls, ms. */
export const STALL_EVERY_MS = 3000;
/** Shortest and longest stall, ms. */
export const STALL_RANGE_MS: readonly [number, number] = [150, 400];

/** Local typing of `lines` on a busy machine, through clock model `clock`, as aggregated windows. */
export function withLoadStalls(lines: readonly ScheduleLine[], clock: ClockModelId, seed: number): TimingWindow[] {
  const random = seededRandom(seed ^ 0x2545f491);
  const events = eventsFromSchedule(lines, false);
  const last = events.length === 0 ? 0 : eventTimeOf(events[events.length - 1]!);
  const stalls: { start: number; end: number }[] = [];
  for (let at = -Math.log(1 - random()) * STALL_EVERY_MS; at < last; at += -Math.log(1 - random()) * STALL_EVERY_MS) {
    const end = at + STALL_RANGE_MS[0] + random() * (STALL_RANGE_MS[1] - STALL_RANGE_MS[0]);
    stalls.push({ start: at, end });
    at = end;
  }
  const stamp = stamperWithReceipt(clock, seed);
  const xStarved = clock === 'x11';
  let index = 0;
  let reported = -1;
  // Restamp with the receipt rule, noting each stall once, on the first event after it.
  const stamped: StampedEvent[] = restampEvents(events, (fine) => {
    while (index < stalls.length && stalls[index]!.end < fine) index++;
    const stall = stalls[index];
    const inside = stall !== undefined && fine >= stall.start && fine <= stall.end;
    const receivable = inside ? stall.end : fine;
    return stamp(inside && xStarved ? stall.end : fine, receivable);
  }).map((event, i) => {
    // The loop monitor reports a stall once, to the first event the loop handles once it is over.
    const before = stalls.findLastIndex((s) => s.start <= eventTimeOf(events[i]!));
    if (before > reported) {
      reported = before;
      return { ...event, loopDelayMs: stalls[before]!.end - stalls[before]!.start };
    }
    return event;
  });
  return windowsFromStamped(stamped, AGGREGATOR_LIMITS, clockResolutionMs(clock));
}

function eventTimeOf(event: { kind: string; time?: number; upTime?: number }): number {
  return event.kind === 'keystroke' ? event.upTime! : event.time!;
}
