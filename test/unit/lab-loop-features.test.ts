import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputEvent } from '../../agent/input/input-source';
import { chooseFeature, FEATURE_NAMES, movementFeatures, rocAuc, scoreHeldOut, tprAtFpr, windowFeatures, type WindowFeatures } from '../../lab/loop-features';
import { loopPersona } from '../../lab/loop';

/** Pointer reports every 8 ms from `start`, one per step length given. */
function moves(start: number, steps: readonly number[]): InputEvent[] {
  return steps.map((distance, index) => ({ kind: 'mouseMove', time: start + 8 * index, distance }));
}

const click = (time: number): InputEvent => ({ kind: 'click', time });

describe('latency-in-the-loop movement features', () => {
  it('measures one movement from click to click: onset, duration, dwell, corrections, pauses, final approach', () => {
    // Click at 0; primary submovement 300..380 (10 reports, 90 px), pause, correction 500..524 (4 reports, 10 px), click at 700.
    const events = [click(0), ...moves(300, [0, 5, 10, 15, 20, 15, 10, 8, 5, 2]), ...moves(500, [4, 3, 2, 1]), click(700)];
    const [movement, ...rest] = movementFeatures(events);
    assert.equal(rest.length, 0);
    assert.equal(movement!.onsetMs, 300);
    assert.equal(movement!.movementMs, 400);
    assert.equal(movement!.dwellMs, 700 - 524);
    assert.equal(movement!.corrections, 1);
    assert.equal(movement!.pauseMs, 500 - 372);
    // The path is 100 px (the first report is the start point); 90 px are covered at the primary's last report, 372 ms.
    assert.equal(movement!.finalApproachMs, 700 - 372);
    assert.ok(movement!.peakSpeedAt > 0 && movement!.peakSpeedAt < 0.25, `peak early: ${movement!.peakSpeedAt}`);
    assert.ok(Math.abs(movement!.primaryShare - 0.9) < 1e-9);
    assert.ok(Math.abs(movement!.meanStep - 100 / 13) < 1e-9);
  });

  it('skips the stretch before the first click and movements with fewer than two reports', () => {
    const events = [...moves(0, [1, 2, 3]), click(100), ...moves(200, [5]), click(300), ...moves(400, [0, 5, 5]), click(500)];
    const found = movementFeatures(events);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.onsetMs, 100);
  });

  it('summarises whole windows by medians and drops a partial one', () => {
    const one = (onset: number): InputEvent[] => [...moves(onset, [0, 10, 10]), click(onset + 100)];
    let events: InputEvent[] = [click(0)];
    let time = 0;
    for (const onset of [100, 300, 200, 900, 150]) {
      events = [...events, ...one(time + onset)];
      time += onset + 100;
    }
    const windows = windowFeatures(movementFeatures(events), 3);
    assert.equal(windows.length, 1);
    assert.equal(windows[0]!.onsetMs, 200);
    assert.equal(windows[0]!.correctedShare, 0);
    assert.deepEqual(Object.keys(windows[0]!).sort(), [...FEATURE_NAMES].sort());
  });

  it('holds no position: only times, counts, ratios and step lengths', () => {
    const events = [click(0), ...moves(300, [0, 5, 10]), click(500)];
    const keys = Object.keys(movementFeatures(events)[0]!);
    assert.ok(keys.every((key) => !/^(x|y)$|position|coord/i.test(key)), keys.join(','));
  });
});

describe('latency-in-the-loop scoring', () => {
  const window = (value: number): WindowFeatures => Object.fromEntries(FEATURE_NAMES.map((name) => [name, name === 'dwellMs' ? value : 1])) as WindowFeatures;

  it('AUC and TPR at a false-positive rate', () => {
    assert.equal(rocAuc([3, 4], [1, 2]), 1);
    assert.equal(rocAuc([1], [1]), 0.5);
    assert.equal(tprAtFpr([3, 4, 1.5], [1, 2], 0.01), 2 / 3);
    assert.ok(Number.isNaN(rocAuc([], [1])));
  });

  it('chooses the separating feature and its direction on tuning data, and scores held-out data with it', () => {
    const chosen = chooseFeature([window(10), window(12)], [window(20), window(25)]);
    assert.equal(chosen.feature, 'dwellMs');
    assert.equal(chosen.direction, -1);
    assert.equal(chosen.tuningAuc, 1);
    assert.equal(chosen.threshold, -20);
    const held = scoreHeldOut(chosen, [window(11), window(30)], [window(22), window(19)]);
    assert.equal(held.auc, 0.5);
    assert.equal(held.tprFixed, 0.5);
    assert.equal(held.fprFixed, 0.5);
  });

  it('each seed is its own simulated person, the same every time', () => {
    assert.deepEqual(loopPersona(7), loopPersona(7));
    assert.notDeepEqual(loopPersona(7), loopPersona(8));
    const persona = loopPersona(101);
    assert.ok(persona.rt >= 180 && persona.rt <= 300 && persona.fitts_b >= 95 && persona.fitts_b <= 165);
  });
});
