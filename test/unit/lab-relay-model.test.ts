import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releaseTime, seededRandom } from '../../lab/delay-proxy';
import { BUNCH_SPACING_MS, DEFAULT_SPACING_MS, JITTER_KINDS, jitterSample, relaySchedule, reportClockSchedule } from '../../lab/relay-model';

const times = (lines: readonly string[]): number[] => lines.map((line) => Number(line.split(' ')[0]));

describe('lab relay model', () => {
  const schedule = ['0.000 down a', '95.000 up a', '180.000 down s', '182.000 down d', '260.000 up s', '271.000 up d'];

  it('without jitter shifts every event alike (a clock phase under 1 ms) and keeps every interval', () => {
    const out = relaySchedule(schedule, 0, 5);
    const shift = times(out)[0]!;
    assert.ok(shift >= 0 && shift < 1, `phase ${shift}`);
    times(out).forEach((t, i) => assert.ok(Math.abs(t - times(schedule)[i]! - shift) < 1e-9));
    assert.deepEqual(
      out.map((line) => line.slice(line.indexOf(' '))),
      schedule.map((line) => line.slice(line.indexOf(' '))),
      'verbs and keys pass through',
    );
  });

  it('applies the proxy release rule with the same seeded exponential jitter, in order', () => {
    const jitterMs = 20;
    const out = times(relaySchedule(schedule, jitterMs, 9));
    // Recompute with the proxy's own rule: the phase is the generator's first draw, then one draw per event.
    const random = seededRandom(9);
    const phase = random();
    let previous = -Infinity;
    let inBunch = 0;
    const expected = times(schedule).map((t) => {
      const release = releaseTime(previous, t, 0, -Math.log(1 - random()) * jitterMs);
      inBunch = release === previous ? inBunch + 1 : 0;
      previous = release;
      return Math.round((release + inBunch * BUNCH_SPACING_MS + phase) * 1000) / 1000;
    });
    assert.deepEqual(out, expected);
    for (let i = 1; i < out.length; i++) assert.ok(out[i]! >= out[i - 1]!, 'delivered in order');
    assert.deepEqual(relaySchedule(schedule, jitterMs, 9), relaySchedule(schedule, jitterMs, 9), 'same seed, same relay');
  });

  it('releases events held behind a late one together, BUNCH_SPACING_MS apart', () => {
    // Events 1 ms apart under 400 ms of mean jitter: almost all are held behind the slowest so far.
    const dense = Array.from({ length: 20 }, (_, i) => `${i}.000 move ${i} 0`);
    const out = times(relaySchedule(dense, 400, 3));
    const gaps = out.slice(1).map((t, i) => Math.round((t - out[i]!) * 1000) / 1000);
    assert.ok(gaps.filter((g) => g === BUNCH_SPACING_MS).length >= 15, `gaps ${gaps.join(',')}`);
  });

  it('puts events on a keyboard report clock: one time per report, reports a period apart, order kept', () => {
    const lines = ['0.000 down a', '3.000 up a', '5.500 down s', '20.000 up s', '21.000 down d', '90.000 up d'];
    const out = times(reportClockSchedule(lines, 8, 4));
    for (let i = 1; i < out.length; i++) assert.ok(out[i]! >= out[i - 1]!, 'order kept');
    // Events 0 and 3 ms apart share a report at 8 ms polling unless a report boundary falls between them.
    const gaps = out.slice(1).map((t, i) => t - out[i]!);
    for (const gap of gaps) assert.ok(gap === 0 || gap > 7, `gap ${gap}: same report, or at least one period apart (less wobble)`);
    assert.ok(gaps.includes(0), 'some key changes share a report');
    out.forEach((t, i) => assert.ok(t >= times(lines)[i]! && t < times(lines)[i]! + 8.3, 'reported within one period (plus wobble) after it happened'));
  });

  it('draws each jitter kind with its scale: exponential and Pareto mean, normal spread, uniform range', () => {
    for (const kind of JITTER_KINDS) {
      const random = seededRandom(11);
      const samples = Array.from({ length: 20_000 }, () => jitterSample(kind, 20, random));
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
      if (kind === 'exponential' || kind === 'pareto') assert.ok(Math.abs(mean - 20) < 1.5 && Math.min(...samples) >= 0, `${kind} mean ${mean}`);
      if (kind === 'normal') assert.ok(Math.abs(mean) < 1 && Math.abs(sd - 20) < 1, `normal ${mean} ${sd}`);
      if (kind === 'uniform') assert.ok(Math.min(...samples) >= -20 && Math.max(...samples) <= 20 && Math.abs(sd - 20 / Math.sqrt(3)) < 0.5, `uniform sd ${sd}`);
    }
    assert.equal(jitterSample('normal', 0, seededRandom(1)), 0);
  });

  it('default x11vnc pacing spreads a released bunch over DEFAULT_SPACING_MS per event, so fewer pairs share a millisecond', () => {
    const dense = Array.from({ length: 40 }, (_, i) => `${i}.000 move ${i} 0`);
    const paced = times(relaySchedule(dense, 400, 3, { pacing: 'default' }));
    const gaps = paced.slice(1).map((t, i) => t - paced[i]!);
    const inBunch = gaps.filter((g) => g < 2);
    assert.ok(inBunch.length >= 25, `gaps ${gaps.join(',')}`);
    for (const g of inBunch) assert.ok(g >= DEFAULT_SPACING_MS[0] - 1e-6 && g <= DEFAULT_SPACING_MS[1] + 1e-6, `gap ${g}`);
    assert.deepEqual(relaySchedule(dense, 20, 9), relaySchedule(dense, 20, 9, { jitter: 'exponential', pacing: 'tuned' }), 'the defaults are the lab relay');
  });
});
