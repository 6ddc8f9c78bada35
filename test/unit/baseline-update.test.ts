import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase, type Db } from '../../agent/store/database';
import { BASELINE_KEY, loadBaseline, saveBaseline } from '../../agent/store/baseline';
import { setValue } from '../../agent/store/kv';
import {
  CLIP,
  initialBaseline,
  MIN_RATE,
  PRIOR_WEIGHT,
  updateBaseline,
  updateFeature,
} from '../../agent/timing-detector/baseline-model';
import { TEST_PRIOR } from '../helpers/test-prior';

const PRIOR = TEST_PRIOR;

function tempDb(t: { after(fn: () => void): void }): Db {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-baseline-'));
  const db = openDatabase(path.join(dir, 'agent.db'));
  t.after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

describe('baseline update', () => {
  it('starts at the population prior with the prior weight', () => {
    const baseline = initialBaseline(PRIOR);
    assert.deepEqual(baseline.features.dwellSpread, { center: 5, spread: 0.5, weight: PRIOR_WEIGHT });
    assert.deepEqual(baseline.windows, { keys: 0, mouse: 0 });
  });

  it('shrinks the prior toward the device: center = (w0 * prior + sum) / (w0 + n) for unclipped values', () => {
    // The device's dwell spread sits at 5.4, within the clip band of the prior (5 +- 2.5 * 0.5).
    let feature = { center: 5, spread: 0.5, weight: PRIOR_WEIGHT };
    const n = 8;
    for (let i = 0; i < n; i++) feature = updateFeature(feature, 5.4, 0.08);
    const expected = (PRIOR_WEIGHT * 5 + n * 5.4) / (PRIOR_WEIGHT + n);
    assert.ok(Math.abs(feature.center - expected) < 1e-12, `${feature.center} vs ${expected}`);
    assert.equal(feature.weight, PRIOR_WEIGHT + n);
    // After many windows it has essentially become the device's own value.
    for (let i = 0; i < 400; i++) feature = updateFeature(feature, 5.4, 0.08);
    assert.ok(Math.abs(feature.center - 5.4) < 0.01);
    // And the spread has shrunk from the population's 0.5 to the floor (the device is perfectly steady).
    assert.ok(feature.spread < 0.1);
  });

  it('moves by at most rate * CLIP * spread on one outlier', () => {
    const feature = { center: 5, spread: 0.5, weight: 100 };
    const after = updateFeature(feature, 50, 0.08);
    const rate = 1 / 101;
    assert.ok(Math.abs(after.center - (5 + rate * CLIP * 0.5)) < 1e-12);
    // The spread grows boundedly too: toward 1.2533 * CLIP * spread at the same rate.
    assert.ok(after.spread <= 0.5 + rate * (1.2533 * CLIP * 0.5 - 0.5) + 1e-12);
  });

  it('becomes an EWMA with a floor on the learning rate', () => {
    const feature = { center: 0, spread: 1, weight: 10_000 };
    const after = updateFeature(feature, 1, 0.01);
    assert.ok(Math.abs(after.center - MIN_RATE) < 1e-12);
  });

  it('updates only the features present and counts windows per modality', () => {
    const after = updateBaseline(initialBaseline(PRIOR), { dwellSpread: 5.2 });
    assert.deepEqual(after.windows, { keys: 1, mouse: 0 });
    assert.equal(after.features.moveRate.weight, PRIOR_WEIGHT);
    assert.equal(after.features.dwellSpread.weight, PRIOR_WEIGHT + 1);
  });

  it('round-trips through the kv table and rejects an unusable stored value', (t) => {
    const db = tempDb(t);
    assert.equal(loadBaseline(db), undefined);
    const baseline = updateBaseline(initialBaseline(PRIOR), { dwellSpread: 5.2, moveRate: 7.5 });
    saveBaseline(db, baseline);
    assert.deepEqual(loadBaseline(db), baseline);
    setValue(db, BASELINE_KEY, { version: 2, features: {} });
    assert.equal(loadBaseline(db), undefined);
    setValue(db, BASELINE_KEY, { ...baseline, features: { ...baseline.features, moveRate: { center: null, spread: 1, weight: 9 } } });
    assert.equal(loadBaseline(db), undefined);
  });

  it('keeps learned features of a baseline saved before a feature existed, taking the new one from the prior', (t) => {
    const db = tempDb(t);
    const learned = updateBaseline(initialBaseline(PRIOR), { dwellSpread: 5.2, moveRate: 7.5 });
    const { moveRate: _dropped, ...older } = learned.features;
    setValue(db, BASELINE_KEY, { ...learned, features: older });
    assert.equal(loadBaseline(db), undefined, 'without a fallback the older value is unusable');
    const fallback = initialBaseline(PRIOR);
    const loaded = loadBaseline(db, fallback)!;
    assert.deepEqual(loaded.features.dwellSpread, learned.features.dwellSpread, 'the learned feature is kept');
    assert.deepEqual(loaded.features.moveRate, fallback.features.moveRate, 'the missing feature starts from the prior');
    assert.deepEqual(loaded.windows, learned.windows);
  });
});
