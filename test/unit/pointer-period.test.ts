import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { POINTER_INTERVAL_BUCKETS, POINTER_INTERVAL_FINE_MS, pointerBucketStartMs, pointerIntervalBucket, type TimingWindow } from '../../common/timing';
import { BASELINE_KEY, loadBaseline, saveBaseline } from '../../agent/store/baseline';
import { openDatabase } from '../../agent/store/database';
import { setValue } from '../../agent/store/kv';
import {
  deviceContext,
  initialBaseline,
  learnedPointerPeriodsMs,
  PROFILE_MAX_UPDATES,
  PROFILE_MIN_UPDATES,
  updateBaseline,
  updatePointerProfile,
} from '../../agent/timing-detector/baseline-model';
import {
  COALESCED_MIN_STEPS,
  coalesceLimitMs,
  coalescedCounts,
  COLD_DEVICE,
  COLD_POINTER_PERIOD_MS,
  FEATURES,
  judgedPeriodMs,
  poolWindows,
  reportPeriodsMs,
} from '../../agent/timing-detector/features';
import { ALARM_THRESHOLD, scorePool } from '../../agent/timing-detector/scorer';
import { TEST_PRIOR } from '../helpers/test-prior';

/** A pointer-interval histogram with the given bucket counts, zero elsewhere. */
function histogram(counts: Record<number, number>): number[] {
  return Array.from({ length: POINTER_INTERVAL_BUCKETS }, (_, bucket) => counts[bucket] ?? 0);
}

/** A 30 s pointer window: `all` updates and `wide` steps (3 px or more) per interval bucket. */
function pointerWindow(all: Record<number, number>, wide: Record<number, number>, hookEnd = 30_000): TimingWindow {
  const updates = Object.values(all).reduce((a, b) => a + b, 0);
  return {
    startedAt: hookEnd - 30_000,
    endedAt: hookEnd,
    hookStart: hookEnd - 30_000,
    hookEnd,
    keys: { keystrokes: 0, keyDowns: 0, dwell: null, flight: null, nearSimultaneous5: 0, nearSimultaneous15: 0, rolloverRate: 0 },
    mouse: {
      moves: updates + 1,
      clicks: 0,
      wheels: 0,
      moveRateHz: 100,
      step: { n: updates, median: 3, iqr: 2, p5: 1, p95: 8 },
      interval: { n: updates, median: 8, iqr: 1, p5: 7, p95: 9 },
      intervalCv: 0.1,
      coincidentMoves: 0,
      fastMoves: 0,
      updateIntervals: histogram(all),
      wideStepIntervals: histogram(wide),
    },
  };
}

// Shapes measured in the lab (bench:detect pointer rows): a 125 Hz mouse puts its updates, wide
// steps included, 7-9 ms apart; a 1000 Hz mouse 1-3 ms apart with steps under 3 px; TigerVNC
// relaying either sends wide steps 17-26 ms apart.
const LOCAL_125 = pointerWindow({ 7: 50, 8: 320, 9: 55, 16: 20, 33: 8 }, { 7: 30, 8: 215, 9: 31 });
const LOCAL_1000 = pointerWindow({ 1: 1100, 2: 410, 3: 140, 4: 80, 8: 10 }, {});
const RELAYED_125 = pointerWindow({ 22: 17, 23: 57, 24: 68, 25: 53, 26: 16 }, { 22: 15, 23: 47, 24: 58, 25: 49, 26: 14 });
const RELAYED_1000 = pointerWindow({ 16: 19, 17: 47, 18: 73, 19: 39, 20: 39 }, { 16: 18, 17: 39, 18: 69, 19: 33, 20: 31 });

