import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { HookBoundary, RawEventType } from '../../agent/input/hook-boundary';
import type { InputEvent } from '../../agent/input/input-source';

const ALLOWED_FIELDS = new Set(['kind', 'time', 'heldCount', 'downTime', 'upTime', 'distance']);

function collect(): { events: InputEvent[]; boundary: HookBoundary } {
  const events: InputEvent[] = [];
  return { events, boundary: new HookBoundary((event) => events.push(event)) };
}

describe('hook boundary', () => {
  it("uses the input clock's time when given one, and passes its delivery delay on beside the event", () => {
    const seen: [InputEvent, number | undefined][] = [];
    const boundary = new HookBoundary((event, delay) => seen.push([event, delay]));
    // A Windows-style raw tick time; the clock's stamp carries the receive-time event time.
    boundary.accept({ type: RawEventType.keyPressed, time: 70_000, keycode: 30 }, { time: 1234, deliveryDelayMs: 0 });
    boundary.accept({ type: RawEventType.keyReleased, time: 70_016, keycode: 30 }, { time: 1330, deliveryDelayMs: 72 });
    boundary.accept({ type: RawEventType.mouseMoved, time: 70_020, x: 3, y: 4 });
    assert.deepEqual(seen, [
      [{ kind: 'keyDown', time: 1234, heldCount: 0 }, 0],
      [{ kind: 'keystroke', downTime: 1234, upTime: 1330 }, 72],
      [{ kind: 'mouseMove', time: 70_020, distance: null }, undefined],
    ]);
  });

  it('pairs downs with ups by key, counts held keys, ignores auto-repeat', () => {
    const { events, boundary } = collect();
    boundary.accept({ type: RawEventType.keyPressed, time: 100, keycode: 30 });
    boundary.accept({ type: RawEventType.keyPressed, time: 130, keycode: 30 }); // auto-repeat
    boundary.accept({ type: RawEventType.keyPressed, time: 150, keycode: 48 }); // rollover: 30 still held
    boundary.accept({ type: RawEventType.keyReleased, time: 180, keycode: 30 });
    boundary.accept({ type: RawEventType.keyReleased, time: 220, keycode: 48 });
    boundary.accept({ type: RawEventType.keyReleased, time: 230, keycode: 46 }); // never seen down
    assert.deepEqual(events, [
      { kind: 'keyDown', time: 100, heldCount: 0 },
      { kind: 'keyDown', time: 150, heldCount: 1 },
      { kind: 'keystroke', downTime: 100, upTime: 180 },
      { kind: 'keystroke', downTime: 150, upTime: 220 },
    ]);
    assert.deepEqual(boundary.counters, { repeats: 1, unpairedUps: 1 });
  });

  it('turns pointer positions into step lengths and keeps no coordinates', () => {
    const { events, boundary } = collect();
    boundary.accept({ type: RawEventType.mouseMoved, time: 10, x: 500, y: 400 });
    boundary.accept({ type: RawEventType.mouseDragged, time: 18, x: 503, y: 404 });
    boundary.accept({ type: RawEventType.mousePressed, time: 20, x: 503, y: 404 });
    boundary.accept({ type: RawEventType.mouseReleased, time: 40, x: 503, y: 404 });
    boundary.accept({ type: RawEventType.mouseClicked, time: 40, x: 503, y: 404 });
    boundary.accept({ type: RawEventType.mouseWheel, time: 50, x: 503, y: 404 });
    assert.deepEqual(events, [
      { kind: 'mouseMove', time: 10, distance: null },
      { kind: 'mouseMove', time: 18, distance: 5 },
      { kind: 'click', time: 20 },
      { kind: 'wheel', time: 50 },
    ]);
  });

  it('emits only privacy-safe fields, never a keycode or coordinate', () => {
    const { events, boundary } = collect();
    boundary.accept({ type: RawEventType.keyPressed, time: 1, keycode: 3666 });
    boundary.accept({ type: RawEventType.keyReleased, time: 2, keycode: 3666 });
    boundary.accept({ type: RawEventType.mouseMoved, time: 3, x: 777, y: 888 });
    boundary.accept({ type: RawEventType.mouseMoved, time: 4, x: 778, y: 888 });
    for (const event of events) {
      for (const field of Object.keys(event)) assert.ok(ALLOWED_FIELDS.has(field), `unexpected field ${field}`);
      const text = JSON.stringify(event);
      for (const secret of ['3666', '777', '778', '888']) assert.ok(!text.includes(secret), `${text} leaks ${secret}`);
    }
    assert.equal(events.length, 4);
  });

  it('forgets held keys and the last position on reset', () => {
    const { events, boundary } = collect();
    boundary.accept({ type: RawEventType.keyPressed, time: 1, keycode: 30 });
    boundary.accept({ type: RawEventType.mouseMoved, time: 1, x: 1, y: 1 });
    boundary.reset();
    boundary.accept({ type: RawEventType.keyReleased, time: 2, keycode: 30 });
    boundary.accept({ type: RawEventType.mouseMoved, time: 3, x: 9, y: 9 });
    assert.deepEqual(events.slice(2), [{ kind: 'mouseMove', time: 3, distance: null }]);
    assert.equal(boundary.counters.unpairedUps, 1);
  });
});

describe('privacy helper keycode table', () => {
  it("matches uiohook-napi's UiohookKey for every letter, digit, minus and space", async () => {
    // Read the table from the package's typings: loading the native module here would open (or,
    // without a display, fail to close) an X connection at process exit.
    const typings = fs.readFileSync(path.resolve(import.meta.dirname, '../../node_modules/uiohook-napi/dist/index.d.ts'), 'utf8');
    const table = new Map([...typings.matchAll(/readonly (\w+): (\d+);/g)].map((match) => [match[1]!, Number(match[2])]));
    const { uiohookKeycodesOf } = await import('../helpers/privacy');
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    assert.deepEqual(uiohookKeycodesOf(chars), [...chars].map((char) => table.get(char)));
    assert.deepEqual(uiohookKeycodesOf('- '), [table.get('Minus'), table.get('Space')]);
  });
});
