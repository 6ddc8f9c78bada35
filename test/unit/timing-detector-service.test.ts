import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock, testContext } from '../helpers/agent-context';
import { loadBaseline } from '../../agent/store/baseline';
import { listOpenFindings } from '../../agent/store/findings';
import { TimingDetectorService } from '../../agent/timing-detector/timing-detector-service';
import type { TimingWindow } from '../../common/timing';

/**
 * A 30 s typing window; `ties` of its 100 key-event gaps under 60 ms land in the same millisecond,
 * `bunched` (ties included) within 2 ms, in `runs` runs of three or more.
 */
function keysWindow(hookEnd: number, ties: number, bunched = ties + 4, runs = 0): TimingWindow {
  return {
    startedAt: hookEnd - 30_000,
    endedAt: hookEnd,
    hookStart: hookEnd - 30_000,
    hookEnd,
    keys: {
      keystrokes: 100,
      keyDowns: 100,
      dwell: { n: 100, median: 90, iqr: 36, p5: 50, p95: 160 },
      flight: { n: 99, median: 170, iqr: 100, p5: 40, p95: 600 },
      nearSimultaneous5: 0,
      nearSimultaneous15: 0,
      rolloverRate: 0.1,
      keyEvents: 200,
      coincidentEvents: ties,
      shortGaps: 100,
      fineGaps: 12,
      oneMsGaps: 3,
      bunchedEvents: bunched,
      bunchRuns: runs,
      compressedHolds: 0,
    },
    mouse: { moves: 0, clicks: 0, wheels: 0, moveRateHz: 0, step: null, interval: null, intervalCv: null },
  };
}

describe('timing-detector service', () => {
  it('opens an explained finding on relayed-looking windows, learns only from local ones, closes after the hold', (t) => {
    const ctx = testContext(t, { clock: manualClock(1000) });
    const { db, events } = ctx;
    const service = new TimingDetectorService(ctx);
    service.start();
    let hook = 0;
    for (let i = 0; i < 6; i++) events.emit('windowFlushed', { id: i, window: keysWindow((hook += 30_000), 0) });
    assert.equal(listOpenFindings(db).length, 0);
    const learned = service.currentBaseline.windows.keys;
    assert.equal(learned, 6);
    // Relayed: 20 of 100 short gaps are same-millisecond ties.
    for (let i = 0; i < 3; i++) events.emit('windowFlushed', { id: 10 + i, window: keysWindow((hook += 30_000), 20) });
    const [finding] = listOpenFindings(db);
    assert.equal(finding?.kind, 'relayed-input-timing');
    assert.equal(finding?.key, 'timing:relayed-input:keys');
    assert.match(finding!.explanation, /key events arriving in bunches, at most 2 ms apart \(share of gaps under 60 ms\) 24% vs a typical/);
    assert.equal(service.currentBaseline.windows.keys, learned, 'relayed windows do not update the baseline');
    // Local again, for longer than the hold: the finding closes.
    for (let i = 0; i < 14; i++) events.emit('windowFlushed', { id: 20 + i, window: keysWindow((hook += 30_000), 0) });
    assert.equal(listOpenFindings(db).length, 0);
    service.stop();
    assert.ok(loadBaseline(db)!.windows.keys > learned, 'baseline saved on stop');
  });

  it('decides on the open window every progress tick, without learning from it, and states a span no longer than the evidence', (t) => {
    const ctx = testContext(t, { clock: manualClock(1000) });
    const { db, events } = ctx;
    const service = new TimingDetectorService(ctx);
    service.start();
    // One stored local window of 37 s, then an open relayed-looking one 30 s long so far: the pool spans 67 s.
    events.emit('windowFlushed', { id: 1, window: { ...keysWindow(37_000, 0), hookStart: 0 } });
    const learned = service.currentBaseline.windows.keys;
    events.emit('windowProgress', { window: keysWindow(67_000, 40, 50, 10) });
    const [finding] = listOpenFindings(db);
    assert.equal(finding?.kind, 'relayed-input-timing');
    assert.match(finding!.explanation, /over the last 60 s /, 'the rolling span, not the 67 s the pooled windows reach back');
    assert.equal(service.currentBaseline.windows.keys, learned, 'an open window never teaches the baseline');
    service.stop();
  });

  it('raises nothing on a window collected while the agent was stalled (load guard)', (t) => {
    const ctx = testContext(t, { clock: manualClock(1000) });
    const { db, events } = ctx;
    const service = new TimingDetectorService(ctx);
    service.start();
    let hook = 0;
    // The same relayed-looking ties, but the event loop stalled for 300 ms while they were collected.
    for (let i = 0; i < 3; i++) events.emit('windowFlushed', { id: i, window: { ...keysWindow((hook += 30_000), 40, 50, 10), eventLoopDelayMs: 300 } });
    assert.equal(listOpenFindings(db).length, 0);
    assert.deepEqual(service.lastScores, [], 'a stalled window is not scored at all');
    // A short hiccup (under the stall limit) does not hide the same evidence.
    events.emit('windowFlushed', { id: 9, window: { ...keysWindow((hook += 30_000), 40, 50, 10), eventLoopDelayMs: 40 } });
    assert.equal(listOpenFindings(db).length, 1);
    service.stop();
  });
});
