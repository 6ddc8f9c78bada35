/**
 * Input-timing features: what leaves the hook boundary.
 *
 * These types are the whole of what Telltale keeps about typing and pointing. They carry times,
 * counts and distances only: never which key, never text, never absolute pointer coordinates.
 */

/** Summary of a sample of durations or distances. All values share the sample's unit. */
export interface Distribution {
  /** Number of samples. */
  readonly n: number;
  readonly median: number;
  /** Interquartile range, p75 - p25. */
  readonly iqr: number;
  readonly p5: number;
  readonly p95: number;
}

export interface KeyFeatures {
  /** Completed keystrokes (down paired with up) in the window. */
  readonly keystrokes: number;
  /** Key-down events, paired or not. */
  readonly keyDowns: number;
  /** Hold time, keydown to keyup of the same key, in ms. */
  readonly dwell: Distribution | null;
  /** Down-to-down interval between consecutive key-downs, in ms. */
  readonly flight: Distribution | null;
  /** Share of down-to-down intervals under 5 ms (0..1): arrivals bunched by a relay. */
  readonly nearSimultaneous5: number;
  /** Share of down-to-down intervals under 15 ms (0..1). */
  readonly nearSimultaneous15: number;
  /** Share of key-downs that happen while another key is held (0..1). */
  readonly rolloverRate: number;
  // Added later (optional on read: windows stored before them lack these). Counts over the key
  // events of the window (presses and releases merged, in hook-time order):
  /** Key events in the window: key-downs plus key-ups of completed keystrokes. */
  readonly keyEvents?: number;
  /** Consecutive key events with the same hook time (0 ms apart): arrivals bunched by a relay. */
  readonly coincidentEvents?: number;
  /** Consecutive key events under 60 ms apart (coincident ones included): where bunching can happen at all. */
  readonly shortGaps?: number;
  /** Consecutive key events 2-9 ms apart: only a clock finer than 10 ms produces them (a coarse clock makes ties of everything). */
  readonly fineGaps?: number;
  /**
   * Consecutive key events exactly 1 ms apart: only a clock that resolves 1 ms produces them. A USB
   * keyboard polled at 125, 250 or 500 Hz reports changes 8, 4 or 2 ms apart and puts every change
   * within one report on one timestamp, so its ties are its clock, not a relay.
   */
  readonly oneMsGaps?: number;
}

export interface MouseFeatures {
  /** Pointer-move events in the window. */
  readonly moves: number;
  readonly clicks: number;
  readonly wheels: number;
  /** Move events per second of active pointing (gaps over 250 ms excluded). */
  readonly moveRateHz: number;
  /** Euclidean distance between consecutive move events, in pixels. */
  readonly step: Distribution | null;
  /** Interval between consecutive move events within a movement, in ms. */
  readonly interval: Distribution | null;
  /** Coefficient of variation of those intervals: near 0 for a steady device clock. */
  readonly intervalCv: number | null;
  // Added later (optional on read: windows stored before them lack these). Counts over those intervals:
  /** Consecutive pointer updates with the same hook time (0 ms apart): updates bunched by a relay. */
  readonly coincidentMoves?: number;
  /** Consecutive pointer updates 1-2 ms apart: what a device reporting at 1000 Hz or faster mostly produces. */
  readonly fastMoves?: number;
}

/** One flushed aggregation window. */
export interface TimingWindow {
  /** Wall-clock epoch ms at the window's first and last event (for display and reports). */
  readonly startedAt: number;
  readonly endedAt: number;
  /** The hook's native event clock (X server ms on Linux) at the window's first and last event. */
  readonly hookStart: number;
  readonly hookEnd: number;
  readonly keys: KeyFeatures;
  readonly mouse: MouseFeatures;
}
