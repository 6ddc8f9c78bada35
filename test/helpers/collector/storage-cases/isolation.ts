/**
 * Storage case: a report that fails in the commit path fails alone. Seeded random interleavings of
 * valid deliveries (appends, redeliveries, gaps and late fills, forks) from several devices with
 * poison reports of other devices, all committed in ONE batch through the commit queue, must give
 * every valid report the outcome and the stored rows it gets in a batch without the poison.
 *
 * The poisons bypass the route's checks on purpose: each is a value some layer above storage could
 * miss, and what the database or ingest does with it is exactly what must not spread.
 */
import assert from 'node:assert/strict';
import { CommitQueue } from '../../../../collector/commit-queue';
import { ingestReports, type IngestOutcome, type VerifiedReport } from '../../../../collector/ingest/ingest';
import { IngestWriter } from '../../../../collector/ingest/writer-thread';
import { DEFAULT_CORRELATION } from '../../../../collector/location/correlate';
import { insertDevice } from '../../../../collector/storage/devices';
import type { Row } from '../../../../collector/storage/sql';
import type { ReportBody, SignedReport } from '../../../../common/report';
import { canonicalBody, sealReport } from '../../../../protocol/report-crypto';
import { seededRandom } from '../../../../agent/sync/backoff';
import { sampleFinding, TestDevice } from '../make-reports';
import { dumpState, type StorageCase, type StorageKit } from '../storage-kit';

const BASE = 1_700_000_000_000;
const ROUNDS = 12;
const SEED = 0x150_1a7e;

/** How a poison report is made bad, and what it ends as on each store. */
interface Poison {
  readonly name: string;
  /** The body to sign; `deviceId` is a device of its own. */
  body(base: ReportBody): ReportBody;
  /** Whether the device is enrolled (a report of a deleted device reaches the commit too). */
  readonly enrolled: boolean;
  /** Expected outcome status per dialect ('failed': rejected with the error it caused). */
  readonly expect: { readonly sqlite: string; readonly postgres: string };
}

const POISONS: readonly Poison[] = [
  {
    // Integer columns refuse a fraction on both stores (SQLite STRICT, PostgreSQL int8).
    name: 'fractional createdAt',
    body: (base) => ({ ...base, createdAt: BASE + 0.5 }),
    enrolled: true,
    expect: { sqlite: 'failed', postgres: 'failed' },
  },
  {
    name: 'seq beyond int8',
    body: (base) => ({ ...base, seq: 2 ** 63 }),
    enrolled: true,
    expect: { sqlite: 'failed', postgres: 'failed' },
  },
  {
    // PostgreSQL text refuses NUL; SQLite stores it. The route refuses it before it gets here.
    name: 'NUL in a finding title',
    body: (base) => ({ ...base, findings: [sampleFinding({ key: 'nul', title: 'a\u0000b', firstSeenAt: BASE, lastSeenAt: BASE })] }),
    enrolled: true,
    expect: { sqlite: 'stored', postgres: 'failed' },
  },
  {
    // Evidence that cannot be serialized throws in ingest itself, after other reports' writes were buffered.
    name: 'unserializable evidence',
    body: (base) => ({ ...base, findings: [sampleFinding({ key: 'big', evidence: { n: 1n } as never, firstSeenAt: BASE, lastSeenAt: BASE })] }),
    enrolled: true,
    expect: { sqlite: 'failed', postgres: 'failed' },
  },
  {
    name: 'device deleted before commit',
    body: (base) => base,
    enrolled: false,
    expect: { sqlite: 'device-unknown', postgres: 'device-unknown' },
  },
];

function verified(report: SignedReport, receivedAt: number): VerifiedReport {
  const canonical = canonicalBody(report.body);
  // A poison may be beyond what canonical JSON takes (a BigInt): it must fail in ingest, from its body
  // on the main thread and from its text on the writer thread (which parses the body from the text).
  const text = canonical?.text ?? 'not JSON: the body holds a BigInt';
  return { body: report.body, canonical: text, hash: canonical?.hash ?? 'f'.repeat(64), sig: report.sig, receivedAt };
}

/** One device's deliveries in the order it sends them: its chain with redeliveries, a held-back report (gap, then fill) and a fork. */
function deliveries(device: TestDevice, rand: () => number): SignedReport[] {
  const chain = Array.from({ length: 2 + Math.floor(rand() * 4) }, (_, index) =>
    device.nextReport({ createdAt: BASE + index, findings: rand() < 0.5 ? [sampleFinding({ key: `k${index % 2}`, firstSeenAt: BASE, lastSeenAt: BASE + index })] : [] }),
  );
  const sent: SignedReport[] = [...chain];
  if (chain.length > 2 && rand() < 0.5) {
    // Hold one back: the next one opens a gap, the held one fills it later.
    const held = 1 + Math.floor(rand() * (chain.length - 2));
    sent.splice(held, 1);
    sent.push(chain[held]!);
  }
  if (rand() < 0.5) sent.splice(Math.floor(rand() * (sent.length + 1)), 0, chain[Math.floor(rand() * chain.length)]!);
  if (rand() < 0.3) sent.push(sealReport({ ...chain[0]!.body, createdAt: BASE - 1 }, device.privateKey).report);
  return sent;
}

