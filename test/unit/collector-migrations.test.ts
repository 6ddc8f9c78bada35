/**
 * Collector SQLite schema: versioned in user_version, reopening is a no-op, a newer database is
 * refused untouched, and the hot queries use their intended indexes (EXPLAIN QUERY PLAN).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { decideChain } from '../../collector/ingest/chain';
import { COLLECTOR_SCHEMA_VERSION } from '../../collector/storage/migrations/index';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import { listDeviceAudit } from '../../collector/storage/audit-log';
import { listDevicePage, listFindingPage } from '../../collector/storage/fleet';
import type { Queryable, SqlParam } from '../../collector/storage/sql';
import { tempDatabaseFile } from '../helpers/collector/harness';
import { GENESIS_HASH } from '../../common/report';

test('schema version is tracked, reopening is a no-op, a newer database is refused untouched', async (t) => {
  const file = tempDatabaseFile(t);
  await openSqliteStorage(file).close();
  const reopened = openSqliteStorage(file);
  await reopened.close();
  const raw = new Database(file);
  assert.equal(raw.pragma('user_version', { simple: true }), COLLECTOR_SCHEMA_VERSION);
  raw.pragma('user_version = 99');
  raw.close();
  assert.throws(() => openSqliteStorage(file), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'DATABASE_TOO_NEW');
    assert.match(error.message, /99/);
    return true;
  });
  const after = new Database(file, { readonly: true });
  assert.equal(after.pragma('user_version', { simple: true }), 99, 'left untouched');
  after.close();
});

test('a file that is not a database is refused with a coded error', async (t) => {
  const file = tempDatabaseFile(t);
  const fs = await import('node:fs');
  fs.writeFileSync(file, 'this is not sqlite'.repeat(100));
  assert.throws(() => openSqliteStorage(file), (error: Error & { code?: string }) => error.code === 'STORAGE_UNAVAILABLE');
});

test('hot queries use their indexes', async (t) => {
  const file = tempDatabaseFile(t);
  await openSqliteStorage(file).close();
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  const plan = (sql: string, ...params: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((row) => row.detail).join(' | ');
  assert.match(plan('SELECT hash, prev_hash FROM reports WHERE device_id = ? AND seq = ?', 'd', 1), /USING INDEX sqlite_autoindex_reports_1/);
  assert.match(plan('SELECT * FROM findings WHERE cursor > ? ORDER BY cursor LIMIT ?', 0, 10), /USING INDEX sqlite_autoindex_findings_1/);
  assert.match(plan("SELECT * FROM findings WHERE kind = ? AND device_id = ? AND closed_at IS NULL", 'device-silent', 'd'), /findings_kind_open/);
  assert.match(plan('SELECT * FROM findings WHERE device_id = ? ORDER BY cursor DESC LIMIT ?', 'd', 10), /findings_(device_open|identity)/);
  assert.match(plan('SELECT * FROM devices WHERE last_seen_at < ?', 0), /devices_last_seen_at/);
  assert.match(plan('SELECT * FROM chain_gaps WHERE device_id = ? AND closed_at IS NULL AND from_seq <= ? AND to_seq >= ?', 'd', 1, 1), /chain_gaps_device/);
});

test('the device list, incident queue and audit reads use their indexes (the SQL the code issues)', async (t) => {
  const file = tempDatabaseFile(t);
  const storage = openSqliteStorage(file);
  t.after(() => storage.close());
  const issued: { sql: string; params: readonly SqlParam[] }[] = [];
  const recorder: Queryable = {
    dialect: 'sqlite',
    all: async (sql, params = []) => (issued.push({ sql, params }), storage.all(sql, params)),
    get: async (sql, params = []) => (issued.push({ sql, params }), storage.get(sql, params)),
    run: (sql, params) => storage.run(sql, params),
  };
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  const planOfLast = async (work: () => Promise<unknown>): Promise<string> => {
    issued.length = 0;
    await work();
    const first = issued[0]!;
    return (db.prepare(`EXPLAIN QUERY PLAN ${first.sql}`).all(...first.params) as { detail: string }[]).map((row) => row.detail).join(' | ');
  };
  const base = { retired: 'exclude', extra: [], cursor: null, limit: 100, silentBefore: 0 } as const;
  assert.match(await planOfLast(() => listDevicePage(recorder, { ...base, sort: 'risk' })), /SCAN d USING INDEX devices_risk_order/);
  assert.match(await planOfLast(() => listDevicePage(recorder, { ...base, sort: 'host' })), /SCAN d USING INDEX devices_host_order/);
  assert.match(await planOfLast(() => listDevicePage(recorder, { ...base, sort: 'last-seen' })), /SCAN d USING INDEX devices_seen_order/);
  const page2 = await planOfLast(() => listDevicePage(recorder, { ...base, sort: 'risk', cursor: Buffer.from(JSON.stringify([2, 5, 'x'])).toString('base64url') }));
  assert.match(page2, /devices_risk_order/);
  assert.doesNotMatch(page2, /TEMP B-TREE/, 'no sort step on later pages either');
  assert.match(await planOfLast(() => listDevicePage(recorder, { ...base, sort: 'risk', tag: 'lab' })), /device_tags/);
  const incidents = { before: null, limit: 50, openOnly: true, triage: 'active', includeRetired: false, now: 0 } as const;
  const queue = await planOfLast(() => listFindingPage(recorder, incidents));
  assert.match(queue, /SCAN f USING INDEX findings_open_cursor/);
  assert.doesNotMatch(queue, /TEMP B-TREE/);
  assert.match(await planOfLast(() => listFindingPage(recorder, { ...incidents, severity: 'high' })), /findings_open_severity_cursor/);
  assert.match(await planOfLast(() => listFindingPage(recorder, { ...incidents, openOnly: false, deviceId: 'd', includeRetired: true })), /findings_(device_open|identity)|sqlite_autoindex_findings_1/);
  assert.match(await planOfLast(() => listDeviceAudit(recorder, 'd', 0, 500)), /audit_log_device/);
});

test('chain decisions (pure)', () => {
  const none = { headSeq: 0, headHash: null, storedHashAtSeq: null, previousHash: null, nextPrevHash: null, openGap: null };
  const h = (c: string) => c.repeat(64);
  assert.deepEqual(decideChain({ seq: 1, prevHash: GENESIS_HASH, hash: h('a') }, none), { kind: 'append' });
  assert.equal(decideChain({ seq: 1, prevHash: h('f'), hash: h('a') }, none).kind, 'fork');
  assert.deepEqual(decideChain({ seq: 3, prevHash: h('f'), hash: h('c') }, none), { kind: 'gap', fromSeq: 1, toSeq: 2 });
  const head = { ...none, headSeq: 5, headHash: h('e') };
  assert.deepEqual(decideChain({ seq: 5, prevHash: h('d'), hash: h('e') }, { ...head, storedHashAtSeq: h('e') }), { kind: 'duplicate' });
  assert.equal(decideChain({ seq: 5, prevHash: h('d'), hash: h('9') }, { ...head, storedHashAtSeq: h('e') }).kind, 'fork');
  assert.deepEqual(decideChain({ seq: 6, prevHash: h('e'), hash: h('1') }, head), { kind: 'append' });
  assert.equal(decideChain({ seq: 6, prevHash: h('0'), hash: h('1') }, head).kind, 'fork');
  assert.equal(decideChain({ seq: 3, prevHash: h('b'), hash: h('c') }, head).kind, 'fork', 'behind head, no gap');
  const gap = { ...head, openGap: { fromSeq: 2, toSeq: 4 }, previousHash: h('a'), nextPrevHash: null };
  assert.equal(decideChain({ seq: 2, prevHash: h('a'), hash: h('b') }, gap).kind, 'fill');
  assert.equal(decideChain({ seq: 2, prevHash: h('0'), hash: h('b') }, gap).kind, 'fork');
  assert.equal(decideChain({ seq: 4, prevHash: h('c'), hash: h('d') }, { ...gap, previousHash: null, nextPrevHash: h('x') }).kind, 'fork');
});
