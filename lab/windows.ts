/**
 * From event streams to scored decisions, the way the agent does it: InputEvents through the
 * foundation Aggregator (default limits: 30 s or 50 keystrokes), then the detector's rolling 60 s.
 * Also turns a schedule into the events an ideal local capture would see, for offline use of the
 * human data (deriving the prior, checking every held-out session for false alarms).
 */
import { Aggregator } from '../agent/input/aggregator';
import type { InputEvent } from '../agent/input/input-source';
import type { TimingWindow } from '../common/timing';
import type { PooledWindow } from '../agent/timing-detector/features';
import { RollingWindows } from '../agent/timing-detector/rolling';
import { clockResolutionMs, clockStamper, restampEvents, type ClockModelId, type StampedEvent } from './clock-models';
import { parseScheduleLine, type ScheduleLine } from './injector';
import { pointerSchedule, typingSchedule, type TypingSession } from './schedules';

export const AGGREGATOR_LIMITS = { windowSeconds: 30, windowKeystrokes: 50 };

function eventTime(event: InputEvent): number {
  return event.kind === 'keystroke' ? event.upTime : event.time;
}

/** Aggregate a captured stream into windows. The hook clock stands in for wall time, so runs are deterministic. */
export function windowsFromEvents(events: readonly InputEvent[], limits = AGGREGATOR_LIMITS): TimingWindow[] {
  return windowsFromStamped(events.map((event) => ({ event, deliveryDelayMs: 0 })), limits);
}

/** Aggregate events restamped through a clock model (lab/clock-models.ts), delivery delays included. */
export function windowsFromStamped(stamped: readonly StampedEvent[], limits = AGGREGATOR_LIMITS, resolutionMs = 1): TimingWindow[] {
  const aggregator = new Aggregator(limits, { resolutionMs });
  const windows: TimingWindow[] = [];
  for (const { event, deliveryDelayMs, loopDelayMs } of stamped) {
    const time = eventTime(event);
    if (aggregator.isDue(time)) windows.push(aggregator.take()!);
    aggregator.accept(event, time, deliveryDelayMs);
    if (loopDelayMs !== undefined) aggregator.noteLoopDelay(loopDelayMs);
  }
  const last = aggregator.take();
  if (last !== null) windows.push(last);
  return windows;
}

/**
 * Every decision the agent makes on a stream: the rolling pool at each flush and, between flushes,
 * at each `progressMs` of hook time while a window is open (the capture service's windowProgress,
 * scored by the detector with the open window). `at` is hook ms since the stream's first event.
 */
export function progressPools(stamped: readonly StampedEvent[], resolutionMs = 1, progressMs = 5000, limits = AGGREGATOR_LIMITS): { pool: PooledWindow; at: number }[] {
  const aggregator = new Aggregator(limits, { resolutionMs });
  const rolling = new RollingWindows();
  const out: { pool: PooledWindow; at: number }[] = [];
  const first = stamped[0] === undefined ? 0 : eventTime(stamped[0].event);
  let nextTick = Infinity;
  for (const { event, deliveryDelayMs } of stamped) {
    const time = eventTime(event);
    while (time >= nextTick && !aggregator.isEmpty) {
      out.push({ pool: rolling.peekWith(aggregator.peek()!), at: nextTick - first });
      nextTick += progressMs;
    }
    if (aggregator.isDue(time)) {
      out.push({ pool: rolling.add(aggregator.take()!), at: time - first });
      nextTick = Infinity;
    }
    if (aggregator.isEmpty) nextTick = time + progressMs;
    aggregator.accept(event, time, deliveryDelayMs);
  }
  const last = aggregator.take();
  if (last !== null) out.push({ pool: rolling.add(last), at: last.hookEnd - first });
  return out;
}

/** The rolling 60 s pool at each window flush. */
export function rollingPools(windows: readonly TimingWindow[]): PooledWindow[] {
  const rolling = new RollingWindows();
  return windows.map((w) => rolling.add(w));
}

/**
 * What an ideal local capture sees for a schedule: X-server-style integer ms times (or, with
 * `round` false, the schedule's own fractional times, for a clock model to stamp), same pairing
 * rules as the hook boundary.
 */
export function eventsFromSchedule(lines: readonly ScheduleLine[], round = true): InputEvent[] {
  const events: InputEvent[] = [];
  const held = new Map<string, number>();
  let last: { x: number; y: number } | null = null;
  for (const line of lines) {
    const step = parseScheduleLine(line);
    const time = round ? Math.round(step.t) : step.t;
    if (step.kind === 'down') {
      if (held.has(step.key)) continue;
      events.push({ kind: 'keyDown', time, heldCount: held.size });
      held.set(step.key, time);
    } else if (step.kind === 'up') {
      const downTime = held.get(step.key);
      if (downTime === undefined) continue;
      held.delete(step.key);
      events.push({ kind: 'keystroke', downTime, upTime: time });
    } else if (step.kind === 'move') {
      events.push({ kind: 'mouseMove', time, distance: last === null ? null : Math.hypot(step.x - last.x, step.y - last.y) });
      last = { x: step.x, y: step.y };
    } else if (step.kind === 'click' || step.kind === 'press') {
      events.push({ kind: 'click', time });
    }
  }
  return events;
}

/** A schedule's events as the agent would see them, aggregated and pooled into rolling 60 s decisions. */
export function schedulePools(lines: readonly ScheduleLine[]): PooledWindow[] {
  return rollingPools(windowsFromEvents(eventsFromSchedule(lines)));
}

/** A schedule's events stamped by an OS clock model (lab/clock-models.ts), as rolling decisions. */
export function clockSchedulePools(lines: readonly ScheduleLine[], clock: ClockModelId, seed: number): PooledWindow[] {
  return rollingPools(windowsFromStamped(restampEvents(eventsFromSchedule(lines, false), clockStamper(clock, seed)), AGGREGATOR_LIMITS, clockResolutionMs(clock)));
}

/** A recorded typing session replayed offline as the agent's rolling pools. */
export function sessionPools(session: TypingSession): PooledWindow[] {
  return schedulePools(typingSchedule(session.keystrokes).lines);
}

/** Device report rates of generated pointer motion, Hz (typical USB mice). */
export const POINTER_RATES = [125, 250, 500, 1000] as const;
/** Where offline pointer motion moves: the lab target display less a margin. */
export const POINTER_AREA = { x: 60, y: 60, width: 900, height: 650 };

/** Generated pointer motion replayed offline as the agent's rolling pools. */
export function pointerPools(rateHz: number, seed: number, durationMs = 60_000): PooledWindow[] {
  return schedulePools(pointerSchedule({ rateHz, durationMs, seed, area: POINTER_AREA }).lines);
}
