/**
 * Per-OS input clocks: what time an input event happened, in whole milliseconds, behind one interface.
 *
 * libuiohook stamps each event with the OS's own clock, which differs by platform:
 *  - Linux/X11: the X server's timestamp (XRecord `server_time`), ms, 1 ms resolution. Used as is.
 *  - Windows: the low-level hook's `time` field (KBDLLHOOKSTRUCT/MSLLHOOKSTRUCT), a GetTickCount-style
 *    ms count that advances once per timer tick, about every 15.6 ms. On that clock every fast pair
 *    of events ties and no 1 ms gap ever appears, so the timing features cannot use it. The event time
 *    is the high-resolution receive time (performance.now() when the event reaches the agent); the
 *    tick time is kept as the check: how late the event arrived (`deliveryDelayMs`), which the load
 *    guard reads, since receive times bunch whenever the agent is stalled.
 *  - macOS: CGEventGetTimestamp, documented as nanoseconds since startup; divided to ms. On some
 *    machines it is reported to count mach absolute-time ticks (24 MHz on Apple silicon) instead, so
 *    the unit is checked against the receive clock once a second of events has passed and corrected
 *    if it is that one.
 * Every clock also reports the event's delivery delay: receive time minus event time, less the
 * smallest such difference seen (the clocks' unknown offset), so 0 means "as prompt as the promptest
 * event so far".
 */
import { assertNever } from '../../common/result';

/** Which clock model stamps the events. */
export type InputClockId = 'x11' | 'windows' | 'macos';

/** One stamped event time. */
export interface StampedTime {
  /** The event's time for the features, whole ms on the clock's own epoch. */
  readonly time: number;
  /** How much later than the promptest event so far it reached the agent, ms (0 or more). */
  readonly deliveryDelayMs: number;
}

/** Turns the hook's raw time and the agent's receive time into the event time the features use. */
export interface InputClock {
  readonly id: InputClockId;
  /** Resolution of the event times it produces, ms. */
  readonly resolutionMs: number;
  /** Resolution of the OS's own event stamp, ms: the slack the delivery delay check allows. */
  readonly stampResolutionMs: number;
  /** Stamp one event: `rawTime` is the hook's time field, `receivedMs` a monotonic ms clock read on receipt. */
  stamp(rawTime: number, receivedMs: number): StampedTime;
  /**
   * The same stamp without an object for the hook's hot path: returns the event time and leaves its
   * delivery delay in `lastDeliveryDelayMs` until the next stamp.
   */
  stampTime(rawTime: number, receivedMs: number): number;
  /** The delivery delay of the latest `stamp`/`stampTime`, ms (0 before the first). */
  readonly lastDeliveryDelayMs: number;
}

/** Windows' default timer tick, ms (64 Hz). */
export const WINDOWS_TICK_MS = 15.625;
/** CGEventTimestamp units per ms when it counts nanoseconds. */
export const NANOSECONDS_PER_MS = 1e6;
/** Mach absolute-time ticks per ms on Apple silicon (24 MHz). */
export const APPLE_SILICON_TICKS_PER_MS = 24_000;

/**
 * How fast the delay floor may rise, ms per ms of receive time: two clocks of one machine drift
 * apart by parts per million, so a floor that could only fall would slowly turn drift into "delay".
 */
const FLOOR_CREEP = 1e-4;

/** Tracks receive − event time and reports each event's excess over the smallest seen (allowing for drift). */
class DelayTracker {
  private floor = Infinity;
  private lastReceived = 0;

  delay(eventMs: number, receivedMs: number): number {
    const difference = receivedMs - eventMs;
    if (this.floor !== Infinity) this.floor += Math.max(0, receivedMs - this.lastReceived) * FLOOR_CREEP;
    this.lastReceived = receivedMs;
    if (difference < this.floor) this.floor = difference;
    return difference - this.floor;
  }
}

/** X11: the X server's ms timestamp is already what the features need. */
export class X11InputClock implements InputClock {
  readonly id = 'x11';
  readonly resolutionMs = 1;
  readonly stampResolutionMs = 1;
  lastDeliveryDelayMs = 0;
  private readonly tracker = new DelayTracker();

