import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../../common/policy';
import type { AgentEventMap } from '../../agent/events';
import { FakeInputSource } from '../helpers/fake-input-source';
import { InputCaptureService, PROGRESS_MS } from '../../agent/input/input-capture-service';
import { countTimingWindows, listTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';

const INTERVALS = { windowSeconds: 5, windowKeystrokes: 10 };

async function rig(t: { after(fn: () => void): void }) {
  const ctx = testContext(t, { policy: { intervals: { ...DEFAULT_POLICY.intervals, ...INTERVALS } } });
  const source = new FakeInputSource();
  const service = new InputCaptureService(ctx, source);
  const flushed: AgentEventMap['windowFlushed'][] = [];
  ctx.events.on('windowFlushed', (payload) => flushed.push(payload));
  await service.start();
  t.after(() => service.stop());
  return { ctx, source, service, flushed };
}

describe('window flush triggers', () => {
  it('flushes at windowKeystrokes completed keystrokes, in one row, then emits windowFlushed', async (t) => {
    const { ctx, source, flushed } = await rig(t);
    for (let i = 0; i < 9; i++) source.tap(30, i * 100, i * 100 + 40);
    assert.equal(countTimingWindows(ctx.db), 0, 'nothing written per event');
    source.tap(30, 900, 940);
    assert.equal(countTimingWindows(ctx.db), 1);
    assert.equal(flushed.length, 1);
    const [stored] = listTimingWindows(ctx.db);
    assert.equal(stored?.id, flushed[0]?.id);
    assert.deepEqual(stored?.window, flushed[0]?.window);
    assert.equal(stored?.window.keys.keystrokes, 10);
  });

  it('flushes at windowSeconds of wall-clock time', async (t) => {
    const { ctx, source, service, flushed } = await rig(t);
    source.tap(30, 0, 40);
    ctx.clock.advance(4999);
    assert.equal(service.flushIfDue(), null);
    ctx.clock.advance(1);
    const id = service.flushIfDue();
    assert.equal(typeof id, 'number');
    assert.equal(flushed.length, 1);
    assert.equal(flushed[0]?.window.keys.keystrokes, 1);
  });

  it('flushes by a timer armed by the window\'s first event, windowSeconds later, and re-arms for the next window', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ctx, source, flushed } = await rig(t);
    source.tap(30, 0, 40);
    ctx.clock.advance(2000);
    source.tap(30, 2000, 2040);
    ctx.clock.advance(2999);
    t.mock.timers.tick(4999);
    assert.equal(flushed.length, 0, 'not before windowSeconds after the first event');
    ctx.clock.advance(1);
    t.mock.timers.tick(1);
    assert.equal(flushed.length, 1, 'flushed by the timer, without any keystroke or poll');
    assert.equal(flushed[0]?.window.keys.keystrokes, 2);
    t.mock.timers.tick(60_000);
    assert.equal(flushed.length, 1, 'no timer while no window is open');
    source.tap(30, 9000, 9040);
    ctx.clock.advance(5000);
    t.mock.timers.tick(5000);
    assert.equal(flushed.length, 2, 'the next window arms its own timer');
  });

  it('flushes the open window on stop, and stores nothing for an empty window', async (t) => {
    const { ctx, source, service, flushed } = await rig(t);
    assert.equal(service.flush(), null);
    source.move(1, 1, 10);
    source.move(4, 5, 20);
    await service.stop();
    assert.equal(flushed.length, 1);
    assert.equal(flushed[0]?.window.mouse.moves, 2);
    assert.equal(countTimingWindows(ctx.db), 1);
    assert.equal(source.started, false, 'the source is stopped');
  });

  it('keeps running without capture when the source cannot start', async (t) => {
    const ctx = testContext(t);
    const source = new FakeInputSource();
    source.startFailure = { code: 'UNSUPPORTED_PLATFORM', message: 'No X display (DISPLAY is not set)' };
    const service = new InputCaptureService(ctx, source);
    await service.start();
    assert.equal(service.isCapturing, false);
    const lines = (ctx.logger as unknown as { lines: { level: string; fields: Record<string, unknown> }[] }).lines;
    assert.ok(lines.some((line) => line.level === 'warn' && line.fields.code === 'UNSUPPORTED_PLATFORM'));
    await service.stop();
    assert.equal(countTimingWindows(ctx.db), 0);
  });

  it('offers the open window to the detector every PROGRESS_MS while it is open, without storing it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ctx, source, service } = await rig(t);
    const progress: AgentEventMap['windowProgress'][] = [];
    ctx.events.on('windowProgress', (payload) => progress.push(payload));
    source.tap(30, 0, 40);
    source.tap(31, 200, 260);
    t.mock.timers.tick(PROGRESS_MS);
    assert.equal(progress.length, 1);
    assert.equal(progress[0]?.window.keys.keystrokes, 2);
    assert.equal(countTimingWindows(ctx.db), 0, 'a progress look stores nothing');
    await service.stop();
    assert.equal(countTimingWindows(ctx.db), 1, 'the window itself is stored once, when it closes');
  });

  it('records how long the event loop stalled while the window was open (the load guard reads it)', async (t) => {
    const { ctx, source, service, flushed } = await rig(t);
    source.tap(30, 0, 40);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Block the loop the way a starved machine does.
    const until = performance.now() + 250;
    while (performance.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 60));
    source.tap(31, 500, 560);
    service.flush();
    assert.equal(flushed.length, 1);
    const stall = flushed[0]!.window.eventLoopDelayMs ?? 0;
    assert.ok(stall >= 150, `loop delay ${stall} ms`);
    assert.deepEqual(listTimingWindows(ctx.db)[0]?.window.eventLoopDelayMs, stall, 'stored with the window');
  });
});
