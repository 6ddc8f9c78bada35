/**
 * How long the agent's event loop stalled while a timing window was open, without waking an agent
 * that input is already waking.
 *
 * Two witnesses, one per state of the input:
 *
 * - In a pause, the probe's own timer every `resolutionMs` (node's monitorEventLoopDelay at 20 ms,
 *   which this replaces): a stall reads as how late the timer ran.
 * - While input flows, the events themselves: each comes with its delivery delay, how much later
 *   than the promptest event the agent handled it (the input clock's check,
 *   agent/input/input-clock.ts). An event the loop could not take for S ms arrives S ms late, so a
 *   stall while input flows reads as the delay of the first event after it.
 *
 * Input flows when an event came within `resolutionMs` of two timer turns in a row (pointer motion
 * does; typing alone mostly does not, and keeps the timer at `resolutionMs`). One turn is not enough:
 * a key tap's down and up handled together look recent to the next turn, and libuv arms a timer
 * from the loop's cached time, so that turn can come a few ms early by the monotonic clock. Once
 * input flows, the timer only checks, every `flowCheckMs`, whether it still does, and its own
 * lateness counts too; a stall inside a pause shorter than that check, in which no event arrives,
 * goes unseen unless the check falls in it. Events never touch the timer: pushing a node timer back does not move the
 * libuv timer under it, which still wakes the loop at the old due time, so a timer pushed back on
 * every event woke the loop as often as a periodic one (measured under the bench's injected input:
 * about 40 extra wake-ups a second and twice the bare hook's CPU per event).
 */

/** The timer's period in a pause, ms. */
export const LOOP_PROBE_RESOLUTION_MS = 20;
/** The timer's period while input flows, ms: only to notice that input stopped. */
export const LOOP_PROBE_FLOW_CHECK_MS = 500;

export class LoopStallProbe {
  private timer: NodeJS.Timeout | null = null;
  private dueAt = 0;
  private longest = 0;
  private readings = 0;
  /** When the latest event was handled (monotonic ms). */
  private lastTouch = -Infinity;
  /** Whether an event came within a resolution of the previous timer turn. */
  private recentAtLastTurn = false;
  private readonly onTimer = (): void => {
    this.timer = null;
    const now = this.now();
    this.read(Math.max(0, now - this.dueAt));
    // Flowing: events came near this turn and the one before, so they, not the timer, watch the loop.
    const recent = now - this.lastTouch < this.resolutionMs;
    const flowing = recent && this.recentAtLastTurn;
    this.recentAtLastTurn = recent;
    this.arm(now, flowing ? this.flowCheckMs : this.resolutionMs);
  };

  constructor(
    private readonly resolutionMs = LOOP_PROBE_RESOLUTION_MS,
    /** Monotonic ms clock (a seam for tests). */
    private readonly now: () => number = () => performance.now(),
    private readonly flowCheckMs = LOOP_PROBE_FLOW_CHECK_MS,
  ) {}

  /** Whether the probe is watching (started and not stopped). */
  get isRunning(): boolean {
    return this.timer !== null;
  }

  /** Start watching from now. Idempotent. */
  start(): void {
    if (this.timer !== null) return;
    this.lastTouch = -Infinity;
    this.recentAtLastTurn = false;
    this.arm(this.now(), this.resolutionMs);
  }

  /**
   * An input event handled now, `deliveryDelayMs` later than the promptest one (0 when unknown).
   * O(1), one monotonic clock read and no timer call: it runs once per raw event.
   */
  touch(deliveryDelayMs = 0): void {
    if (this.timer === null) return;
    this.lastTouch = this.now();
    this.read(deliveryDelayMs);
  }

  /** The longest stall since the last take, ms (0 when none), or null when nothing was measured. */
  take(): number | null {
    if (this.readings === 0) return null;
    const longest = this.longest;
    this.longest = 0;
    this.readings = 0;
    return longest;
  }

  /** Stop watching and forget what was measured. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.longest = 0;
    this.readings = 0;
  }

  private read(lateMs: number): void {
    if (lateMs > this.longest) this.longest = lateMs;
    this.readings++;
  }

  private arm(nowMs: number, delayMs: number): void {
    this.dueAt = nowMs + delayMs;
    this.timer = setTimeout(this.onTimer, delayMs);
    // Never what keeps the agent alive.
    this.timer.unref();
  }
}