describe('pointer report period', () => {
  it('buckets intervals by millisecond up to 32 ms, then two wide buckets', () => {
    assert.equal(pointerIntervalBucket(0), 0);
    assert.equal(pointerIntervalBucket(8.6), 8);
    assert.equal(pointerIntervalBucket(31), 31);
    assert.equal(pointerIntervalBucket(32), POINTER_INTERVAL_FINE_MS);
    assert.equal(pointerIntervalBucket(63), POINTER_INTERVAL_FINE_MS);
    assert.equal(pointerIntervalBucket(64), POINTER_INTERVAL_FINE_MS + 1);
    assert.equal(pointerIntervalBucket(250), POINTER_INTERVAL_BUCKETS - 1);
    assert.equal(pointerBucketStartMs(POINTER_INTERVAL_FINE_MS + 1), 64);
  });

  it('puts the coalescing limit at two periods and at least 3 ms past one', () => {
    assert.equal(coalesceLimitMs(1), 4);
    assert.equal(coalesceLimitMs(2), 5);
    assert.equal(coalesceLimitMs(4), 8);
    assert.equal(coalesceLimitMs(8), 16);
  });

  it("finds a histogram's report periods: buckets up to 9 ms holding a tenth of the updates, ties left out", () => {
    assert.deepEqual(reportPeriodsMs(LOCAL_125.mouse.updateIntervals!), [7, 8, 9], 'with its clock wobble');
    assert.deepEqual(reportPeriodsMs(LOCAL_1000.mouse.updateIntervals!), [1, 2], '3 ms holds under a tenth');
    assert.deepEqual(reportPeriodsMs(RELAYED_1000.mouse.updateIntervals!), [], 'a coalescing relay shows no device period');
    assert.deepEqual(reportPeriodsMs(histogram({ 0: 1000, 8: 5 })), [8], 'ties are the clock, not a period');
    assert.deepEqual(reportPeriodsMs(histogram({})), []);
  });

  it('judges against the slowest of the learned and the shown periods, capped at the cold bound', () => {
    assert.equal(judgedPeriodMs(null, COLD_DEVICE), COLD_POINTER_PERIOD_MS);
    assert.equal(judgedPeriodMs(RELAYED_1000.mouse.updateIntervals!, COLD_DEVICE), COLD_POINTER_PERIOD_MS);
    assert.equal(judgedPeriodMs(RELAYED_1000.mouse.updateIntervals!, { pointerPeriodsMs: [1, 2] }), 2, 'a learned 1000 Hz mouse sharpens the test');
    assert.equal(judgedPeriodMs(LOCAL_125.mouse.updateIntervals!, { pointerPeriodsMs: [1, 2] }), 8, 'its own touchpad in the span is not a relay');
    assert.equal(judgedPeriodMs(null, { pointerPeriodsMs: [20] }), COLD_POINTER_PERIOD_MS, 'never looser than the cold bound');
  });

  it('reads the share of wide steps arriving at or past the limit, and nothing under COALESCED_MIN_STEPS', () => {
    assert.deepEqual(coalescedCounts(histogram({ 8: 10, 16: 3, [POINTER_INTERVAL_FINE_MS]: 1 }), 16), { steps: 14, coalesced: 4 });
    const spec = FEATURES.find((f) => f.id === 'coalescedSteps')!;
    assert.deepEqual(spec.read(poolWindows([RELAYED_125])), { value: 1, samples: 183 });
    assert.deepEqual(spec.read(poolWindows([LOCAL_125])), { value: 0, samples: 276 });
    assert.equal(spec.read(poolWindows([LOCAL_1000])), null, 'a 1000 Hz mouse rarely steps 3 px: too few wide steps');
    assert.equal(spec.read(poolWindows([pointerWindow({ 20: COALESCED_MIN_STEPS - 1 }, { 20: COALESCED_MIN_STEPS - 1 })])), null);
    const stored = { ...RELAYED_125, mouse: { ...RELAYED_125.mouse, updateIntervals: undefined, wideStepIntervals: undefined } };
    assert.equal(spec.read(poolWindows([stored])), null, 'a window stored before the histograms existed is no evidence');
  });

  it('pools histograms bucket by bucket over the windows that carry them', () => {
    const pool = poolWindows([LOCAL_125, RELAYED_125]);
    assert.equal(pool.wideStepIntervals![8], 215);
    assert.equal(pool.wideStepIntervals![24], 58);
    assert.equal(pool.updateIntervals!.length, POINTER_INTERVAL_BUCKETS);
  });
});

