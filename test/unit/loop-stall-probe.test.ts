import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { LoopStallProbe } from '../../agent/input/loop-stall-probe';

/** A probe on a fake monotonic clock and node's mock timers; `advance` moves both, `block` only the clock (a loop busy elsewhere). */
function rig(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 1000;
  const probe = new LoopStallProbe(20, () => now);
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

  it('measures a stall while input flows from the delivery delay of the first event after it', (t) => {
    const r = rig(t);
    r.probe.start();
    for (let i = 0; i < 40; i++) {
      r.advance(5);
      r.probe.touch(i % 3);
    }
    assert.equal(r.probe.take(), 2, 'prompt events: only their own small delays');
    // The loop blocks 150 ms; the event handled after it reached the agent 150 ms late.
    r.block(150);
    r.probe.touch(150);
    assert.equal(r.probe.take(), 150);
    r.probe.stop();
  });

  it('calls no timer function per event, runs its timer every flow check while input flows and every resolution once input pauses', (t) => {
    const r = rig(t);
    let timerCalls = 0;
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    t.mock.method(globalThis, 'setTimeout', (...args: Parameters<typeof setTimeout>) => {
      timerCalls++;
      return realSet(...args);
    });
    t.mock.method(globalThis, 'clearTimeout', (...args: Parameters<typeof clearTimeout>) => {
      timerCalls++;
      return realClear(...args);
    });
    r.probe.start();
    const before = timerCalls;
    for (let i = 0; i < 500; i++) {
      r.advance(4);
      r.probe.touch(0);
    }
    // 2 s of input every 4 ms: the second 20 ms turn finds input flowing, then one turn per 500 ms,
    // each arming the next timer; the events themselves never call a timer function.
    const flowCalls = timerCalls - before;
    assert.ok(flowCalls >= 3 && flowCalls <= 5, `timer calls in 2 s of flowing input: ${flowCalls}`);
    r.advance(1000);
    const pauseCalls = timerCalls - before - flowCalls;
    assert.ok(pauseCalls >= 20, `timer calls in the 1 s pause that follows: ${pauseCalls}`);
    assert.equal(r.probe.take(), 0);
    r.probe.stop();
  });

  it('a stall while input flows also shows as its flow-check timer running late', (t) => {
    const r = rig(t);
    r.probe.start();
    for (let i = 0; i < 100; i++) {
      r.advance(4);
      r.probe.touch(0);
    }
    r.probe.take();
    // No event gets through the stall (say the X server starves too); the timer still sees it.
    r.advance(100);
    r.block(700);
    r.advance(500);
    const stall = r.probe.take();
    assert.ok(stall !== null && stall >= 600 && stall <= 700, `stall ${stall} ms`);
    r.probe.stop();
  });

  it('a key tap handled just before a timer turn does not make the timer wait for input that is not flowing', (t) => {
    const r = rig(t);
    r.probe.start();
    // Down and up handled together, 18 ms before the first turn (libuv can run a timer that early
    // by the monotonic clock); no further input.
    r.advance(2);
    r.probe.touch(0);
    r.probe.touch(0);
    r.advance(40);
    r.block(250);
    r.release();
    r.advance(30);
    const stall = r.probe.take();
    assert.ok(stall !== null && stall >= 200 && stall <= 250, `stall ${stall} ms`);
    r.probe.stop();
  });

  it('stop forgets what it measured and leaves no timer; touches before start are ignored', (t) => {
    const r = rig(t);
    r.probe.touch(500);
    assert.equal(r.probe.take(), null);
    r.probe.start();
    assert.equal(r.probe.isRunning, true);
    r.advance(50);
    r.probe.stop();
    assert.equal(r.probe.isRunning, false);
    assert.equal(r.probe.take(), null);
  });
});
