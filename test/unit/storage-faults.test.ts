/**
 * Writers on a database that refuses writes, with real SQLite refusals: `max_page_count` makes a
 * real file full (SQLITE_FULL) and `query_only` makes it refuse every write (SQLITE_READONLY).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputCaptureService, MAX_PENDING_WINDOWS } from '../../agent/input/input-capture-service';
import { createMemoryLogger } from '../../agent/log';
import type { Db } from '../../agent/store/database';
import { storageFaultOf, storageHealth } from '../../agent/store/storage-health';
import { RetentionService } from '../../agent/store/retention';
import { countTimingWindows, insertTimingWindows, listTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { FakeInputSource } from '../helpers/fake-input-source';
import { sampleWindow } from '../helpers/sample-window';

/** Cap the file at its current size and fill timing_windows' last page: the next window is refused. */
function fillTimingWindows(db: Db): void {
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  for (;;) {
    try {
      insertTimingWindows(db, [sampleWindow(0)]);
    } catch (error) {
      assert.equal((error as { code?: string }).code, 'SQLITE_FULL');
      return;
    }
  }
}

function storageLines(logger: ReturnType<typeof createMemoryLogger>) {
  return {
    failing: logger.lines.filter((line) => line.message.startsWith('Cannot write local data')),
    recovered: logger.lines.filter((line) => line.message === 'Local data can be written again'),
  };
}

