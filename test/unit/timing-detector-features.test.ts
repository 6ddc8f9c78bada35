import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Distribution, TimingWindow } from '../../common/timing';
import { initialBaseline } from '../../agent/timing-detector/baseline-model';
import { FEATURE_WEIGHTS, FEATURES, poolWindows, POPULATION_POINTER_WEIGHT, rawValue, scoredValue } from '../../agent/timing-detector/features';
import { RollingWindows } from '../../agent/timing-detector/rolling';
import { effectiveThreshold, explainScore, formatValue, normalQuantile, rateZ, scorePool, Z_CAP } from '../../agent/timing-detector/scorer';
import { TEST_PRIOR } from '../helpers/test-prior';

function dist(n: number, median: number, iqr: number): Distribution {
  return { n, median, iqr, p5: median - iqr, p95: median + iqr };
}

function window(options: {
  hookEnd?: number;
  keystrokes?: number;
  dwellIqr?: number;
  moves?: number;
  rateHz?: number;
  step?: number;
  interval?: number;
  /** Key-event gap counts [coincident, short, fine, one ms (default: = fine)]; absent = a window stored before they existed. */
  /** ties, short gaps, 2-9 ms gaps, 1 ms gaps (default: the 2-9 count), bunched (default: the ties), bunch runs (default 0). */
  gaps?: readonly [number, number, number, number?, number?, number?];
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
      nearSimultaneous15: 0,
      rolloverRate: 0,
      ...(options.gaps ? { keyEvents: 2 * keystrokes, coincidentEvents: options.gaps[0], shortGaps: options.gaps[1], fineGaps: options.gaps[2], oneMsGaps: options.gaps[3] ?? options.gaps[2], bunchedEvents: options.gaps[4] ?? options.gaps[0], bunchRuns: options.gaps[5] ?? 0 } : {}),
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

const PRIOR = TEST_PRIOR;

describe('timing-detector features', () => {
  it('pools windows weighted by their sample counts', () => {
    // ns15: (0.1 * 99 + 0.0 * 49) / 148; dwell IQR: (20 * 100 + 50 * 50) / 150 = 30.
    const pool = poolWindows([window({ keystrokes: 100, dwellIqr: 20 }), window({ keystrokes: 50, dwellIqr: 50 })]);
    assert.equal(pool.keystrokes, 150);
    assert.equal(pool.flights, 148);
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
    const ties = FEATURES.find((f) => f.id === 'coincidence')!;
    assert.equal(scoredValue(ties, 0.25), 0.25, 'a rate is scored as is');
  });

  it('scores by the baseline: z per feature in the relay direction, clipped, weighted, summed', () => {
    const baseline = initialBaseline(PRIOR);
    // Dwell IQR 128 ms: log2 = 7, z = (7 - 5) / 0.5 = 4, weight 1.
    // Ties: 6 in 100 short gaps against the usual 0.02 -> z = 2.1309 (see the Poisson test below), weight FEATURE_WEIGHTS.coincidence.
    // Bunches: 20 in 100 short gaps against the usual 0.05 + 0.03: z = rateZ(20, 100, 0.08), weight FEATURE_WEIGHTS.bunching.
    const pool = poolWindows([window({ keystrokes: 200, dwellIqr: 128, gaps: [6, 100, 10, 10, 20] })]);
    const [keys] = scorePool(pool, baseline, { keys: 6, mouse: 6 });
    const zBunches = keys!.contributions.find((c) => c.feature === 'bunching')!.z;
    assert.ok(Math.abs(zBunches - rateZ(20, 100, 0.08)) < 1e-9 && zBunches > 2, `z ${zBunches}`);
    assert.equal(keys!.modality, 'keys');
    const zTies = keys!.contributions.find((c) => c.feature === 'coincidence')!.z;
    assert.ok(Math.abs(zTies - 2.1309) < 1e-3);
    assert.ok(Math.abs(keys!.contributions.find((c) => c.feature === 'dwellSpread')!.z - 4) < 1e-9);
    // The test window's p5 is median - IQR = -38 ms, floored at 1 ms: 1/90 of the median, z far past the cap.
    assert.ok(keys!.contributions.find((c) => c.feature === 'shortHolds')!.z > Z_CAP);
    const tieWeight = FEATURE_WEIGHTS.coincidence;
    assert.ok(Math.abs(keys!.score - (tieWeight * zTies + FEATURE_WEIGHTS.bunching * zBunches + 4 + 0.5 * Z_CAP)) < 1e-9);
    assert.equal(keys!.threshold, 9, 'a new device alarms at 1.5 x the plain threshold');
    assert.equal(keys!.alarm, true, `score ${keys!.score} >= 9`);
    // The same ties with ordinary holds (IQR 32 ms, p5 at 58/90 of the median: both under the prior): under 9, no alarm on a new device.
    const [calmer] = scorePool(poolWindows([window({ keystrokes: 200, dwellIqr: 32, gaps: [6, 100, 10] })]), baseline);
    assert.ok(Math.abs(calmer!.score - tieWeight * zTies) < 1e-9);
    assert.equal(calmer!.alarm, false);
  });

  it('keeps the population-compared pointer features as evidence without scoring them', () => {
    const baseline = initialBaseline(PRIOR);
    // A 16 Hz sender with 32 px steps, 1024 ms apart: far from the prior on rate, step and interval,
    // yet without interval histograms there is no report-period evidence, so nothing counts.
    const relayed = scorePool(poolWindows([window({ moves: 101, rateHz: 16, step: 32, interval: 1024 })]), baseline)[0]!;
    assert.equal(relayed.score, 0);
    assert.equal(relayed.contributions.find((c) => c.feature === 'moveRate')!.z, 3, 'the z is still shown: (7 - 4) / 1');
    assert.equal(relayed.contributions.find((c) => c.feature === 'stepSize')!.z, 4);
    for (const id of ['moveRate', 'stepSize', 'moveInterval', 'pointerSpeed'] as const) {
      assert.equal(FEATURES.find((f) => f.id === id)!.weight, POPULATION_POINTER_WEIGHT);
    }
    assert.equal(POPULATION_POINTER_WEIGHT, 0);
  });

  it('ignores movement against the relay direction and caps each feature', () => {
    const baseline = initialBaseline(PRIOR);
    // Ties: 60 of 200 updates in one millisecond, none 1-2 ms apart, against the usual 0 + 0.02: far past the cap.
    const bunched = scorePool(poolWindows([{ ...window({ moves: 201, interval: 8 }), mouse: { ...window({ moves: 201 }).mouse, coincidentMoves: 60, fastMoves: 0 } }]), baseline)[0]!;
    assert.equal(bunched.contributions.find((c) => c.feature === 'pointerCoincidence')!.z, Z_CAP);
    assert.equal(bunched.score, Z_CAP);
    // None: below the usual rate, a z of 0 and nothing added.
    const calm = scorePool(poolWindows([{ ...window({ moves: 201, interval: 8 }), mouse: { ...window({ moves: 201 }).mouse, coincidentMoves: 0, fastMoves: 0 } }]), baseline)[0]!;
    assert.equal(calm.score, 0);
    assert.equal(calm.local, true);
  });

  it('reads the shortest holds relative to the median hold, pooled by keystrokes', () => {
    // dist(): p5 = median - iqr. Window 1: median 90, p5 50 (n 100); window 2: median 90, p5 10 (n 50).
    const pool = poolWindows([window({ keystrokes: 100, dwellIqr: 40 }), window({ keystrokes: 50, dwellIqr: 80 })]);
    assert.equal(pool.dwellP5, (50 * 100 + 10 * 50) / 150);
    const shortHolds = FEATURES.find((f) => f.id === 'shortHolds')!;
    assert.deepEqual(shortHolds.read(pool), { value: pool.dwellP5! / 90, samples: 150 });
    assert.equal(shortHolds.direction, -1, 'a relay shortens the shortest holds');
    // Against the test prior (center log2 0.5 = -1, spread 0.2): p5 at a quarter of the median is
    // log2 0.25 = -2, z = 5, weighted 0.5 in the score.
    const [keys] = scorePool(poolWindows([window({ keystrokes: 200, dwellIqr: 67.5 })]), initialBaseline(PRIOR));
    const c = keys!.contributions.find((x) => x.feature === 'shortHolds')!;
    assert.ok(Math.abs(c.z - (-1 - Math.log2(22.5 / 90)) / 0.3) < 1e-9, `z ${c.z}`);
  });

  it('reads pointer ties only where the device is not itself a 1000 Hz-or-faster one', () => {
    const spec = FEATURES.find((f) => f.id === 'pointerCoincidence')!;
    const pool = (ties: number, fast: number, moves = 201) => {
      const w = window({ moves, rateHz: 125, step: 4, interval: 8 });
      return poolWindows([{ ...w, mouse: { ...w.mouse, coincidentMoves: ties, fastMoves: fast } }]);
    };
    assert.deepEqual(spec.read(pool(60, 2)), { value: 60 / 200, samples: 200 }, 'relayed: ties far outnumber 1-2 ms gaps');
    assert.equal(spec.read(pool(30, 500)), null, 'a 1000 Hz device: its 1 ms gaps outnumber its ties');
    assert.equal(spec.read(pool(0, 0)), null, 'a 125 Hz device with no ties: nothing to read');
    assert.equal(spec.read(pool(40, 0, 30)), null, 'too few pointer intervals');
    // 60 ties in 200 intervals against a usual rate of 0.02: far past the cap, weight 1.
    const [mouse] = scorePool(pool(60, 2), initialBaseline(PRIOR));
    assert.equal(mouse!.contributions.find((c) => c.feature === 'pointerCoincidence')!.z, Z_CAP);
  });

  it('pools key-event gap counts, and windows stored before them count as none', () => {
    const pool = poolWindows([window({ keystrokes: 60, gaps: [3, 40, 5] }), window({ keystrokes: 60, gaps: [1, 20, 0] }), window({ keystrokes: 60 })]);
    assert.deepEqual([pool.coincidentEvents, pool.shortGaps, pool.fineGaps], [4, 60, 5]);
    const coincidence = FEATURES.find((f) => f.id === 'coincidence')!;
    assert.deepEqual(coincidence.read(pool), { value: 4 / 60, samples: 60 });
    // No 1 ms (or 2-9 ms) gap at all: a coarse clock, where ties mean nothing; too few short gaps: unread.
    assert.equal(coincidence.read(poolWindows([window({ keystrokes: 60, gaps: [10, 40, 0] })])), null);
    // 2-9 ms gaps but none of exactly 1 ms: a keyboard polled every few ms (125 Hz: 7-9 ms), whose ties are its clock.
    assert.equal(coincidence.read(poolWindows([window({ keystrokes: 60, gaps: [10, 40, 5, 0] })])), null);
    assert.equal(coincidence.read(poolWindows([window({ keystrokes: 60, gaps: [5, 9, 3] })])), null);
    assert.equal(coincidence.read(poolWindows([window({ keystrokes: 60 })])), null);
  });

  it('scores a coincidence rate by its one-sided Poisson tail against the usual rate plus one spread', () => {
    // P(X >= 3 | mean 1) = 1 - e^-1 (1 + 1 + 1/2) = 0.080301; z = Phi^-1(1 - 0.080301) = 1.4030.
    assert.ok(Math.abs(rateZ(3, 50, 0.02) - 1.403) < 1e-3);
    assert.equal(rateZ(1, 50, 0.02), 0, 'at or below the expected count: no evidence');
    assert.equal(rateZ(0, 0, 0.02), 0);
    assert.equal(rateZ(200, 300, 0.02), Z_CAP, 'an underflowing tail is capped, never infinite');
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
    // In the scorer: prior center 0, spread 0.02 -> usual rate 0.02; 6 ties in 100 short gaps:
    // P(X >= 6 | mean 2) = 1 - e^-2 (1 + 2 + 2 + 4/3 + 2/3 + 4/15) = 0.016564 -> z = 2.1309.
    const [keys] = scorePool(poolWindows([window({ keystrokes: 60, gaps: [6, 100, 10] })]), initialBaseline(PRIOR));
    const z = keys!.contributions.find((c) => c.feature === 'coincidence')!.z;
    assert.ok(Math.abs(z - 2.1309) < 1e-3, `z ${z}`);
  });

  it('raises the threshold on a new device and lowers it linearly to the plain one as the baseline learns', () => {
    assert.equal(effectiveThreshold(6, 0, 1.5), 9);
    assert.equal(effectiveThreshold(6, 5, 1.5), 7.5);
    assert.equal(effectiveThreshold(6, 10, 1.5), 6);
    assert.equal(effectiveThreshold(6, 500, 1.5), 6);
    assert.equal(effectiveThreshold(6, 0, 1), 6, 'pointer motion: no cold factor');
  });

  it('does not score a modality with too few samples', () => {
    assert.deepEqual(scorePool(poolWindows([window({ keystrokes: 10, dwellIqr: 400, gaps: [9, 9, 3] })]), initialBaseline(PRIOR)), []);
  });

  it('explains which features moved and by how much', () => {
    // 30 ties (also bunches) in 200 short gaps (15%): ties against a usual 0% at the cap, listed first;
    // bunches against a usual 5%; hold-time spread 40 ms vs 32: z 0.64, not listed.
    const score = scorePool(poolWindows([window({ keystrokes: 200, dwellIqr: 40, gaps: [30, 200, 20] })]), initialBaseline(PRIOR))[0]!;
    const text = explainScore(score, true);
    assert.match(
      text,
      /^key events arriving in the same millisecond \(share of gaps under 60 ms\) 15% vs your usual 0\.0%; key events arriving in bunches, at most 2 ms apart \(share of gaps under 60 ms\) 15% vs your usual 5\.0%$/,
    );
    assert.match(explainScore(score, false), /vs a typical 5\.0%$/);
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
