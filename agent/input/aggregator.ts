/**
 * The aggregator: InputEvents in, TimingWindows out.
 *
 * The hot path (`accept`) only appends numbers to typed sample buffers (agent/input/sample-buffer.ts,
 * kept across windows, so a steady window allocates nothing per event) and bumps counters; every
 * feature is computed once, at flush. A window opens at its first event and is due after `windowSeconds` of
 * wall-clock time or `windowKeystrokes` completed keystrokes, whichever comes first. A window with
 * no events is never produced.
 *
 * Intervals are measured within a window only (the first key-down of a window has no flight).
 * Down-to-down intervals longer than FLIGHT_PAUSE_MS are pauses (thinking, reading), not typing
 * rhythm, and are left out of the flight distribution and the near-simultaneous shares. Pointer
 * intervals longer than MOVE_GAP_MS split movements and are left out of the interval statistics.
 * Key-event gap counts (coincident, short, fine) merge presses and releases by hook time; only
 * gaps under SHORT_GAP_MS matter to them, so pauses need no special case.
 *
 * Attribution counts (injected vs device input) come from a separate source with its own delivery
 * path, so they are tallied between takes rather than per window: a window carries what was
 * attributed since the previous one, and an event attributed a few ms after its window closed is
 * counted in the next. They are carried only once attribution runs (`attributionRunning`).
 */
import { pointerIntervalBucket, POINTER_INTERVAL_BUCKETS, WIDE_STEP_PX, type TimingWindow } from '../../common/timing';
import { assertNever } from '../../common/result';
import type { InputEvent } from './input-source';
import { AttributionTally, type AttributionCounts } from './attribution/attribution-source';
import { SampleBuffer } from './sample-buffer';
import { coefficientOfVariation, countBetween, distributionOf, gapCounts, round3, shareBelow } from './stats';

/** Down-to-down gaps above this (ms) are pauses, not flight. */
export const FLIGHT_PAUSE_MS = 2000;
/** Pointer-move gaps above this (ms) end a movement. */
export const MOVE_GAP_MS = 250;
/** Key-event gaps under this (ms) count as short: the only gaps a relay can close to a tie. */
export const SHORT_GAP_MS = 60;
/**
 * Key-event gaps up to this (ms) are a bunch: events a relay released together, whatever spacing
 * its server paces them out with (x11vnc at default settings spreads a bunch over 1-2 ms). 2 rather
 * than 3: on the tuning users, tools/tune-weights.ts reached a higher detection rate under the same
 * false-alarm limits (59.3 % against 57.4 %), as fewer of a fast typist's own gaps fall inside.
 */
export const BUNCH_GAP_MS = 2;
/** Key holds under this (ms) are compressed: shorter than a finger presses and lifts a key. */
export const COMPRESSED_HOLD_MS = 15;
/**
 * An event delivered this much later (ms) than the promptest one was caught in a local stall (a busy
 * machine): the gap it closes says nothing about the link, so it is left out of every key-gap count.
 */
export const STALL_DELIVERY_MS = 50;

export interface AggregatorLimits {
  readonly windowSeconds: number;
  readonly windowKeystrokes: number;
}

/** How the events' times were taken (agent/input/input-clock.ts): stored with each window. */
export interface AggregatorClock {
  /** Resolution of the event times, ms. */
  readonly resolutionMs: number;
}

export class Aggregator {
  private openedAt: number | null = null;
  private lastWallTime = 0;
  private hookStart = 0;
  private hookEnd = 0;
  private keyDowns = 0;
  private rollovers = 0;
  private lastDownTime: number | null = null;
  private readonly dwells = new SampleBuffer();
  private readonly flights = new SampleBuffer();
  /** Hook times of every key-down and key-up (coincidence counts, computed at flush). */
  private readonly keyEventTimes = new SampleBuffer();
  private moves = 0;
  private clicks = 0;
  private wheels = 0;
  private lastMoveTime: number | null = null;
  private readonly steps = new SampleBuffer();
  private readonly moveIntervals = new SampleBuffer();
  /**
   * Pointer updates per interval bucket, all and wide steps only (common/timing.ts): preallocated and
   * cleared in place, so counting adds no allocation to the input path.
   */
  private readonly updateIntervals = new Uint32Array(POINTER_INTERVAL_BUCKETS);
  private readonly wideStepIntervals = new Uint32Array(POINTER_INTERVAL_BUCKETS);
  /** Key events delivered late (STALL_DELIVERY_MS): counted, but kept out of the gap counts. */
  private stalledKeyEvents = 0;
  private compressedHolds = 0;
  private maxDeliveryDelay = 0;
  private stalledEvents = 0;
  private maxLoopDelay = 0;
  private readonly attribution = new AttributionTally();
  /** Whether windows carry attribution counts (set once the attribution source has started). */
  attributionRunning = false;

