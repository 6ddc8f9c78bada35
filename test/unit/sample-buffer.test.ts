import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SampleBuffer } from '../../agent/input/sample-buffer';
import { coefficientOfVariation, countBetween, distributionOf, gapCounts, shareBelow } from '../../agent/input/stats';

describe('sample buffer', () => {
  it('keeps every pushed sample in order across growth, and clear empties it for the next window', () => {
    const buffer = new SampleBuffer();
    const expected: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const value = (i * 37) % 101;
      buffer.push(value);
      expected.push(value);
    }
    assert.equal(buffer.length, 5000);
    assert.deepEqual(Array.from(buffer.view()), expected);
    buffer.clear();
    assert.equal(buffer.length, 0);
    assert.equal(buffer.view().length, 0);
    buffer.push(2.5);
    assert.deepEqual(Array.from(buffer.view()), [2.5]);
  });

  it('gives the statistics the same answers as the plain array it replaces, without sorting the buffer', () => {
    const values = [40, 10, 30, 20, 0, 0, 1, 250, 2, 9, 60];
    const buffer = new SampleBuffer();
    for (const value of values) buffer.push(value);
    const view = buffer.view();
    assert.deepEqual(distributionOf(view), distributionOf(values));
    assert.equal(coefficientOfVariation(view), coefficientOfVariation(values));
    assert.equal(shareBelow(view, 15), shareBelow(values, 15));
    assert.equal(countBetween(view, 0, 2), countBetween(values, 0, 2));
    assert.deepEqual(gapCounts(view, 60, 2), gapCounts(values, 60, 2));
    assert.deepEqual(Array.from(buffer.view()), values, 'the buffer itself stays in arrival order');
  });
});
