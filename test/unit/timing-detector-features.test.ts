import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Distribution, TimingWindow } from '../../common/timing';
import { initialBaseline, type PopulationPrior } from '../../agent/timing-detector/baseline-model';
import { FEATURES, poolWindows, rawValue, scoredValue } from '../../agent/timing-detector/features';
import { RollingWindows } from '../../agent/timing-detector/rolling';
import { explainScore, formatValue, scorePool, Z_CAP } from '../../agent/timing-detector/scorer';

function dist(n: number, median: number, iqr: number): Distribution {
  return { n, median, iqr, p5: median - iqr, p95: median + iqr };
}

function window(options: {
  hookEnd?: number;
  keystrokes?: number;
  ns15?: number;
  dwellIqr?: number;
  moves?: number;
  rateHz?: number;
  step?: number;
  interval?: number;
}): TimingWindow {
  const keystrokes = options.keystrokes ?? 0;
  const moves = options.moves ?? 0;
  return {
    startedAt: 0,
    endedAt: 0,
    hookStart: (options.hookEnd ?? 30_000) - 30_000,
    hookEnd: options.hookEnd ?? 30_000,
    keys: {
      keystrokes,
      keyDowns: keystrokes,
      dwell: keystrokes ? dist(keystrokes, 90, options.dwellIqr ?? 40) : null,
      flight: keystrokes ? dist(keystrokes - 1, 170, 100) : null,
      nearSimultaneous5: 0,
      nearSimultaneous15: options.ns15 ?? 0,
      rolloverRate: 0,
    },
    mouse: {
      moves,
      clicks: 0,
      wheels: 0,
      moveRateHz: options.rateHz ?? 0,
      step: moves ? dist(moves, options.step ?? 2, 1) : null,
      interval: moves ? dist(moves - 1, options.interval ?? 8, 1) : null,
      intervalCv: null,
    },
  };
}

const PRIOR: PopulationPrior = {
  nearSimultaneous15: { center: 0.01, spread: 0.01 },
  dwellSpread: { center: 5, spread: 0.5 },
  moveRate: { center: 7, spread: 1 },
  stepSize: { center: 1, spread: 1 },
  moveInterval: { center: 2, spread: 1 },
  pointerSpeed: { center: 20, spread: 1 },
};

