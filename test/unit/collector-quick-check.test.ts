/**
 * The integrity check of a large collector database runs on a worker thread: on a real SQLite file
 * past the threshold it passes when the file is sound, names the damage when a page is overwritten,
 * and the collector starts without waiting for it, then reports the result through /v1/health.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import { quickCheckInWorker, WORKER_CHECK_MIN_BYTES } from '../../collector/storage/quick-check';
import { startTestCollector, tempDatabaseFile } from '../helpers/collector/harness';

/** A migrated collector database padded past the worker threshold with a filler table. */
async function largeDatabase(file: string): Promise<void> {
  await openSqliteStorage(file).close();
  const db = new Database(file);
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)');
  const insert = db.prepare('INSERT INTO filler (data) VALUES (?)');
  const chunk = Buffer.alloc(64 * 1024, 0x42);
  db.transaction(() => {
    for (let index = 0; index * chunk.length < WORKER_CHECK_MIN_BYTES + 2 * chunk.length; index++) insert.run(chunk);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  assert.ok(fs.statSync(file).size >= WORKER_CHECK_MIN_BYTES);
}

test('a large sound file passes the worker check; the collector starts and reports ok', async (t) => {
  const file = tempDatabaseFile(t);
  await largeDatabase(file);
  assert.deepEqual(await quickCheckInWorker(file), ['ok']);
  const collector = await startTestCollector(t, { storage: { kind: 'sqlite', file } });
  const response = await collector.app.inject({ method: 'GET', url: '/v1/health' });
  assert.equal(response.statusCode, 200, response.body);
});

test('a large damaged file: the worker check names the damage and health says degraded once it finishes', async (t) => {
  const file = tempDatabaseFile(t);
  await largeDatabase(file);
  // Garbage over interior pages of the filler table's tree, past the collector's own tables.
  const size = fs.statSync(file).size;
  const handle = fs.openSync(file, 'r+');
  fs.writeSync(handle, Buffer.alloc(8 * 4096, 0xa5), 0, 8 * 4096, Math.floor(size / 4096 / 2) * 4096);
  fs.closeSync(handle);
  const lines = await quickCheckInWorker(file).catch((error: Error) => [error.message]);
  assert.notDeepEqual(lines, ['ok']);

  const collector = await startTestCollector(t, { storage: { kind: 'sqlite', file } });
  let health = { status: 'ok', reasons: [] as string[] };
  for (let attempt = 0; attempt < 100 && health.status === 'ok'; attempt++) {
    health = (await collector.app.inject({ method: 'GET', url: '/v1/health' })).json();
    if (health.status === 'ok') await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(health.status, 'degraded');
  assert.ok(health.reasons.some((reason) => reason.startsWith('database integrity check failed')), JSON.stringify(health.reasons));
});
