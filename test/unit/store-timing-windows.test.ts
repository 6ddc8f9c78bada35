import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TimingWindow } from '../../common/timing';
import {
  countTimingWindows,
  deleteOldestTimingWindows,
  deleteTimingWindowsEndedBefore,
  insertTimingWindows,
  listLatestTimingWindows,
  listTimingWindows,
} from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

describe('timing_windows store', () => {
  it('round-trips windows through the row mapper, ids in order', (t) => {
    const { db } = testContext(t);
    const windows = [sampleWindow(1000), sampleWindow(2000, 7), sampleWindow(3000)];
    const ids = insertTimingWindows(db, windows);
    assert.equal(ids.length, 3);
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!);
    assert.deepEqual(
      listTimingWindows(db).map((row) => row.window),
      windows,
    );
  });

  it('lists after an id, since a time, and up to a limit', (t) => {
    const { db } = testContext(t);
    const ids = insertTimingWindows(db, [1000, 2000, 3000, 4000].map((time) => sampleWindow(time)));
    assert.deepEqual(
      listTimingWindows(db, { afterId: ids[1] }).map((row) => row.id),
      ids.slice(2),
    );
    assert.deepEqual(
      listTimingWindows(db, { since: 3500 }).map((row) => row.window.startedAt),
      [3000, 4000],
    );
    assert.equal(listTimingWindows(db, { limit: 2 }).length, 2);
    assert.deepEqual(
      listLatestTimingWindows(db, 2).map((row) => row.id),
      ids.slice(2),
    );
    assert.deepEqual(
      listLatestTimingWindows(db, 10).map((row) => row.id),
      ids,
    );
  });

  it('deletes by end time and oldest-first, using the ended_at index', (t) => {
    const { db } = testContext(t);
    insertTimingWindows(db, [5000, 1000, 3000, 4000].map((time) => sampleWindow(time)));
    assert.equal(deleteTimingWindowsEndedBefore(db, 3500), 1); // ended 2000
    assert.equal(deleteOldestTimingWindows(db, 1), 1); // ended 4000
    assert.deepEqual(
      listTimingWindows(db).map((row) => row.window.startedAt),
      [5000, 4000],
    );
    assert.equal(countTimingWindows(db), 2);
    const plan = db.prepare('EXPLAIN QUERY PLAN DELETE FROM timing_windows WHERE ended_at < ?').all(0) as { detail: string }[];
    assert.ok(
      plan.some((row) => row.detail.includes('timing_windows_ended_at')),
      JSON.stringify(plan),
    );
  });

  it('writes a batch atomically: a failing row rolls back the batch', (t) => {
    const { db } = testContext(t);
    const bad = { ...sampleWindow(2000), startedAt: null } as unknown as TimingWindow;
    assert.throws(() => insertTimingWindows(db, [sampleWindow(1000), bad]), /NOT NULL|constraint/i);
    assert.equal(countTimingWindows(db), 0);
  });
});
