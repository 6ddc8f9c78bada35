/** A plausible stored TimingWindow for store and retention tests. */
import type { TimingWindow } from '../../common/timing';

export function sampleWindow(startedAt: number, keystrokes = 12): TimingWindow {
  return {
    startedAt,
    endedAt: startedAt + 1000,
    hookStart: 5000,
    hookEnd: 6000,
    keys: {
      keystrokes,
      keyDowns: keystrokes,
      dwell: { n: keystrokes, median: 91.5, iqr: 20, p5: 60, p95: 130 },
      flight: { n: keystrokes - 1, median: 180, iqr: 50, p5: 90, p95: 400 },
      nearSimultaneous5: 0,
      nearSimultaneous15: 0.05,
      rolloverRate: 0.1,
    },
    mouse: { moves: 0, clicks: 0, wheels: 0, moveRateHz: 0, step: null, interval: null, intervalCv: null },
  };
}
