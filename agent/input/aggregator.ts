/**
 * The aggregator: InputEvents in, TimingWindows out.
 *
 * The hot path (`accept`) only appends numbers to arrays and bumps counters; every feature is
 * computed once, at flush. A window opens at its first event and is due after `windowSeconds` of
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
import type { TimingWindow } from '../../common/timing';
import { assertNever } from '../../common/result';
import type { InputEvent } from './input-source';
import { AttributionTally, type AttributionCounts } from './attribution/attribution-source';
import { coefficientOfVariation, countBetween, distributionOf, gapCounts, round3, shareBelow } from './stats';

/** Down-to-down gaps above this (ms) are pauses, not flight. */
export const FLIGHT_PAUSE_MS = 2000;
/** Pointer-move gaps above this (ms) end a movement. */
export const MOVE_GAP_MS = 250;
/** Key-event gaps under this (ms) count as short: the only gaps a relay can close to a tie. */
export const SHORT_GAP_MS = 60;

export interface AggregatorLimits {
  readonly windowSeconds: number;
  readonly windowKeystrokes: number;
}

export class Aggregator {
  private openedAt: number | null = null;
  private lastWallTime = 0;
  private hookStart = 0;
  private hookEnd = 0;
  private keyDowns = 0;
  private rollovers = 0;
  private lastDownTime: number | null = null;
  private dwells: number[] = [];
  private flights: number[] = [];
  /** Hook times of every key-down and key-up (coincidence counts, computed at flush). */
  private keyEventTimes: number[] = [];
  private moves = 0;
  private clicks = 0;
  private wheels = 0;
  private lastMoveTime: number | null = null;
  private steps: number[] = [];
  private moveIntervals: number[] = [];
  private readonly attribution = new AttributionTally();
  /** Whether windows carry attribution counts (set once the attribution source has started). */
  attributionRunning = false;

  constructor(private readonly limits: AggregatorLimits) {}

  /** Add one event seen at wall-clock `wallTime` (epoch ms). O(1). */
  accept(event: InputEvent, wallTime: number): void {
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
        this.keyEventTimes.push(event.time);
        return;
      case 'keystroke':
        this.dwells.push(event.upTime - event.downTime);
        this.keyEventTimes.push(event.upTime);
        return;
      case 'mouseMove':
        this.moves++;
        if (event.distance !== null) this.steps.push(event.distance);
        if (this.lastMoveTime !== null) {
          const interval = event.time - this.lastMoveTime;
          if (interval >= 0 && interval <= MOVE_GAP_MS) this.moveIntervals.push(interval);
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
    if (this.openedAt === null) return null;
    let activeMs = 0;
    for (const interval of this.moveIntervals) activeMs += interval;
    const gaps = gapCounts(this.keyEventTimes, SHORT_GAP_MS);
    const attributed = this.attributionRunning ? this.attribution.take() : null;
    const window: TimingWindow = {
      startedAt: this.openedAt,
      endedAt: this.lastWallTime,
      hookStart: this.hookStart,
      hookEnd: this.hookEnd,
      keys: {
        keystrokes: this.dwells.length,
        keyDowns: this.keyDowns,
        dwell: distributionOf(this.dwells),
        flight: distributionOf(this.flights),
        nearSimultaneous5: shareBelow(this.flights, 5),
        nearSimultaneous15: shareBelow(this.flights, 15),
        rolloverRate: this.keyDowns === 0 ? 0 : round3(this.rollovers / this.keyDowns),
        keyEvents: this.keyEventTimes.length,
        coincidentEvents: gaps.coincident,
        shortGaps: gaps.short,
        fineGaps: gaps.fine,
        oneMsGaps: gaps.oneMs,
        ...(attributed !== null ? { injectedKeyPresses: attributed.injectedKeyPresses, deviceKeyPresses: attributed.deviceKeyPresses } : {}),
      },
      mouse: {
        moves: this.moves,
        clicks: this.clicks,
        wheels: this.wheels,
        moveRateHz: activeMs === 0 ? 0 : round3(this.moveIntervals.length / (activeMs / 1000)),
        step: distributionOf(this.steps),
        interval: distributionOf(this.moveIntervals),
        intervalCv: coefficientOfVariation(this.moveIntervals),
        coincidentMoves: countBetween(this.moveIntervals, 0, 0),
        fastMoves: countBetween(this.moveIntervals, 1, 2),
        ...(attributed !== null
          ? {
              injectedPointerEvents: attributed.injectedPointerEvents,
              devicePointerEvents: attributed.devicePointerEvents,
              injectedClicks: attributed.injectedClicks,
              deviceClicks: attributed.deviceClicks,
            }
          : {}),
      },
    };
    this.reset();
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
    this.dwells = [];
    this.flights = [];
    this.keyEventTimes = [];
    this.moves = 0;
    this.clicks = 0;
    this.wheels = 0;
    this.lastMoveTime = null;
    this.steps = [];
    this.moveIntervals = [];
  }
}
