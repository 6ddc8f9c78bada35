/**
 * The SQLite writer thread (collector/ingest/writer-thread.ts) on a real file: batches commit on
 * the thread and are readable at once on the main connection; an error keeps its code across the
 * thread (storage/faults.ts reads it); a thread that dies answers its batch 503 and the next batch
 * gets a new thread; close stops it.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { CollectorError } from '../../collector/errors';
import type { VerifiedReport } from '../../collector/ingest/ingest';
import { fromWireError, IngestWriter, toWireError } from '../../collector/ingest/writer-thread';
import { DEFAULT_CORRELATION } from '../../collector/location/correlate';
import { insertDevice } from '../../collector/storage/devices';
import { storageFaultOf } from '../../collector/storage/faults';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import { canonicalBody } from '../../protocol/report-crypto';
import { tempDatabaseFile } from '../helpers/collector/harness';
import { TestDevice } from '../helpers/collector/make-reports';

function verified(device: TestDevice, now: number): VerifiedReport {
  const report = device.nextReport({ createdAt: now });
  const canonical = canonicalBody(report.body)!;
  return { body: report.body, canonical: canonical.text, hash: canonical.hash, sig: report.sig, receivedAt: now };
}

async function startWriter(t: TestContext) {
  const file = tempDatabaseFile(t);
  const database = openSqliteStorage(file);
  t.after(() => database.close());
  const now = Date.now();
  const device = Object.assign(new TestDevice(), { deviceId: 'writer-device' });
  await insertDevice(database, { id: device.deviceId, publicKey: 'key', hostname: 'h', platform: 'linux', agentVersion: '1', now });
  const writer = new IngestWriter({ file: database.file!, correlation: DEFAULT_CORRELATION, retryAfterSeconds: 3 });
  t.after(() => writer.close());
  return { database, device, writer, now };
}

test('the writer thread commits batches readable on the main connection, and stops on close', async (t) => {
  const { database, device, writer, now } = await startWriter(t);
  const first = [verified(device, now), verified(device, now + 1)];
  assert.deepEqual(await writer.write(first), [{ status: 'stored', gap: false }, { status: 'stored', gap: false }]);
  assert.equal(Number((await database.get('SELECT count(*) AS n FROM reports'))?.n), 2, 'committed before the answer');
  assert.deepEqual(await writer.write([first[1]!]), [{ status: 'duplicate' }]);
  assert.equal(writer.threadsStarted, 1);
  await writer.close();
  assert.equal(Number((await database.get('SELECT count(*) AS n FROM reports'))?.n), 2, 'the main connection outlives the thread');
  await assert.rejects(writer.write([verified(device, now + 4)]), (error: unknown) => error instanceof CollectorError && error.code === 'SHUTTING_DOWN');
});

test('a thread that dies with a batch in flight answers it 503, and the next batch gets a new thread', async (t) => {
  const { database, device, writer, now } = await startWriter(t);
  assert.deepEqual(await writer.write([verified(device, now)]), [{ status: 'stored', gap: false }]);
  const thread = (writer as unknown as { worker: Worker }).worker;
  const inFlight = writer.write([verified(device, now + 1)]);
  // The writer unrefs an idle thread: if the answer arrives first, only this keeps the loop alive
  // until the exit. Without it the test runner can find the loop empty, end the test and run its
  // after hooks (closing the main connection) while the test still awaits.
  thread.ref();
  await thread.terminate();
  // Unless its answer was already on the way: then it is the outcome, never a hang.
  const [settled] = await Promise.allSettled([inFlight]);
  if (settled.status === 'rejected') {
    const error = settled.reason as CollectorError;
    assert.deepEqual([error instanceof CollectorError, error.code, error.statusCode, error.retryAfterSeconds], [true, 'STORAGE_UNAVAILABLE', 503, 3]);
  } else assert.deepEqual(settled.value, [{ status: 'stored', gap: false }]);
  const stored = Number((await database.get('SELECT count(*) AS n FROM reports'))?.n);
  const outcome = await writer.write([verified(device, now + 2)]);
  assert.equal(writer.threadsStarted, 2);
  // Whether the lost batch committed is unknown to the caller; the chain says which it was.
  assert.deepEqual(outcome, [stored === 2 ? { status: 'stored', gap: false } : { status: 'stored', gap: true }]);
});

test('errors keep their collector code, or their driver code for storage/faults.ts, across the thread', () => {
  const collector = fromWireError(toWireError(new CollectorError('OVERLOADED', 'busy', 429, 2)));
  assert.ok(collector instanceof CollectorError);
  assert.deepEqual([collector.code, collector.statusCode, collector.retryAfterSeconds, collector.message], ['OVERLOADED', 429, 2, 'busy']);
  const full = fromWireError(toWireError(Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' })));
  assert.equal(storageFaultOf(full), 'the disk is full (SQLITE_FULL)');
  assert.equal(fromWireError(toWireError('a thrown string')).message, 'a thrown string');
});