  stamp(rawTime: number, receivedMs: number): StampedTime {
    return { time: this.stampTime(rawTime, receivedMs), deliveryDelayMs: this.lastDeliveryDelayMs };
  }

  stampTime(rawTime: number, receivedMs: number): number {
    this.lastDeliveryDelayMs = this.tracker.delay(rawTime, receivedMs);
    return rawTime;
  }
}

/** Windows: the receive time on a 1 ms grid, with the hook's tick time as the delivery check. */
export class WindowsInputClock implements InputClock {
  readonly id = 'windows';
  readonly resolutionMs = 1;
  readonly stampResolutionMs = WINDOWS_TICK_MS;
  lastDeliveryDelayMs = 0;
  private readonly tracker = new DelayTracker();

  stamp(rawTime: number, receivedMs: number): StampedTime {
    return { time: this.stampTime(rawTime, receivedMs), deliveryDelayMs: this.lastDeliveryDelayMs };
  }

  stampTime(rawTime: number, receivedMs: number): number {
    // The tick clock is up to one tick behind the moment of the event, so delays under a tick are noise.
    const delay = this.tracker.delay(rawTime, receivedMs);
    this.lastDeliveryDelayMs = Math.max(0, delay - WINDOWS_TICK_MS);
    return Math.floor(receivedMs);
  }
}

/** macOS: event timestamps since startup, in nanoseconds (or, where so shown, mach ticks), to ms. */
export class MacInputClock implements InputClock {
  readonly id = 'macos';
  readonly resolutionMs = 1;
  readonly stampResolutionMs = 1;
  lastDeliveryDelayMs = 0;
  private readonly tracker = new DelayTracker();
  private unitsPerMs = NANOSECONDS_PER_MS;
  private calibration: { raw: number; received: number } | null = null;
  private calibrated = false;

  /** The raw units per ms in use (NANOSECONDS_PER_MS unless calibration showed mach ticks). */
  get units(): number {
    return this.unitsPerMs;
  }

  stamp(rawTime: number, receivedMs: number): StampedTime {
    return { time: this.stampTime(rawTime, receivedMs), deliveryDelayMs: this.lastDeliveryDelayMs };
  }

  stampTime(rawTime: number, receivedMs: number): number {
    if (!this.calibrated) this.calibrate(rawTime, receivedMs);
    this.lastDeliveryDelayMs = this.tracker.delay(rawTime / this.unitsPerMs, receivedMs);
    return Math.floor(rawTime / this.unitsPerMs);
  }

  /**
   * Compare the raw clock's rate with the receive clock's over at least a second: nanoseconds run
   * 1e6 per ms, Apple-silicon mach ticks 24,000. Whichever the measured rate is nearer (on a log
   * scale) is kept for good.
   */
  private calibrate(rawTime: number, receivedMs: number): void {
    if (this.calibration === null) {
      this.calibration = { raw: rawTime, received: receivedMs };
      return;
    }
    const elapsed = receivedMs - this.calibration.received;
    if (elapsed < 1000) return;
    const rate = (rawTime - this.calibration.raw) / elapsed;
    if (rate > 0) {
      const nanoseconds = Math.abs(Math.log(rate / NANOSECONDS_PER_MS));
      const ticks = Math.abs(Math.log(rate / APPLE_SILICON_TICKS_PER_MS));
      this.unitsPerMs = ticks < nanoseconds ? APPLE_SILICON_TICKS_PER_MS : NANOSECONDS_PER_MS;
      this.calibrated = true;
    }
  }
}

/** The clock for a platform (libuiohook's per-OS stamp), or null on a platform the hook does not support. */
export function inputClockFor(platform: NodeJS.Platform): InputClock | null {
  const id: InputClockId | null = platform === 'linux' ? 'x11' : platform === 'win32' ? 'windows' : platform === 'darwin' ? 'macos' : null;
  return id === null ? null : createInputClock(id);
}

/** A fresh clock of the given model. */
export function createInputClock(id: InputClockId): InputClock {
  switch (id) {
    case 'x11':
      return new X11InputClock();
    case 'windows':
      return new WindowsInputClock();
    case 'macos':
      return new MacInputClock();
    default:
      return assertNever(id, 'input clock');
  }
}
