import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Aggregator, FLIGHT_PAUSE_MS } from '../../agent/input/aggregator';
import { POINTER_INTERVAL_BUCKETS, POINTER_INTERVAL_FINE_MS } from '../../common/timing';
import { FakeInputSource } from '../helpers/fake-input-source';

/** A pointer-interval histogram with the given bucket counts, zero elsewhere. */
function histogram(counts: Record<number, number>): number[] {
  return Array.from({ length: POINTER_INTERVAL_BUCKETS }, (_, bucket) => counts[bucket] ?? 0);
}

const LIMITS = { windowSeconds: 30, windowKeystrokes: 1000 };

async function rig(): Promise<{ source: FakeInputSource; aggregator: Aggregator; wall: { now: number } }> {
  const aggregator = new Aggregator(LIMITS);
  const source = new FakeInputSource();
  const wall = { now: 1_000_000 };
  const started = await source.start((event) => aggregator.accept(event, wall.now));
  assert.ok(started.ok);
  return { source, aggregator, wall };
}

describe('aggregator', () => {
  it('computes dwell, flight, near-simultaneous and rollover from known key timing', async () => {
    const { source, aggregator } = await rig();
    source.keyDown(30, 0);
    source.keyUp(30, 80);
    source.keyDown(48, 200);
    source.keyUp(48, 250);
    source.keyDown(46, 300);
    source.keyDown(46, 350); // auto-repeat: ignored
    source.keyDown(32, 400); // 46 held: rollover
    source.keyDown(33, 403); // 46 and 32 held: rollover; 3 ms after the previous down
    source.keyUp(46, 420);
    source.keyUp(32, 460);
    source.keyUp(33, 500);
    const window = aggregator.take();
    assert.ok(window);
    // dwells 80, 50, 120, 60, 97 -> sorted 50 60 80 97 120
    // flights 200, 100, 100, 3 -> sorted 3 100 100 200
    assert.deepEqual(window.keys, {
      keystrokes: 5,
      keyDowns: 5,
      dwell: { n: 5, median: 80, iqr: 37, p5: 52, p95: 115.4 },
      flight: { n: 4, median: 100, iqr: 49.25, p5: 17.55, p95: 185 },
      nearSimultaneous5: 0.25,
      nearSimultaneous15: 0.25,
      rolloverRate: 0.4,
      // key events 0 80 200 250 300 400 403 420 460 500: gaps 80 120 50 50 100 3 17 40 40
      keyEvents: 10,
      coincidentEvents: 0,
      shortGaps: 6,
      fineGaps: 1,
      oneMsGaps: 0,
      // the 3 ms gap (400 -> 403) is past the 2 ms bunch limit; no hold under 15 ms
      bunchedEvents: 0,
      bunchRuns: 0,
      compressedHolds: 0,
    });
    assert.equal(window.hookStart, 0);
    assert.equal(window.hookEnd, 500);
  });

  it('counts coincident, short and fine gaps over presses and releases merged by time', async () => {
    const { source, aggregator } = await rig();
    source.keyDown(30, 0);
    source.keyUp(30, 100);
    source.keyDown(31, 100); // same ms as the release before it: coincident
    source.keyDown(32, 100); // and again
    source.keyUp(31, 150);
    source.keyUp(32, 151); // 1 ms: short, neither coincident nor fine
    source.keyDown(33, 159); // 8 ms: fine
    source.keyUp(33, 260);
    source.keyDown(34, 320); // exactly 60 ms: not short
    source.keyUp(34, 322); // 2 ms: fine
    const window = aggregator.take();
    // times 0 100 100 100 150 151 159 260 320 322: gaps 100 0 0 50 1 8 101 60 2
    assert.equal(window?.keys.keyEvents, 10);
    assert.equal(window?.keys.coincidentEvents, 2);
    assert.equal(window?.keys.shortGaps, 6);
    assert.equal(window?.keys.fineGaps, 2);
    assert.equal(window?.keys.oneMsGaps, 1);
    source.tap(35, 1000, 1000 + 0);
    const next = aggregator.take();
    assert.equal(next?.keys.keyEvents, 2, 'a window counts only its own events');
    assert.equal(next?.keys.coincidentEvents, 1, 'a 0 ms keystroke ties its press and release');
  });

  it('counts bunches paced out over a few ms, runs of three, and compressed holds', async () => {
    const { source, aggregator } = await rig();
    // A relay released four events held behind a late one, paced about 1 ms apart by the server.
    source.keyDown(30, 0);
    source.keyUp(30, 100);
    source.keyDown(31, 101);
    source.keyUp(31, 103); // a 2 ms hold: compressed
    source.keyDown(32, 104);
    source.keyUp(32, 200); // 96 ms gap: the run ends
    source.keyDown(33, 203); // 3 ms: not a bunch
    source.keyUp(33, 300);
    const window = aggregator.take();
    // times 0 100 101 103 104 200 203 300: gaps 100 1 2 1 96 3 97
    assert.equal(window?.keys.bunchedEvents, 3);
    assert.equal(window?.keys.bunchRuns, 1, 'one run of four events counts once');
    assert.equal(window?.keys.compressedHolds, 1);
  });

  it('leaves gaps closed by a stalled delivery out of the key-gap counts and records the stall', async () => {
    const aggregator = new Aggregator(LIMITS);
    aggregator.accept({ kind: 'keyDown', time: 0, heldCount: 0 }, 1000);
    aggregator.accept({ kind: 'keystroke', downTime: 0, upTime: 90 }, 1000);
    // Received 200 ms late, together: their 0 ms gaps are the stall's, not the link's.
    aggregator.accept({ kind: 'keyDown', time: 90, heldCount: 0 }, 1000, 200);
    aggregator.accept({ kind: 'keyDown', time: 90, heldCount: 1 }, 1000, 200);
    aggregator.noteLoopDelay(180);
    const window = aggregator.take();
    assert.equal(window?.keys.keyEvents, 4);
    assert.equal(window?.keys.coincidentEvents, 0);
    assert.equal(window?.keys.bunchedEvents, 0);
    assert.equal(window?.keys.shortGaps, 0);
    assert.equal(window?.stalledEvents, 2);
    assert.equal(window?.deliveryDelayMs, 200);
    assert.equal(window?.eventLoopDelayMs, 180);
    assert.equal(window?.clockResolutionMs, 1);
  });

  it('leaves pauses out of the flight distribution', async () => {
    const { source, aggregator } = await rig();
    source.tap(30, 0, 50);
    source.tap(31, 150, 200);
    source.tap(32, 150 + FLIGHT_PAUSE_MS + 1, 2300); // a pause, not flight
    const window = aggregator.take();
    assert.deepEqual(window?.keys.flight, { n: 1, median: 150, iqr: 0, p5: 150, p95: 150 });
    assert.equal(window?.keys.keystrokes, 3);
  });

  it('computes pointer steps, intervals, rate and CV; counts clicks and wheels', async () => {
    const { source, aggregator } = await rig();
    source.move(0, 0, 1000);
    source.move(3, 4, 1010); // step 5, interval 10
    source.move(6, 8, 1020); // step 5, interval 10
    source.move(6, 20, 1035); // step 12, interval 15
    source.move(10, 23, 2000); // step 5; interval 965 > 250 ms: a new movement, not an interval
    source.press(2100);
    source.wheel(2200);
    const window = aggregator.take();
    assert.ok(window);
    // steps 5 5 12 5 -> sorted 5 5 5 12; intervals 10 10 15 (35 ms of movement, 3 intervals)
    // CV: mean 11.667, population sd 2.357 -> 0.202; rate 3 / 0.035 s = 85.714 Hz
    assert.deepEqual(window.mouse, {
      moves: 5,
      clicks: 1,
      wheels: 1,
      moveRateHz: 85.714,
      step: { n: 4, median: 5, iqr: 1.75, p5: 5, p95: 10.95 },
      interval: { n: 3, median: 10, iqr: 2.5, p5: 10, p95: 14.5 },
      intervalCv: 0.202,
      coincidentMoves: 0,
      fastMoves: 0,
      // Histograms by interval bucket: two 10 ms updates and one 15 ms, all steps of 3 px or more.
      updateIntervals: histogram({ 10: 2, 15: 1 }),
      wideStepIntervals: histogram({ 10: 2, 15: 1 }),
    });
    assert.equal(window.keys.dwell, null);
    assert.equal(window.keys.flight, null);
  });

  it('counts pointer updates per interval bucket, wide steps apart, and clears the counts for the next window', async () => {
    const { source, aggregator } = await rig();
    source.move(0, 0, 1000);
    source.move(1, 0, 1008); // 8 ms, step 1: an update, not a wide step
    source.move(4, 0, 1016); // 8 ms, step 3: wide
    source.move(24, 0, 1040); // 24 ms, step 20: wide
    source.move(24, 40, 1090); // 50 ms: the [32, 64) bucket
    source.move(24, 41, 1200); // 110 ms: the [64, 250] bucket, step 1
    const window = aggregator.take();
    assert.deepEqual(window?.mouse.updateIntervals, histogram({ 8: 2, 24: 1, [POINTER_INTERVAL_FINE_MS]: 1, [POINTER_INTERVAL_FINE_MS + 1]: 1 }));
    assert.deepEqual(window?.mouse.wideStepIntervals, histogram({ 8: 1, 24: 1, [POINTER_INTERVAL_FINE_MS]: 1 }));
    source.move(30, 41, 1300);
    source.move(31, 41, 1302);
    assert.deepEqual(aggregator.take()?.mouse.updateIntervals, histogram({ 2: 1 }), 'the next window starts from zero');
  });

  it('counts pointer updates in the same millisecond and 1-2 ms apart', async () => {
    const { source, aggregator } = await rig();
    source.move(0, 0, 1000);
    source.move(5, 0, 1000); // 0 ms: coincident
    source.move(10, 0, 1000); // 0 ms: coincident
    source.move(11, 0, 1001); // 1 ms: fast
    source.move(12, 0, 1003); // 2 ms: fast
    source.move(13, 0, 1006); // 3 ms: neither
    source.move(20, 0, 1500); // 494 ms: a new movement, not an interval
    source.move(25, 0, 1500); // 0 ms: coincident
    const window = aggregator.take();
    assert.equal(window?.mouse.interval?.n, 6);
    assert.equal(window?.mouse.coincidentMoves, 3);
    assert.equal(window?.mouse.fastMoves, 2);
  });

  it('produces no window without events, and starts fresh after a take', async () => {
    const { source, aggregator, wall } = await rig();
    assert.equal(aggregator.take(), null);
    assert.equal(aggregator.isDue(wall.now + 10 ** 9), false);
    source.tap(30, 0, 10);
    wall.now += 500;
    source.tap(31, 100, 130);
    const first = aggregator.take();
    assert.equal(first?.startedAt, 1_000_000);
    assert.equal(first?.endedAt, 1_000_500);
    assert.equal(aggregator.take(), null);
    source.tap(30, 1000, 1010);
    assert.equal(aggregator.take()?.keys.flight, null, 'flight does not span windows');
  });
});