describe('timing-detector features', () => {
  it('pools windows weighted by their sample counts', () => {
    // ns15: (0.1 * 99 + 0.0 * 49) / 148; dwell IQR: (20 * 100 + 50 * 50) / 150 = 30.
    const pool = poolWindows([window({ keystrokes: 100, ns15: 0.1, dwellIqr: 20 }), window({ keystrokes: 50, ns15: 0, dwellIqr: 50 })]);
    assert.equal(pool.keystrokes, 150);
    assert.equal(pool.flights, 148);
    assert.ok(Math.abs(pool.nearSimultaneous15 - 9.9 / 148) < 1e-12);
    assert.equal(pool.dwellIqr, 30);
    assert.equal(pool.moveRateHz, null);
  });

  it('pools pointer features and ignores windows without pointer samples', () => {
    const pool = poolWindows([
      window({ moves: 101, rateHz: 100, step: 4, interval: 10 }),
      window({ moves: 301, rateHz: 500, step: 1, interval: 2 }),
      window({ keystrokes: 10 }),
    ]);
    assert.equal(pool.moveIntervals, 400);
    assert.equal(pool.moveRateHz, (100 * 100 + 500 * 300) / 400);
    // Step weights are step counts: (4 * 101 + 1 * 301) / 402.
    assert.equal(pool.stepMedian, (4 * 101 + 301) / 402);
    assert.equal(pool.intervalMedian, (10 * 100 + 2 * 300) / 400);
  });

  it('reads features in scored units (log2 for rates and sizes) and converts back', () => {
    const rate = FEATURES.find((f) => f.id === 'moveRate')!;
    assert.equal(scoredValue(rate, 128), 7);
    assert.equal(rawValue(rate, 7), 128);
    const share = FEATURES.find((f) => f.id === 'nearSimultaneous15')!;
    assert.equal(scoredValue(share, 0.25), 0.25);
  });

  it('scores by the baseline: z per feature in the relay direction, clipped, summed', () => {
    const baseline = initialBaseline(PRIOR);
    // 200 keystrokes, ns15 = 0.05: spread = sqrt(0.01^2 + 0.01 * 0.99 / 199); z = 0.04 / spread.
    // dwell IQR 64 ms: log2 = 6, z = (6 - 5) / 0.5 = 2.
    const pool = poolWindows([window({ keystrokes: 200, ns15: 0.05, dwellIqr: 64 })]);
    const [keys] = scorePool(pool, baseline, { keys: 6, mouse: 6 });
    assert.equal(keys!.modality, 'keys');
    const spread = Math.sqrt(0.01 ** 2 + (0.01 * 0.99) / 199);
    const zShare = 0.04 / spread;
    assert.ok(Math.abs(keys!.contributions.find((c) => c.feature === 'nearSimultaneous15')!.z - zShare) < 1e-9);
    assert.ok(Math.abs(keys!.contributions.find((c) => c.feature === 'dwellSpread')!.z - 2) < 1e-9);
    assert.ok(Math.abs(keys!.score - (zShare + 2)) < 1e-9);
    assert.equal(keys!.alarm, zShare + 2 >= 6);
  });

  it('ignores movement against the relay direction and caps each feature', () => {
    const baseline = initialBaseline(PRIOR);
    // Pointer: a 1000 Hz device (faster than usual: negative z, contributes 0), tiny steps, 1 ms apart.
    const local = scorePool(poolWindows([window({ moves: 501, rateHz: 1024, step: 0.5, interval: 1 })]), baseline)[0]!;
    assert.equal(local.score, 0);
    assert.equal(local.local, true);
    // A 16 Hz relay: log2 16 = 4, z = (7 - 4) / 1 = 3; step 32 px: z = (5 - 1) / 1 = 4;
    // 1024 ms between updates: log2 = 10, z = (10 - 2) / 1 = 8 = Z_CAP; 4096 ms would still count 8.
    const relayed = scorePool(poolWindows([window({ moves: 101, rateHz: 16, step: 32, interval: 1024 })]), baseline)[0]!;
    assert.equal(relayed.score, 3 + 4 + Z_CAP);
    const extreme = scorePool(poolWindows([window({ moves: 101, rateHz: 16, step: 32, interval: 4096 })]), baseline)[0]!;
    assert.equal(extreme.score, 3 + 4 + Z_CAP);
    assert.equal(relayed.alarm, true);
  });

  it('does not score a modality with too few samples', () => {
    assert.deepEqual(scorePool(poolWindows([window({ keystrokes: 10, ns15: 0.5 })]), initialBaseline(PRIOR)), []);
  });

  it('explains which features moved and by how much', () => {
    const score = scorePool(poolWindows([window({ keystrokes: 200, ns15: 0.18, dwellIqr: 40 })]), initialBaseline(PRIOR))[0]!;
    const text = explainScore(score, true);
    assert.match(text, /^near-simultaneous keys \(under 15 ms apart\) 18% vs your usual 1\.0%$/);
    assert.match(explainScore(score, false), /vs a typical 1\.0%/);
    assert.equal(formatValue(128, 'Hz'), '128 Hz');
    assert.equal(formatValue(0.05, '%'), '5.0%');
  });

  it('keeps a rolling 60 s of windows on the hook clock and restarts when the clock goes back', () => {
    const rolling = new RollingWindows(60_000);
    rolling.add(window({ hookEnd: 30_000, keystrokes: 50 }));
    rolling.add(window({ hookEnd: 60_000, keystrokes: 50 }));
    assert.equal(rolling.add(window({ hookEnd: 90_000, keystrokes: 50 })).keystrokes, 100);
    assert.equal(rolling.size, 2);
    assert.equal(rolling.add(window({ hookEnd: 5_000, keystrokes: 7 })).keystrokes, 7);
  });
});
