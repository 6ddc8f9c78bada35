/**
 * From event streams to scored decisions, the way the agent does it: InputEvents through the
 * foundation Aggregator (default limits: 30 s or 50 keystrokes), then the detector's rolling 60 s.
 * Also turns a schedule into the events an ideal local capture would see, for offline use of the
 * human data (deriving the prior, checking every held-out session for false alarms).
 */
import { Aggregator } from '../../agent/input/aggregator';
import type { InputEvent } from '../../agent/input/input-source';
import type { TimingWindow } from '../../common/timing';
import type { PooledWindow } from '../../agent/timing-detector/features';
import { RollingWindows } from '../../agent/timing-detector/rolling';
import type { ScheduleLine } from './schedules';

export const AGGREGATOR_LIMITS = { windowSeconds: 30, windowKeystrokes: 50 };

function eventTime(event: InputEvent): number {
  return event.kind === 'keystroke' ? event.upTime : event.time;
}

/** Aggregate a captured stream into windows. The hook clock stands in for wall time, so runs are deterministic. */
export function windowsFromEvents(events: readonly InputEvent[], limits = AGGREGATOR_LIMITS): TimingWindow[] {
  const aggregator = new Aggregator(limits);
  const windows: TimingWindow[] = [];
  for (const event of events) {
    const time = eventTime(event);
    if (aggregator.isDue(time)) windows.push(aggregator.take()!);
    aggregator.accept(event, time);
  }
  const last = aggregator.take();
  if (last !== null) windows.push(last);
  return windows;
}

/** The rolling 60 s pool at each window flush. */
export function rollingPools(windows: readonly TimingWindow[]): PooledWindow[] {
  const rolling = new RollingWindows();
  return windows.map((w) => rolling.add(w));
}

/** What an ideal local capture sees for a schedule: X-server-style integer ms times, same pairing rules as the hook boundary. */
export function eventsFromSchedule(lines: readonly ScheduleLine[]): InputEvent[] {
  const events: InputEvent[] = [];
  const held = new Map<string, number>();
  let last: { x: number; y: number } | null = null;
  for (const line of lines) {
    const [t, verb, a, b] = line.split(' ');
    const time = Math.round(Number(t));
    if (verb === 'down') {
      if (held.has(a!)) continue;
      events.push({ kind: 'keyDown', time, heldCount: held.size });
      held.set(a!, time);
    } else if (verb === 'up') {
      const downTime = held.get(a!);
      if (downTime === undefined) continue;
      held.delete(a!);
      events.push({ kind: 'keystroke', downTime, upTime: time });
    } else if (verb === 'move') {
      const x = Number(a);
      const y = Number(b);
      events.push({ kind: 'mouseMove', time, distance: last === null ? null : Math.hypot(x - last.x, y - last.y) });
      last = { x, y };
    } else if (verb === 'click') {
      events.push({ kind: 'click', time });
    }
  }
  return events;
}
