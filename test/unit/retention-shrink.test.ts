import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import type { Db } from '../../agent/store/database';
import { runRetention, RetentionService, type RetentionPruner } from '../../agent/store/retention';
import { countTimingWindows, insertTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

const DAY = 86_400_000;

function fill(db: Db, count: number, firstStart: number, stepMs: number): void {
  const windows = Array.from({ length: count }, (_, i) => sampleWindow(firstStart + i * stepMs));
  insertTimingWindows(db, windows);
}

function insertFinding(db: Db, key: string, lastSeenAt: number, closedAt: number | null): void {
  db.prepare(
    `INSERT INTO findings (key, kind, severity, title, explanation, evidence, first_seen_at, last_seen_at, closed_at)
     VALUES (?, 'remote-tool-running', 'medium', 't', 'e', '{}', ?, ?, ?)`,
  ).run(key, lastSeenAt, lastSeenAt, closedAt);
}

function fileBytes(file: string): number {
  return fs.statSync(file).size + (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);
}

describe('retention', () => {
  it('deletes windows and closed findings past maxDays, keeps open findings and recent rows', (t) => {
    const ctx = testContext(t);
    const now = ctx.clock.now();
    insertTimingWindows(ctx.db, [sampleWindow(now - 40 * DAY), sampleWindow(now - 31 * DAY), sampleWindow(now - 2 * DAY)]);
    insertFinding(ctx.db, 'old-closed', now - 40 * DAY, now - 40 * DAY);
    insertFinding(ctx.db, 'old-open', now - 40 * DAY, null);
    insertFinding(ctx.db, 'new-closed', now - DAY, now - DAY);
    const outcome = runRetention(ctx.db, ctx.databasePath, { maxDays: 30, maxMegabytes: 50 }, now);
    assert.deepEqual(outcome.deletedByAge, { timing_windows: 2, findings: 1 });
    assert.equal(countTimingWindows(ctx.db), 1);
    const keys = (ctx.db.prepare('SELECT key FROM findings ORDER BY key').all() as { key: string }[]).map((row) => row.key);
    assert.deepEqual(keys, ['new-closed', 'old-open']);
  });

  it('enforces maxMegabytes and the file on disk really shrinks (auto_vacuum=INCREMENTAL)', (t) => {
    const ctx = testContext(t);
    assert.equal(ctx.db.pragma('auto_vacuum', { simple: true }), 2, 'new databases are created INCREMENTAL');
    fill(ctx.db, 12_000, ctx.clock.now() - DAY, 1000);
    ctx.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = fileBytes(ctx.databasePath);
    assert.ok(before > 3 * 1024 * 1024, `fixture is big enough (${before} bytes)`);
    const outcome = runRetention(ctx.db, ctx.databasePath, { maxDays: 30, maxMegabytes: 1 }, ctx.clock.now());
    const after = fileBytes(ctx.databasePath);
    assert.ok(after <= 1.1 * 1024 * 1024, `file is ${after} bytes after, cap 1 MiB`);
    assert.ok(after < before / 2, `${before} -> ${after}`);
    assert.equal(outcome.bytesAfter, after);
    assert.ok(outcome.deletedBySize.timing_windows! > 0);
    assert.ok(countTimingWindows(ctx.db) > 0, 'the newest windows are kept');
    const oldestLeft = ctx.db.prepare('SELECT min(started_at) AS t FROM timing_windows').get() as { t: number };
    assert.ok(oldestLeft.t > ctx.clock.now() - DAY, 'the oldest went first');
  });

  it('shrinks a pre-retention file (auto_vacuum=NONE) with a full VACUUM', (t) => {
    const ctx = testContext(t);
    ctx.db.pragma('auto_vacuum = NONE');
    ctx.db.exec('VACUUM');
    assert.equal(ctx.db.pragma('auto_vacuum', { simple: true }), 0);
    fill(ctx.db, 12_000, ctx.clock.now() - DAY, 1000);
    ctx.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = fileBytes(ctx.databasePath);
    runRetention(ctx.db, ctx.databasePath, { maxDays: 30, maxMegabytes: 1 }, ctx.clock.now());
    const after = fileBytes(ctx.databasePath);
    assert.ok(after <= 1.1 * 1024 * 1024 && after < before / 2, `${before} -> ${after}`);
    assert.equal(ctx.db.pragma('integrity_check', { simple: true }), 'ok');
  });

  it('calls extra pruners with the age cutoff and for the size cap', (t) => {
    const ctx = testContext(t);
    const calls: string[] = [];
    const pruner: RetentionPruner = {
      name: 'outbox',
      pruneBefore: (_db, cutoff) => (calls.push(`before:${cutoff}`), 3),
      pruneOldest: (_db, count) => (calls.push(`oldest:${count}`), 0),
    };
    fill(ctx.db, 8000, ctx.clock.now() - DAY, 1000);
    const outcome = runRetention(ctx.db, ctx.databasePath, { maxDays: 7, maxMegabytes: 1 }, ctx.clock.now(), [pruner]);
    assert.equal(calls[0], `before:${ctx.clock.now() - 7 * DAY}`);
    assert.ok(calls.some((call) => call.startsWith('oldest:')));
    assert.equal(outcome.deletedByAge.outbox, 3);
    assert.equal(countTimingWindows(ctx.db), 8000, 'only the given pruners run: timing_windows untouched');
  });

  it('runs as a service at start and logs what it trimmed', (t) => {
    const ctx = testContext(t, { policy: { retention: { maxDays: 1, maxMegabytes: 50 } } });
    fill(ctx.db, 10, ctx.clock.now() - 10 * DAY, 1000);
    const service = new RetentionService(ctx, ctx.databasePath);
    service.start();
    t.after(() => service.stop());
    assert.equal(countTimingWindows(ctx.db), 0);
    const lines = (ctx.logger as unknown as { lines: { message: string; fields: Record<string, unknown> }[] }).lines;
    assert.ok(lines.some((line) => /Retention/.test(line.message) && line.fields.deleted === 10));
  });
});
