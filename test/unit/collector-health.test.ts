/**
 * /v1/health tells the truth: 200 ok on a sound database; 503 degraded with the reason on a
 * corrupt SQLite file (garbage written into its middle) and while writes fail (the database
 * refuses them, as on a full disk); ok again once a later check passes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { PROBE_TTL_MS } from '../../collector/health';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import type { Queryable } from '../../collector/storage/sql';
import { startTestCollector, tempDatabaseFile } from '../helpers/collector/harness';
import { sampleFinding } from '../helpers/collector/make-reports';
import { PassThroughDatabase } from '../helpers/collector/storage-kit';

interface Health {
  ok: boolean;
  status: string;
  reasons: string[];
}

test('a sound database: 200, ok, no reasons', async (t) => {
  const collector = await startTestCollector(t);
  const response = await collector.app.inject({ method: 'GET', url: '/v1/health' });
  assert.equal(response.statusCode, 200);
  assert.deepEqual({ ...response.json<Health>(), queueDepth: 0, serverTime: 0 }, { ok: true, status: 'ok', reasons: [], queueDepth: 0, serverTime: 0 });
});

test('a SQLite file with garbage in its middle: 503 degraded, naming the failed integrity check', async (t) => {
  const file = tempDatabaseFile(t);
  const first = await startTestCollector(t, { storage: { kind: 'sqlite', file } });
  for (let index = 0; index < 4; index++) {
    const device = await first.enroll();
    for (let report = 0; report < 10; report++) assert.equal((await first.postReport(device.nextReport({ padToBytes: 4096, findings: [sampleFinding()] }))).statusCode, 200);
  }
  await first.app.close();
  const size = fs.statSync(file).size;
  assert.ok(size > 40 * 4096, `a database of many pages (${size} bytes)`);
  const handle = fs.openSync(file, 'r+');
  fs.writeSync(handle, Buffer.alloc(4 * 4096, 0xa5), 0, 4 * 4096, Math.floor(size / 4096 / 2) * 4096);
  fs.closeSync(handle);

  const collector = await startTestCollector(t, { storage: { kind: 'sqlite', file } });
  const response = await collector.app.inject({ method: 'GET', url: '/v1/health' });
  assert.equal(response.statusCode, 503, response.body);
  const health = response.json<Health>();
  assert.equal(health.status, 'degraded');
  assert.ok(health.reasons.some((reason) => reason.startsWith('database integrity check failed')), JSON.stringify(health.reasons));
});

/** The real database, whose transactions fail with SQLite's full-disk error while `full` is set. */
class FullDiskDatabase extends PassThroughDatabase {
  full = false;

  override transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.full) return Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    return super.transaction(work);
  }
}

test('while writes fail (full disk): 503 degraded with the reason, reports refused with 503 STORAGE_UNAVAILABLE, ok again after', async (t) => {
  let now = 1_700_000_000_000;
  const database = new FullDiskDatabase(openSqliteStorage(tempDatabaseFile(t)));
  const collector = await startTestCollector(t, {}, { database, clock: () => now });
  const device = await collector.enroll();
  const health = async () => {
    const response = await collector.app.inject({ method: 'GET', url: '/v1/health' });
    return { status: response.statusCode, body: response.json<Health>() };
  };
  assert.equal((await health()).status, 200);

  database.full = true;
  const refused = await collector.postReport(device.peekReport());
  assert.equal(refused.statusCode, 503, 'not acknowledged');
  assert.equal(refused.json<{ error: { code: string } }>().error.code, 'STORAGE_UNAVAILABLE');
  assert.equal(refused.headers['retry-after'], '2');
  now += PROBE_TTL_MS;
  const degraded = await health();
  assert.equal(degraded.status, 503);
  assert.deepEqual(degraded.body.reasons, [
    'storage unavailable: the disk is full (SQLITE_FULL)',
    'database cannot be written and read: database or disk is full',
    'the last commit of reports failed: database or disk is full',
  ]);

  database.full = false;
  assert.equal((await collector.postReport(device.nextReport())).statusCode, 200);
  now += PROBE_TTL_MS;
  assert.deepEqual(await health(), { status: 200, body: { ...(await health()).body, ok: true, status: 'ok', reasons: [] } });
  assert.equal(await collector.count('reports'), 1);
});