  constructor(
    private readonly limits: AggregatorLimits,
    private readonly clock: AggregatorClock = { resolutionMs: 1 },
  ) {}

  /**
   * Record how long the agent's event loop was blocked (ms), measured outside the hook path; the
   * window keeps the longest, and the detector skips a window whose loop stalled.
   */
  noteLoopDelay(delayMs: number): void {
    if (!this.isEmpty && delayMs > this.maxLoopDelay) this.maxLoopDelay = delayMs;
  }

  /**
   * Add one event seen at wall-clock `wallTime` (epoch ms), delivered `deliveryDelayMs` later than
   * the promptest event so far (the input clock's check; 0 when unknown). O(1).
   */
  accept(event: InputEvent, wallTime: number, deliveryDelayMs = 0): void {
    if (deliveryDelayMs > this.maxDeliveryDelay) this.maxDeliveryDelay = deliveryDelayMs;
    const stalled = deliveryDelayMs > STALL_DELIVERY_MS;
    if (stalled) this.stalledEvents++;
    const hookTime = event.kind === 'keystroke' ? event.upTime : event.time;
    if (this.openedAt === null) {
      this.openedAt = wallTime;
      this.hookStart = event.kind === 'keystroke' ? event.downTime : hookTime;
    }
    this.lastWallTime = wallTime;
    if (hookTime > this.hookEnd) this.hookEnd = hookTime;
    switch (event.kind) {
      case 'keyDown':
        this.keyDowns++;
        if (event.heldCount > 0) this.rollovers++;
        if (this.lastDownTime !== null) {
          const flight = event.time - this.lastDownTime;
          if (flight >= 0 && flight <= FLIGHT_PAUSE_MS) this.flights.push(flight);
        }
        this.lastDownTime = event.time;
        if (stalled) this.stalledKeyEvents++;
        else this.keyEventTimes.push(event.time);
        return;
      case 'keystroke':
        this.dwells.push(event.upTime - event.downTime);
        if (stalled) this.stalledKeyEvents++;
        else this.keyEventTimes.push(event.upTime);
        if (!stalled && event.upTime - event.downTime < COMPRESSED_HOLD_MS) this.compressedHolds++;
        return;
      case 'mouseMove':
        this.moves++;
        if (event.distance !== null) this.steps.push(event.distance);
        if (this.lastMoveTime !== null) {
          const interval = event.time - this.lastMoveTime;
          if (interval >= 0 && interval <= MOVE_GAP_MS) {
            this.moveIntervals.push(interval);
            if (event.distance !== null) {
              const bucket = pointerIntervalBucket(interval);
              this.updateIntervals[bucket]!++;
              if (event.distance >= WIDE_STEP_PX) this.wideStepIntervals[bucket]!++;
            }
          }
        }
        this.lastMoveTime = event.time;
        return;
      case 'click':
        this.clicks++;
        return;
      case 'wheel':
        this.wheels++;
        return;
      default:
        assertNever(event, 'input event');
    }
  }

  /** Add attributed counts towards the next window taken. O(1). */
  acceptAttribution(counts: AttributionCounts): void {
    this.attribution.addCounts(counts);
  }

  /** Whether the open window should be flushed now. */
  isDue(wallTime: number): boolean {
    if (this.openedAt === null) return false;
    return this.dwells.length >= this.limits.windowKeystrokes || wallTime - this.openedAt >= this.limits.windowSeconds * 1000;
  }

  /** Whether any event is waiting in the open window. */
  get isEmpty(): boolean {
    return this.openedAt === null;
  }

