/**
 * How long the agent's event loop stalled while a timing window was open, without waking an agent
 * that input is already waking.
 *
 * The probe keeps a deadline `resolutionMs` after the last loop turn it saw; the next turn measures
 * how late it came against that deadline. Turns are the input events themselves (`touch`, called
 * from the hook path, which runs once per event anyway) and, when input pauses, the probe's own
 * timer, armed for the deadline. While input flows faster than every resolutionMs / 2, the timer is
 * pushed back before it fires, so it costs no wake-ups: node's monitorEventLoopDelay, which this
 * replaces, woke the loop 50 times a second on top of the input. In a pause the probe is that
 * monitor (one timer every resolutionMs, lateness against its due time). While input flows a stall
 * of X ms reads as X − resolutionMs plus the spacing of the events, where the monitor read it as
 * anything in (X − resolutionMs, X]: both stay within one resolution of the truth.
 */

/** The probe's deadline after each turn, and its timer period in a pause, ms. */
export const LOOP_PROBE_RESOLUTION_MS = 20;

export class LoopStallProbe {
  private timer: NodeJS.Timeout | null = null;
  private lastTurn = 0;
  private armedAt = 0;
  private longest = 0;
  private turns = 0;
  private readonly onTimer = (): void => {
    this.timer = null;
    const now = this.now();
    this.turn(now);
    this.arm(now);
  };

  constructor(
    private readonly resolutionMs = LOOP_PROBE_RESOLUTION_MS,
    /** Monotonic ms clock (a seam for tests). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether the probe is watching (started and not stopped). */
  get isRunning(): boolean {
    return this.timer !== null;
  }

  /** Start watching from now. Idempotent. */
  start(): void {
    if (this.timer !== null) return;
    const now = this.now();
    this.lastTurn = now;
    this.arm(now);
  }

  /** A loop turn the caller is making anyway (an input event), at monotonic `nowMs`. O(1). */
  touch(nowMs: number): void {
    if (this.timer === null) return;
    this.turn(nowMs);
    // Push the timer back only every half resolution: often enough that flowing input keeps it
    // from firing, rarely enough that most events pay one comparison.
    if (nowMs - this.armedAt >= this.resolutionMs / 2) this.arm(nowMs);
  }

  /** The longest stall since the last take, ms (0 when none), or null when no turn was measured. */
  take(): number | null {
    if (this.turns === 0) return null;
    const longest = this.longest;
    this.longest = 0;
    this.turns = 0;
    return longest;
  }

  /** Stop watching and forget what was measured. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.longest = 0;
    this.turns = 0;
  }

  private turn(nowMs: number): void {
    const late = nowMs - this.lastTurn - this.resolutionMs;
    if (late > this.longest) this.longest = late;
    this.turns++;
    this.lastTurn = nowMs;
  }

  private arm(nowMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedAt = nowMs;
    this.timer = setTimeout(this.onTimer, this.resolutionMs);
    // Never what keeps the agent alive.
    this.timer.unref();
  }
}
