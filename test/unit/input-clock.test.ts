import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APPLE_SILICON_TICKS_PER_MS, createInputClock, inputClockFor, MacInputClock, WINDOWS_TICK_MS } from '../../agent/input/input-clock';
import { clockStamper, restampEvents } from '../../lab/clock-models';

describe('input clocks', () => {
  it('X11: the server time is the event time; delivery delay is the excess over the promptest event', () => {
    const clock = createInputClock('x11');
    assert.deepEqual(clock.stamp(1000, 50_000.2), { time: 1000, deliveryDelayMs: 0 });
    const late = clock.stamp(1010, 50_080.2);
    assert.equal(late.time, 1010);
    assert.ok(Math.abs(late.deliveryDelayMs - 70) < 0.01, `delay ${late.deliveryDelayMs}`);
  });

  it('Windows: the receive time on a 1 ms grid is the event time; the tick time only checks delivery, less one tick', () => {
    const clock = createInputClock('windows');
    assert.equal(clock.stampResolutionMs, WINDOWS_TICK_MS);
    // Two events in one 15.6 ms tick (same tick time) received 3.4 ms apart keep their 3 ms gap.
    const first = clock.stamp(70_000, 1234.9);
    const second = clock.stamp(70_000, 1238.3);
    assert.equal(first.time, 1234);
    assert.equal(second.time, 1238);
    assert.equal(second.deliveryDelayMs, 0, 'a delay under one tick is the tick clock, not a stall');
    // Received 200 ms after its tick time: a stall.
    const stalled = clock.stamp(70_016, 1450);
    assert.ok(stalled.deliveryDelayMs > 150, `delay ${stalled.deliveryDelayMs}`);
  });

  it('macOS: nanoseconds since startup become whole ms; a mach-tick clock is recognised against the receive clock', () => {
    const nanoseconds = new MacInputClock();
    assert.equal(nanoseconds.stamp(86_400_123_456_789, 10).time, 86_400_123);
    assert.equal(nanoseconds.stamp(86_401_500_000_000, 1510).time, 86_401_500, '1.5 s later at 1e6 units per ms');
    assert.equal(nanoseconds.units, 1e6);
    const ticks = new MacInputClock();
    ticks.stamp(24_000 * 5000, 100);
    ticks.stamp(24_000 * 6200, 1300);
    assert.equal(ticks.units, APPLE_SILICON_TICKS_PER_MS);
    assert.equal(ticks.stamp(24_000 * 6300, 1400).time, 6300);
  });

  it('has a clock per hook platform and none elsewhere', () => {
    assert.equal(inputClockFor('linux')?.id, 'x11');
    assert.equal(inputClockFor('win32')?.id, 'windows');
    assert.equal(inputClockFor('darwin')?.id, 'macos');
    assert.equal(inputClockFor('freebsd'), null);
  });

  it('the lab tick model puts fast pairs on one tick; the Windows clock model keeps their gap', () => {
    const events = [
      { kind: 'keyDown' as const, time: 100.2, heldCount: 0 },
      { kind: 'keystroke' as const, downTime: 100.2, upTime: 102.6 },
      { kind: 'keyDown' as const, time: 190.7, heldCount: 0 },
    ];
    const tick = restampEvents(events, clockStamper('windows-tick', 3)).map((e) => e.event);
    const modelled = restampEvents(events, clockStamper('windows', 3)).map((e) => e.event);
    const gap = (list: typeof tick): number => (list[1]!.kind === 'keystroke' ? list[1]!.upTime - list[1]!.downTime : NaN);
    assert.ok(gap(tick) === 0 || gap(tick) >= 15, `tick hold ${gap(tick)}`);
    assert.ok(gap(modelled) >= 1 && gap(modelled) <= 4, `modelled hold ${gap(modelled)}`);
  });
});