describe('storage faults', () => {
  it('classifies SQLite and file system refusals, and nothing else', () => {
    assert.equal(storageFaultOf({ code: 'SQLITE_FULL' }), 'full');
    assert.equal(storageFaultOf({ code: 'ENOSPC' }), 'full');
    assert.equal(storageFaultOf({ code: 'SQLITE_READONLY_DBMOVED' }), 'read-only');
    assert.equal(storageFaultOf({ code: 'EROFS' }), 'read-only');
    assert.equal(storageFaultOf({ code: 'SQLITE_BUSY' }), 'locked');
    assert.equal(storageFaultOf({ code: 'SQLITE_IOERR_WRITE' }), 'io');
    assert.equal(storageFaultOf({ code: 'SQLITE_CONSTRAINT_UNIQUE' }), null);
    assert.equal(storageFaultOf(new TypeError('a bug')), null);
    assert.equal(storageFaultOf(null), null);
  });

  it('input capture drops the oldest windows past its backlog while the file is full, one warn line saying how many and why', async (t) => {
    const logger = createMemoryLogger();
    const ctx = testContext(t, { logger });
    const source = new FakeInputSource();
    const capture = new InputCaptureService(ctx, source);
    await capture.start();
    fillTimingWindows(ctx.db);
    for (let index = 0; index < MAX_PENDING_WINDOWS; index++) {
      source.tap(30, index * 1000, index * 1000 + 90);
      capture.flush();
    }
    assert.equal(capture.unstoredCount, MAX_PENDING_WINDOWS);
    const dropLines = () => logger.lines.filter((line) => line.message.startsWith('Dropped'));
    assert.equal(dropLines().length, 0, 'nothing dropped while the backlog has room');
    source.tap(30, 1e7, 1e7 + 90);
    capture.flush();
    assert.equal(capture.unstoredCount, MAX_PENDING_WINDOWS);
    assert.equal(dropLines().length, 1);
    const line = dropLines()[0]!;
    assert.equal(line.level, 'warn');
    assert.match(line.message, /^Dropped 1 timing window: the disk has refused them and the backlog of \d+ unstored windows is full$/);
    assert.deepEqual(line.fields, { windows: 1, reason: 'backlog-full', backlog: MAX_PENDING_WINDOWS });
    // Stopped here, while the database is still open (the context closes it after the test).
    await capture.stop();
  });

  it('input capture keeps windows in memory while the file is full and stores them in order once it has room', async (t) => {
    const logger = createMemoryLogger();
    const ctx = testContext(t, { logger });
    const source = new FakeInputSource();
    const capture = new InputCaptureService(ctx, source);
    await capture.start();
    t.after(() => capture.stop());
    const flushed: { id: number; keystrokes: number }[] = [];
    ctx.events.on('windowFlushed', ({ id, window }) => flushed.push({ id, keystrokes: window.keys.keystrokes }));
    fillTimingWindows(ctx.db);
    const filler = countTimingWindows(ctx.db);

    source.tap(30, 0, 90);
    assert.equal(capture.flush(), null, 'refused');
    source.tap(31, 1000, 1090);
    source.tap(32, 1200, 1290);
    assert.equal(capture.flush(), null, 'refused again');
    assert.equal(capture.unstoredCount, 2);
    assert.equal(flushed.length, 0, 'nothing is announced before it is stored');
    let lines = storageLines(logger);
    assert.equal(lines.failing.length, 1, 'one line for the condition');
    assert.equal(lines.failing[0]!.fields.condition, 'full');
    assert.equal(lines.failing[0]!.fields.code, 'SQLITE_FULL');
    assert.equal(storageHealth(ctx).fault, 'full');

    ctx.db.pragma('max_page_count = 1000000');
    source.tap(33, 2000, 2090);
    const id = capture.flush();
    assert.notEqual(id, null);
    assert.equal(capture.unstoredCount, 0);
    assert.deepEqual(flushed.map((entry) => entry.keystrokes), [1, 2, 1], 'all three, oldest first');
    assert.equal(flushed[2]!.id, id);
    assert.equal(countTimingWindows(ctx.db), filler + 3);
    assert.deepEqual(listTimingWindows(ctx.db, { afterId: flushed[0]!.id - 1 }).map((row) => row.window.keys.keystrokes), [1, 2, 1]);
    lines = storageLines(logger);
    assert.equal(lines.recovered.length, 1);
    assert.equal(lines.recovered[0]!.fields.failedWrites, 2);
    assert.equal(storageHealth(ctx).fault, null);
  });

  it('a flapping disk is not logged again within the repeat interval', (t) => {
    const logger = createMemoryLogger();
    const ctx = testContext(t, { logger });
    const health = storageHealth(ctx);
    const refuse = () => health.write('test write', () => ctx.db.prepare("INSERT INTO kv (key, value) VALUES ('k', '1')").run());
    const accept = () => health.write('test write', () => ctx.db.prepare('SELECT 1').get());
    ctx.db.pragma('query_only = ON');
    for (let round = 0; round < 5; round++) {
      const refused = refuse();
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.error.code, 'DATABASE_UNWRITABLE');
      assert.equal(accept().ok, true);
      ctx.clock.advance(60_000);
    }
    assert.equal(storageLines(logger).failing.length, 1);
    assert.equal(storageLines(logger).recovered.length, 1);
    ctx.clock.advance(10 * 60_000);
    refuse();
    assert.equal(storageLines(logger).failing.length, 2, 'logged again once the interval has passed');
    assert.equal(storageLines(logger).failing[1]!.fields.condition, 'read-only');
  });

  it('a bug in a write is rethrown, not absorbed', (t) => {
    const ctx = testContext(t);
    assert.throws(() => storageHealth(ctx).write('bad SQL', () => ctx.db.prepare('INSERT INTO no_such_table VALUES (1)').run()), /no such table/);
  });

  it('retention on a read-only database reports nothing done and throws nothing', (t) => {
    const logger = createMemoryLogger();
    const ctx = testContext(t, { logger, policy: { retention: { maxDays: 1, maxMegabytes: 50 } } });
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now() - 3 * 86_400_000)]);
    const retention = new RetentionService(ctx, ctx.databasePath);
    ctx.db.pragma('query_only = ON');
    assert.equal(retention.runNow(), null);
    assert.equal(countTimingWindows(ctx.db), 1);
    ctx.db.pragma('query_only = OFF');
    assert.equal(retention.runNow()?.deletedByAge.timing_windows, 1);
    assert.equal(storageLines(logger).failing.length, 1);
    assert.equal(storageLines(logger).recovered.length, 1);
  });
});