  /** Close the open window and return its features, or null when it saw no events. */
  take(): TimingWindow | null {
    const window = this.features(true);
    if (window !== null) this.reset();
    return window;
  }

  /**
   * The open window's features so far, leaving it open (for rolling decisions before it is due),
   * or null when it has no events.
   */
  peek(): TimingWindow | null {
    return this.features(false);
  }

  /** The open window's features; `closing` hands the attribution counts over to it. */
  private features(closing: boolean): TimingWindow | null {
    if (this.openedAt === null) return null;
    const dwells = this.dwells.view();
    const flights = this.flights.view();
    const moveIntervals = this.moveIntervals.view();
    let activeMs = 0;
    for (let i = 0; i < moveIntervals.length; i++) activeMs += moveIntervals[i]!;
    const gaps = gapCounts(this.keyEventTimes.view(), SHORT_GAP_MS, Math.max(BUNCH_GAP_MS, this.clock.resolutionMs));
    const attributed = !this.attributionRunning ? null : closing ? this.attribution.take() : this.attribution.current();
    const window: TimingWindow = {
      startedAt: this.openedAt,
      endedAt: this.lastWallTime,
      hookStart: this.hookStart,
      hookEnd: this.hookEnd,
      keys: {
        keystrokes: dwells.length,
        keyDowns: this.keyDowns,
        dwell: distributionOf(dwells),
        flight: distributionOf(flights),
        nearSimultaneous5: shareBelow(flights, 5),
        nearSimultaneous15: shareBelow(flights, 15),
        rolloverRate: this.keyDowns === 0 ? 0 : round3(this.rollovers / this.keyDowns),
        keyEvents: this.keyEventTimes.length + this.stalledKeyEvents,
        coincidentEvents: gaps.coincident,
        shortGaps: gaps.short,
        fineGaps: gaps.fine,
        oneMsGaps: gaps.oneMs,
        bunchedEvents: gaps.bunched,
        bunchRuns: gaps.bunchRuns,
        compressedHolds: this.compressedHolds,
        ...(attributed !== null ? { injectedKeyPresses: attributed.injectedKeyPresses, deviceKeyPresses: attributed.deviceKeyPresses } : {}),
      },
      mouse: {
        moves: this.moves,
        clicks: this.clicks,
        wheels: this.wheels,
        moveRateHz: activeMs === 0 ? 0 : round3(moveIntervals.length / (activeMs / 1000)),
        step: distributionOf(this.steps.view()),
        interval: distributionOf(moveIntervals),
        intervalCv: coefficientOfVariation(moveIntervals),
        coincidentMoves: countBetween(moveIntervals, 0, 0),
        fastMoves: countBetween(moveIntervals, 1, 2),
        updateIntervals: Array.from(this.updateIntervals),
        wideStepIntervals: Array.from(this.wideStepIntervals),
        ...(attributed !== null
          ? {
              injectedPointerEvents: attributed.injectedPointerEvents,
              devicePointerEvents: attributed.devicePointerEvents,
              injectedClicks: attributed.injectedClicks,
              deviceClicks: attributed.deviceClicks,
            }
          : {}),
      },
      clockResolutionMs: this.clock.resolutionMs,
      deliveryDelayMs: round3(this.maxDeliveryDelay),
      stalledEvents: this.stalledEvents,
      eventLoopDelayMs: round3(this.maxLoopDelay),
    };
    return window;
  }

  private reset(): void {
    this.openedAt = null;
    this.lastWallTime = 0;
    this.hookStart = 0;
    this.hookEnd = 0;
    this.keyDowns = 0;
    this.rollovers = 0;
    this.lastDownTime = null;
    this.dwells.clear();
    this.flights.clear();
    this.keyEventTimes.clear();
    this.moves = 0;
    this.clicks = 0;
    this.wheels = 0;
    this.lastMoveTime = null;
    this.steps.clear();
    this.moveIntervals.clear();
    this.updateIntervals.fill(0);
    this.wideStepIntervals.fill(0);
    this.stalledKeyEvents = 0;
    this.compressedHolds = 0;
    this.maxDeliveryDelay = 0;
    this.stalledEvents = 0;
    this.maxLoopDelay = 0;
  }
}