/** Merge per-device sequences at random, keeping each device's own order. */
function interleave<T>(sequences: T[][], rand: () => number): T[] {
  const queues = sequences.map((sequence) => [...sequence]);
  const merged: T[] = [];
  for (;;) {
    const open = queues.filter((queue) => queue.length > 0);
    if (open.length === 0) return merged;
    merged.push(open[Math.floor(rand() * open.length)]!.shift()!);
  }
}

function rowsOf(state: Record<string, Row[]>, deviceIds: ReadonlySet<string>): Record<string, Row[]> {
  return Object.fromEntries(Object.entries(state).map(([table, rows]) => [table, rows.filter((row) => deviceIds.has(String(row.device_id ?? row.id)))]));
}

async function poisonFailsAlone(kit: StorageKit, through: 'main thread' | 'writer thread'): Promise<void> {
  const [database, reference] = await Promise.all([kit.open(), kit.open()]);
  if (through === 'writer thread' && typeof database.file !== 'string') throw new Error('the writer thread commits SQLite files only');
  const writer = through === 'writer thread' ? new IngestWriter({ file: database.file!, correlation: DEFAULT_CORRELATION, retryAfterSeconds: 1 }) : null;
  kit.t.after(() => writer?.close());
  const rand = seededRandom(SEED);
  let transactions = 0;
  const queue = new CommitQueue(
    (batch) => {
      transactions += 1;
      return writer ? writer.write(batch) : ingestReports(database, batch);
    },
    { maxPending: 10_000, maxBatch: 10_000, retryAfterSeconds: 1 },
  );
  const poisonSeen = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const devices = Array.from({ length: 2 + Math.floor(rand() * 3) }, (_, index) => Object.assign(new TestDevice(), { deviceId: `r${round}-d${index}` }));
    for (const device of devices) {
      for (const db of [database, reference]) {
        await insertDevice(db, { id: device.deviceId, publicKey: `key-${device.deviceId}`, hostname: 'h', platform: 'linux', agentVersion: '1', now: BASE });
      }
    }
    const valid = interleave(devices.map((device) => deliveries(device, rand)), rand).map((report, index) => verified(report, BASE + 100 + index));
    const expected = await ingestReports(reference, valid);

    // One to three poisons at random places, each from a device of its own.
    const batch: { report: VerifiedReport; poison: Poison | null }[] = valid.map((report) => ({ report, poison: null }));
    const poisons = 1 + Math.floor(rand() * 3);
    for (let index = 0; index < poisons; index++) {
      const poison = POISONS[Math.floor(rand() * POISONS.length)]!;
      const device = Object.assign(new TestDevice(), { deviceId: `r${round}-p${index}` });
      if (poison.enrolled) {
        await insertDevice(database, { id: device.deviceId, publicKey: `key-${device.deviceId}`, hostname: 'h', platform: 'linux', agentVersion: '1', now: BASE });
      }
      const base = device.nextReport({ createdAt: BASE }).body;
      const report = verified({ body: poison.body(base), sig: sealReport(base, device.privateKey).report.sig }, BASE + 99);
      batch.splice(Math.floor(rand() * (batch.length + 1)), 0, { report, poison });
      poisonSeen.set(poison.name, (poisonSeen.get(poison.name) ?? 0) + 1);
    }

    const transactionsBefore = transactions;
    const settled = await Promise.allSettled(batch.map((item) => queue.submit(item.report)));
    assert.equal(transactions, transactionsBefore + 1, `round ${round}: every report in one batch`);
    const validOutcomes: IngestOutcome[] = [];
    settled.forEach((result, index) => {
      const { poison } = batch[index]!;
      const status = result.status === 'fulfilled' ? result.value.status : 'failed';
      if (poison) assert.equal(status, poison.expect[database.dialect], `round ${round}: poison '${poison.name}'`);
      else {
        assert.equal(result.status, 'fulfilled', `round ${round}: a valid report was failed by a poison: ${result.status === 'rejected' ? String(result.reason) : ''}`);
        if (result.status === 'fulfilled') validOutcomes.push(result.value);
      }
    });
    assert.deepEqual(validOutcomes, expected, `round ${round}: valid reports' outcomes`);
    const ids = new Set(devices.map((device) => device.deviceId));
    assert.deepEqual(rowsOf(await dumpState(database), ids), rowsOf(await dumpState(reference), ids), `round ${round}: valid devices' rows`);
  }
  await queue.close();
  // Every kind of poison must have been drawn, or the property says less than it claims.
  assert.deepEqual([...poisonSeen.keys()].sort(), POISONS.map((poison) => poison.name).sort());
}

export const ISOLATION_CASES: readonly StorageCase[] = [
  { name: 'a poison report in a batch fails alone: valid reports of other devices keep their outcome and rows (seeded interleavings)', run: (kit) => poisonFailsAlone(kit, 'main thread') },
];

/** Cases for SQLite files only (the writer thread is SQLite's). */
export const SQLITE_FILE_CASES: readonly StorageCase[] = [
  { name: 'a poison report fails alone on the SQLite writer thread too: errors cross the thread with their outcome', run: (kit) => poisonFailsAlone(kit, 'writer thread') },
];
