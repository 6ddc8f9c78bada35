import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineTime, mergeSchedules, parseScheduleLine, scheduleLine, type Step } from '../../lab/injector';
import { lineMovement, steadyTyping } from '../../lab/schedules';

describe('injector schedule format', () => {
  it('writes and reads back every kind of step', () => {
    const steps: Step[] = [
      { t: 0, kind: 'down', key: 'a' },
      { t: 12.3456, kind: 'up', key: 'Shift_L' },
      { t: 20, kind: 'move', x: 100, y: -3 },
      { t: 30, kind: 'click', button: 1 },
      { t: 40, kind: 'press', button: 3 },
      { t: 50, kind: 'release', button: 3 },
    ];
    const lines = steps.map(scheduleLine);
    assert.deepEqual(lines, ['0.000 down a', '12.346 up Shift_L', '20.000 move 100 -3', '30.000 click 1', '40.000 press 3', '50.000 release 3']);
    assert.deepEqual(lines.map(parseScheduleLine), [...steps.slice(0, 1), { ...steps[1]!, t: 12.346 }, ...steps.slice(2)]);
    assert.equal(lineTime(lines[1]!), 12.346);
  });

  it('rejects lines the injector would reject', () => {
    assert.throws(() => parseScheduleLine('10 wiggle 3'), /bad schedule line/);
    assert.throws(() => parseScheduleLine('10 move 3'), /bad schedule line/);
    assert.throws(() => parseScheduleLine('soon down a'), /bad schedule line/);
  });

  it('merges schedules in time order, keeping the given order at equal times', () => {
    const merged = mergeSchedules(['10.000 up a', '30.000 up s'], ['10.000 down s', '5.000 move 1 1']);
    assert.deepEqual(merged, ['5.000 move 1 1', '10.000 up a', '10.000 down s', '30.000 up s']);
  });

  it('steady typing releases a key before the next press at the same time', () => {
    assert.deepEqual(steadyTyping(2, { dwellMs: 40, flightMs: 40 }), ['0.000 down a', '40.000 up a', '40.000 down s', '80.000 up s']);
    // A dwell longer than the flight rolls over: the next key goes down while the last is held.
    assert.deepEqual(steadyTyping(2, { dwellMs: 50, flightMs: 30, keysyms: ['x', 'c'], startMs: 100 }), [
      '100.000 down x',
      '130.000 down c',
      '150.000 up x',
      '180.000 up c',
    ]);
  });

  it('line movement steps evenly', () => {
    assert.deepEqual(lineMovement(3, { from: [10, 20], dx: 3, dy: 4, intervalMs: 10, startMs: 5 }), ['5.000 move 10 20', '15.000 move 13 24', '25.000 move 16 28']);
  });
});
