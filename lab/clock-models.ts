/**
 * OS input-clock models for offline replay: the same typing or pointing, stamped the way each
 * platform's hook would stamp it, then through the agent's own InputClock (agent/input/input-clock.ts).
 *
 * Input is "fine" time: ms with fractions, the moment an event really happened (a schedule's times, or
 * a lab capture's X-server ms plus a random sub-millisecond part). Each model turns it into the raw
 * stamp the OS hook would give and a receive time (the event reaching the agent a little later,
 * RECEIVE_DELAY), and the clock under test turns those into the event time the features see:
 *  - x11: X server ms (the lab's own clock);
 *  - windows-tick: the hook's tick count (~15.6 ms steps) used directly as event time: how an agent
 *    without a Windows clock model would see the events;
 *  - windows: the Windows clock model (receive time on a 1 ms grid, tick time as the check);
 *  - macos: nanoseconds since startup through the macOS clock model's conversion.
 */
import { createInputClock, WINDOWS_TICK_MS, type StampedTime } from '../agent/input/input-clock';
import type { InputEvent } from '../agent/input/input-source';
import { assertNever } from '../common/result';
import { seededRandom } from './delay-proxy';

export type ClockModelId = 'x11' | 'windows-tick' | 'windows' | 'macos';

/** Every clock model, in table order. */
export const CLOCK_MODELS: readonly ClockModelId[] = ['x11', 'windows-tick', 'windows', 'macos'];

/** Plain-language name of a clock model for tables. */
export function clockModelLabel(id: ClockModelId): string {
  switch (id) {
    case 'x11':
      return 'X11 server time (1 ms)';
    case 'windows-tick':
      return 'Windows hook tick time used as is (15.6 ms)';
    case 'windows':
      return 'Windows clock model (receive time, tick as check)';
    case 'macos':
      return 'macOS ns since startup, converted';
    default:
      return assertNever(id, 'clock model');
  }
}

/** Resolution of the event times a clock model gives the aggregator, ms. */
export function clockResolutionMs(id: ClockModelId): number {
  return id === 'windows-tick' ? WINDOWS_TICK_MS : 1;
}

/** Time from the event to the agent's receipt on an idle machine: fixed part and exponential mean, ms. */
export const RECEIVE_DELAY = { fixedMs: 0.1, meanMs: 0.15 } as const;

/** A stamping function for one replayed stream: fine ms in (non-decreasing), stamped time out. */
export type Stamper = (fineMs: number) => StampedTime;

/** A fresh stamper of model `id` for one stream, seeded for repeatability. */
export function clockStamper(id: ClockModelId, seed: number): Stamper {
  const stamp = stamperWithReceipt(id, seed);
  return (fine) => stamp(fine, fine);
}

/**
 * A stamper that also takes when the event could first be received (later than it happened while
 * the machine is stalled). `rawFine` is when the OS stamped it: the event's moment, or on X11 when
 * the (also starved) X server got to it.
 */
export function stamperWithReceipt(id: ClockModelId, seed: number): (rawFine: number, receivableFine: number) => StampedTime {
  const random = seededRandom(seed);
  const phase = random();
  const tickPhase = random() * WINDOWS_TICK_MS;
  // A machine up for a day: macOS nanoseconds stay well inside a double's exact integers.
  const bootMs = 86_400_000;
  let received = -Infinity;
  const receive = (fine: number): number => {
    received = Math.max(received, fine + RECEIVE_DELAY.fixedMs - Math.log(1 - random()) * RECEIVE_DELAY.meanMs);
    return received;
  };
  const tick = (fine: number): number => Math.floor(Math.floor((fine + tickPhase) / WINDOWS_TICK_MS) * WINDOWS_TICK_MS);
  switch (id) {
    case 'x11': {
      const clock = createInputClock('x11');
      return (raw, receivable) => clock.stamp(Math.floor(raw + phase), receive(Math.max(raw, receivable)));
    }
    case 'windows-tick':
      return (raw) => ({ time: tick(raw), deliveryDelayMs: 0 });
    case 'windows': {
      const clock = createInputClock('windows');
      return (raw, receivable) => clock.stamp(tick(raw), receive(Math.max(raw, receivable)));
    }
    case 'macos': {
      const clock = createInputClock('macos');
      return (raw, receivable) => clock.stamp(Math.round((bootMs + raw) * 1e6), receive(Math.max(raw, receivable)));
    }
    default:
      return assertNever(id, 'clock model');
  }
}

/** An event with the delivery delay its clock measured. */
export interface StampedEvent {
  readonly event: InputEvent;
  readonly deliveryDelayMs: number;
  /** How long the agent's event loop had been stalled when this event reached it, ms (load model only). */
  readonly loopDelayMs?: number;
}

/**
 * Restamp a stream of fine-time events (in arrival order) through `stamp`. A keystroke's down time
 * is the time its key-down was given, so the pair stays consistent.
 */
export function restampEvents(events: readonly InputEvent[], stamp: Stamper): StampedEvent[] {
  const downs = new Map<number, number[]>();
  const out: StampedEvent[] = [];
  for (const event of events) {
    switch (event.kind) {
      case 'keyDown': {
        const stamped = stamp(event.time);
        const queue = downs.get(event.time) ?? [];
        queue.push(stamped.time);
        downs.set(event.time, queue);
        out.push({ event: { ...event, time: stamped.time }, deliveryDelayMs: stamped.deliveryDelayMs });
        break;
      }
      case 'keystroke': {
        const stamped = stamp(event.upTime);
        const queue = downs.get(event.downTime);
        const downTime = queue?.shift() ?? stamped.time;
        if (queue?.length === 0) downs.delete(event.downTime);
        out.push({ event: { ...event, downTime, upTime: Math.max(downTime, stamped.time) }, deliveryDelayMs: stamped.deliveryDelayMs });
        break;
      }
      case 'mouseMove':
      case 'click':
      case 'wheel': {
        const stamped = stamp(event.time);
        out.push({ event: { ...event, time: stamped.time }, deliveryDelayMs: stamped.deliveryDelayMs });
        break;
      }
      default:
        assertNever(event, 'input event');
    }
  }
  return out;
}

/** A lab capture's events (X-server ms) on fine time: each time plus a seeded sub-millisecond part. */
export function fineCaptureEvents(events: readonly InputEvent[], seed: number): InputEvent[] {
  const random = seededRandom(seed);
  const fine = new Map<number, number>();
  // One sub-ms part per distinct X time, so events that shared a millisecond keep their order.
  const at = (time: number): number => {
    let value = fine.get(time);
    if (value === undefined) {
      value = time + random() * 0.999;
      fine.set(time, value);
    }
    return value;
  };
  return events.map((event) =>
    event.kind === 'keystroke' ? { ...event, downTime: at(event.downTime), upTime: at(event.upTime) } : { ...event, time: at(event.time) },
  );
}
