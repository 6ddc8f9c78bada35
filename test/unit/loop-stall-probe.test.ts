import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { LoopStallProbe } from '../../agent/input/loop-stall-probe';

/** A probe on a fake monotonic clock and node's mock timers; `advance` moves both, `block` only the clock (a loop busy elsewhere). */
function rig(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 1000;
  let timerTurns = 0;
  const probe = new LoopStallProbe(20, () => {
    timerTurns++;
    return now;
  });
  return {
    probe,
    get now() {
      return now;
    },
    /** Time passes with the loop free: due timers run at their due times. */
    advance(ms: number) {
      for (let step = 0; step < ms; step++) {
        now++;
        t.mock.timers.tick(1);
      }
    },
    /** The loop is blocked for `ms`: the clock moves, no timer runs until it is over. */
    block(ms: number) {
      now += ms;
    },
    /** Timers that came due while blocked run now, late. */
    release() {
      t.mock.timers.tick(0);
    },
    /** How many times the probe read its clock itself (start and its own timer turns). */
    get ownTurns() {
      return timerTurns;
    },
  };
}

describe('loop stall probe', () => {
  it('measures a stall in a pause in input with its own timer, as an event-loop delay monitor does', (t) => {
    const r = rig(t);
    r.probe.start();
    r.advance(60);
    assert.equal(r.probe.take(), 0, 'timer turns on time: no stall');
    r.advance(5);
    r.block(200);
    r.release();
    r.advance(30);
    const stall = r.probe.take();
    assert.ok(stall !== null && stall > 180 && stall <= 200, `stall ${stall} ms`);
    r.probe.stop();
  });

  it('measures a stall between input events from the gap between turns', (t) => {
    const r = rig(t);
    r.probe.start();
    for (let i = 0; i < 40; i++) {
      r.advance(5);
      r.probe.touch(r.now);
    }
    assert.equal(r.probe.take(), 0);
    // The loop blocks 150 ms; the first event handled after it is 150 ms after the last turn.
    r.block(150);
    r.probe.touch(r.now);
    assert.equal(r.probe.take(), 130, 'the gap less the probe resolution, as a 20 ms delay monitor reads it');
    r.probe.stop();
  });

  it('does not wake the loop while input flows faster than half its resolution, and does once it pauses', (t) => {
    const r = rig(t);
    r.probe.start();
    const before = r.ownTurns;
    for (let i = 0; i < 100; i++) {
      r.advance(4);
      r.probe.touch(r.now);
    }
    assert.equal(r.ownTurns, before, 'no timer turn in 400 ms of input every 4 ms');
    r.advance(100);
    assert.ok(r.ownTurns - before >= 4, `timer turns in a 100 ms pause: ${r.ownTurns - before}`);
    assert.equal(r.probe.take(), 0);
    r.probe.stop();
  });

  it('stop forgets what it measured and leaves no timer; touches before start are ignored', (t) => {
    const r = rig(t);
    r.probe.touch(r.now);
    assert.equal(r.probe.take(), null);
    r.probe.start();
    assert.equal(r.probe.isRunning, true);
    r.advance(50);
    r.probe.stop();
    assert.equal(r.probe.isRunning, false);
    assert.equal(r.probe.take(), null);
  });
});
