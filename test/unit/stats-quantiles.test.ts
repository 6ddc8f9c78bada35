import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coefficientOfVariation, distributionOf, quantileSorted, shareBelow } from '../../agent/input/stats';

// Expectations are hand-computed with type-7 quantiles: h = (n-1)p, q = x[floor h] + frac(h)(x[floor h+1] - x[floor h]).
describe('stats', () => {
  it('computes type-7 quantiles of 1..10', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(quantileSorted(sorted, 0.5), 5.5); // h = 4.5
    assert.equal(quantileSorted(sorted, 0.25), 3.25); // h = 2.25
    assert.equal(quantileSorted(sorted, 0.75), 7.75); // h = 6.75
    assert.ok(Math.abs(quantileSorted(sorted, 0.05) - 1.45) < 1e-9); // h = 0.45
    assert.ok(Math.abs(quantileSorted(sorted, 0.95) - 9.55) < 1e-9); // h = 8.55
    assert.equal(quantileSorted(sorted, 0), 1);
    assert.equal(quantileSorted(sorted, 1), 10);
  });

  it('summarises an unsorted sample without modifying it', () => {
    const sample = [40, 10, 30, 20];
    assert.deepEqual(distributionOf(sample), { n: 4, median: 25, iqr: 15, p5: 11.5, p95: 38.5 });
    assert.deepEqual(sample, [40, 10, 30, 20]);
  });

  it('handles one sample and no samples', () => {
    assert.deepEqual(distributionOf([7]), { n: 1, median: 7, iqr: 0, p5: 7, p95: 7 });
    assert.equal(distributionOf([]), null);
    assert.throws(() => quantileSorted([], 0.5), /empty/);
    assert.throws(() => quantileSorted([1], 1.5), /out of range/);
  });

  it('computes the population coefficient of variation', () => {
    // mean 20, population sd sqrt(200/3) = 8.1650 -> 0.408
    assert.equal(coefficientOfVariation([10, 20, 30]), 0.408);
    assert.equal(coefficientOfVariation([5, 5, 5]), 0);
    assert.equal(coefficientOfVariation([5]), null);
    assert.equal(coefficientOfVariation([0, 0]), null);
  });

  it('counts the share strictly below a limit', () => {
    assert.equal(shareBelow([1, 4, 5, 14, 15, 100], 5), 0.333);
    assert.equal(shareBelow([1, 4, 5, 14, 15, 100], 15), 0.667);
    assert.equal(shareBelow([], 5), 0);
  });
});
