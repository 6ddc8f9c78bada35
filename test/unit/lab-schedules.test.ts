import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dequantizeSession, isHeldOutUser, loadTypingSessions, minimumJerk, pointerSchedule, recordingTickMs, typingSchedule } from '../../lab/schedules';
import { eventsFromSchedule } from '../../lab/windows';

describe('lab schedules', () => {
  it('maps keystrokes to safe letters, overlapping keystrokes to different letters, releases first on ties', () => {
    const { lines, keystrokes } = typingSchedule([
      { press: 0, release: 100 },
      { press: 50, release: 120 },
      { press: 120, release: 200 },
    ]);
    assert.equal(keystrokes, 3);
    assert.deepEqual(lines, ['0.000 down a', '50.000 down s', '100.000 up a', '120.000 up s', '120.000 down d', '200.000 up d']);
  });

  it('shortens idle gaps to maxIdleMs without touching typing rhythm', () => {
    const { lines, durationMs } = typingSchedule(
      [
        { press: 0, release: 100 },
        { press: 5100, release: 5180 },
        { press: 5300, release: 5350 },
      ],
      { maxIdleMs: 1000 },
    );
    // Idle from 100 to 5100 (5000 ms) becomes 1000 ms: everything after shifts by 4000.
    assert.deepEqual(lines.slice(2), ['1100.000 down s', '1180.000 up s', '1300.000 down d', '1350.000 up d']);
    assert.equal(durationMs, 1350);
  });

  it('finds the recording clock tick and moves coarse sessions onto a fine clock', () => {
    // A 15.625 ms tick: every time is a whole number of ticks, floored to ms as a tick clock reports.
    const ticked = Array.from({ length: 60 }, (_, i) => ({ press: Math.floor(i * 7 * 15.625), release: Math.floor((i * 7 + 5) * 15.625) }));
    assert.equal(recordingTickMs(ticked), 15.625);
    const tens = Array.from({ length: 60 }, (_, i) => ({ press: i * 170, release: i * 170 + 90 + (i % 3) * 10 }));
    assert.equal(recordingTickMs(tens), 10);
    const fine = Array.from({ length: 60 }, (_, i) => ({ press: i * 173 + ((i * 37) % 11), release: i * 173 + 61 + ((i * 53) % 17) }));
    assert.equal(recordingTickMs(fine), 1);
    const session = { user: 2, session: 0, keystrokes: ticked };
    assert.equal(dequantizeSession({ user: 2, session: 0, keystrokes: fine }).keystrokes, fine, 'a fine session is left alone');
    const moved = dequantizeSession(session);
    assert.deepEqual(moved, dequantizeSession(session), 'repeatable');
    moved.keystrokes.forEach((k, i) => {
      assert.ok(k.press >= ticked[i]!.press && k.press < ticked[i]!.press + 15.625, 'press within its tick');
      assert.ok(k.release > k.press);
    });
    assert.notEqual(recordingTickMs(moved.keystrokes), 15.625);
  });

  it('gives the ideal capture the same pairing rules as the hook boundary', () => {
    const events = eventsFromSchedule(['0 down a', '50.4 down s', '100 up a', '120 up s', '130 move 10 10', '138 move 13 14']);
    assert.deepEqual(events, [
      { kind: 'keyDown', time: 0, heldCount: 0 },
      { kind: 'keyDown', time: 50, heldCount: 1 },
      { kind: 'keystroke', downTime: 0, upTime: 100 },
      { kind: 'keystroke', downTime: 50, upTime: 120 },
      { kind: 'mouseMove', time: 130, distance: null },
      { kind: 'mouseMove', time: 138, distance: 5 },
    ]);
  });

  it('generates minimum-jerk pointing at the device rate, only on position changes, reproducibly', () => {
    assert.equal(minimumJerk(0), 0);
    assert.equal(minimumJerk(0.5), 0.5);
    assert.equal(minimumJerk(1), 1);
    const plan = { rateHz: 125, durationMs: 3000, seed: 9, area: { x: 0, y: 0, width: 800, height: 600 } };
    const a = pointerSchedule(plan);
    assert.deepEqual(a, pointerSchedule(plan));
    const times = a.lines.map((line) => Number(line.split(' ')[0]));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Consecutive reports are about one device period (8 ms) apart or multiples of it, never much less.
    assert.ok(gaps.every((gap) => gap > 8 * 0.85), `min gap ${Math.min(...gaps)}`);
    for (const line of a.lines) {
      const [, verb, x, y] = line.split(' ');
      assert.equal(verb, 'move');
      assert.ok(Number(x) >= 0 && Number(x) <= 800 && Number(y) >= 0 && Number(y) <= 600);
    }
  });

  it('loads the timing fixture (no key identity) and splits users by parity', () => {
    const sessions = loadTypingSessions();
    assert.equal(sessions.length, 55 * 6);
    assert.ok(sessions.every((s) => s.keystrokes.length === 500));
    assert.equal(isHeldOutUser(3), true);
    assert.equal(isHeldOutUser(4), false);
  });
});
