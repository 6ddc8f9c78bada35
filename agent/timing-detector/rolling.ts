/**
 * A rolling span of flushed windows, keyed on the hook's own clock: the detector scores the last
 * ROLLING_MS of input as one pool, so a 60-second decision rests on every window in that minute
 * however the aggregator happened to cut them.
 */
import type { TimingWindow } from '../../common/timing';
import { poolWindows, type PooledWindow } from './features';

/** The span a decision covers, ms of hook time. */
export const ROLLING_MS = 60_000;

export class RollingWindows {
  private windows: TimingWindow[] = [];

  constructor(private readonly spanMs = ROLLING_MS) {}

  /**
   * Add a window and drop those that ended more than the span before it. A hook clock that runs
   * backwards (X server restarted, 32-bit wrap) starts the span afresh.
   */
  add(window: TimingWindow): PooledWindow {
    const last = this.windows[this.windows.length - 1];
    if (last !== undefined && window.hookEnd < last.hookEnd) this.windows = [];
    this.windows.push(window);
    const from = window.hookEnd - this.spanMs;
    this.windows = this.windows.filter((w) => w.hookEnd > from);
    return poolWindows(this.windows);
  }

  /**
   * The pool the span would give if `open` (a window still being filled) were added, without adding
   * it: a rolling decision before the window is due.
   */
  peekWith(open: TimingWindow): PooledWindow {
    const last = this.windows[this.windows.length - 1];
    const kept = last !== undefined && open.hookEnd < last.hookEnd ? [] : this.windows;
    const from = open.hookEnd - this.spanMs;
    return poolWindows([...kept.filter((w) => w.hookEnd > from), open]);
  }

  clear(): void {
    this.windows = [];
  }

  get size(): number {
    return this.windows.length;
  }
}