describe('pointer profile learning', () => {
  it('learns the report period from the first local spans, and keeps a bounded memory', () => {
    assert.deepEqual(learnedPointerPeriodsMs(undefined), []);
    const first = updatePointerProfile(undefined, poolWindows([LOCAL_1000]))!;
    assert.ok(first.updates >= PROFILE_MIN_UPDATES);
    assert.deepEqual(learnedPointerPeriodsMs(first), [1, 2]);
    let profile = first;
    for (let i = 0; i < 40; i++) profile = updatePointerProfile(profile, poolWindows([LOCAL_125]))!;
    assert.ok(profile.updates <= PROFILE_MAX_UPDATES + 1e-6, `memory bounded: ${profile.updates}`);
    assert.deepEqual(learnedPointerPeriodsMs(profile), [7, 8, 9], 'a new device is learned within minutes of its motion');
    assert.equal(updatePointerProfile(profile, { updateIntervals: null, wideStepIntervals: null }), profile, 'no histogram, nothing learned');
  });

  it('updates the profile only with a pointer span that has pointer values', () => {
    const baseline = initialBaseline(TEST_PRIOR);
    const keysOnly = updateBaseline(baseline, { dwellSpread: 5 }, poolWindows([LOCAL_125]));
    assert.equal(keysOnly.pointer, undefined);
    const learned = updateBaseline(baseline, { coalescedSteps: 0 }, poolWindows([LOCAL_125]));
    assert.deepEqual(deviceContext(learned).pointerPeriodsMs, [7, 8, 9]);
    assert.deepEqual(deviceContext(baseline), COLD_DEVICE);
  });

  it('learning a local mouse does not hide a coalescing relay, and a second local device is not taken for one', () => {
    const cold = initialBaseline(TEST_PRIOR);
    const learn = (baseline: typeof cold, window: TimingWindow): typeof cold => {
      const pool = poolWindows([window]);
      const [score] = scorePool(pool, baseline);
      assert.equal(score!.local, true);
      return updateBaseline(baseline, score!.values, pool);
    };
    let warm1000 = cold;
    let warm125 = cold;
    for (let i = 0; i < 20; i++) {
      warm1000 = learn(warm1000, LOCAL_1000);
      warm125 = learn(warm125, LOCAL_125);
    }
    for (const baseline of [cold, warm1000, warm125]) {
      for (const relayed of [RELAYED_125, RELAYED_1000]) {
        const [score] = scorePool(poolWindows([relayed]), baseline);
        assert.ok(score!.alarm && score!.score >= ALARM_THRESHOLD.mouse, `relay alarms (score ${score!.score})`);
      }
      for (const local of [LOCAL_125, LOCAL_1000]) assert.equal(scorePool(poolWindows([local]), baseline)[0]!.alarm, false);
    }
  });

  it('stores the profile with the baseline and drops only a damaged profile', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-pointer-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const baseline = updateBaseline(initialBaseline(TEST_PRIOR), { coalescedSteps: 0 }, poolWindows([LOCAL_125]));
    saveBaseline(db, baseline);
    assert.deepEqual(loadBaseline(db), baseline);
    setValue(db, BASELINE_KEY, { ...baseline, pointer: { ...baseline.pointer!, updateIntervals: [1, 2, 3] } });
    const loaded = loadBaseline(db)!;
    assert.equal(loaded.pointer, undefined, 'a wrong-length profile is dropped');
    assert.deepEqual(loaded.features, baseline.features, 'the learned features are kept');
  });
});
