/**
 * Storage case: the batch path of ingest (batch-wide reads, multi-row writes) ends in exactly the
 * state of the one-report path, run on a second database as the reference.
 */
import assert from 'node:assert/strict';
import type { SignedReport } from '../../../../common/report';
import { ingestReports, type BatchOutcome, type VerifiedReport } from '../../../../collector/ingest/ingest';
import { sweepSilentDevices } from '../../../../collector/ingest/silence';
import { insertDevice } from '../../../../collector/storage/devices';
import type { SqlDatabase } from '../../../../collector/storage/sql';
import { canonicalBody } from '../../../../protocol/report-crypto';
import { sampleFinding, TestDevice } from '../make-reports';
import { sealReport } from '../../../../protocol/report-crypto';
import { dumpState, type StorageCase, type StorageKit } from '../storage-kit';

const BASE = 1_700_000_000_000;
const DEVICE_IDS = ['d1', 'd2', 'd3', 'd4'];

/** Devices d1..d4, of which d3 was last seen an hour ago and has its device-silent finding. */
async function seedDevices(database: SqlDatabase): Promise<void> {
  for (const id of DEVICE_IDS) {
    await insertDevice(database, { id, publicKey: `key-${id}`, hostname: id, platform: 'linux', agentVersion: '1', now: id === 'd3' ? BASE - 3_600_000 : BASE });
  }
  assert.equal(await sweepSilentDevices(database, BASE, 60_000), 1, 'd3 is silent before the batch');
}

/**
 * One batch mixing every case: appends with findings (updated, closed, two of one identity in one
 * report), redeliveries, a gap and its fill (d2), a silent device (d3), a fork against a stored seq
 * and a wrong first link (d4).
 */
function mixedBatch(): VerifiedReport[] {
  const [d1, d2, d3, d4] = DEVICE_IDS.map((id) => Object.assign(new TestDevice(), { deviceId: id }));
  const f1 = sampleFinding({ key: 'f1', firstSeenAt: BASE - 1000, lastSeenAt: BASE });
  const d1r1 = d1!.nextReport({ findings: [f1], createdAt: BASE });
  const d2r = [1, 2, 3].map(() => d2!.nextReport({ createdAt: BASE }));
  const d1r2 = d1!.nextReport({ findings: [{ ...f1, lastSeenAt: BASE + 1 }, sampleFinding({ key: 'f2', firstSeenAt: BASE })], createdAt: BASE });
  const d1r3 = d1!.nextReport({ findings: [{ ...f1, lastSeenAt: BASE + 2, closedAt: BASE + 2 }], createdAt: BASE });
  const d1r3Rewritten = sealReport({ ...d1r3.body, createdAt: BASE + 5 }, d1!.privateKey).report;
  const d1r4 = d1!.nextReport({
    findings: [sampleFinding({ key: 'f3', firstSeenAt: BASE, title: 'first' }), sampleFinding({ key: 'f3', firstSeenAt: BASE, title: 'second' })],
    createdAt: BASE,
  });
  const d3r1 = d3!.nextReport({ createdAt: BASE });
  const d4r1 = d4!.nextReport({ findings: [sampleFinding({ key: 'f4' })], createdAt: BASE });
  const d4Fork = sealReport({ ...d4r1.body, prevHash: 'c'.repeat(64) }, d4!.privateKey).report;
  const sequence: SignedReport[] = [d1r1, d2r[0]!, d1r2, d1r2, d2r[2]!, d1r3, d2r[1]!, d3r1, d4Fork, d1r3Rewritten, d4r1, d1r4, d4r1];
  return sequence.map((report, index) => {
    const canonical = canonicalBody(report.body)!;
    return { body: report.body, canonical: canonical.text, hash: canonical.hash, sig: report.sig, receivedAt: BASE + 10 + index };
  });
}

/** Cursors stay unique and below the counter, whatever the path. */
async function assertCursorsUnique(database: SqlDatabase): Promise<void> {
  const cursors = (await database.all('SELECT cursor FROM findings')).map((row) => Number(row.cursor));
  const counter = Number((await database.get("SELECT value FROM counters WHERE name = 'finding_cursor'"))?.value);
  assert.equal(new Set(cursors).size, cursors.length);
  assert.ok(cursors.every((cursor) => cursor >= 1 && cursor <= counter));
}

async function batchMatchesOneByOne(kit: StorageKit): Promise<void> {
  const [batchDatabase, serialDatabase] = await Promise.all([kit.open(), kit.open()]);
  await seedDevices(batchDatabase);
  await seedDevices(serialDatabase);
  const verified = mixedBatch();

  const batchOutcomes = await ingestReports(batchDatabase, verified);
  const serialOutcomes: BatchOutcome[] = [];
  for (const report of verified) serialOutcomes.push(...(await ingestReports(serialDatabase, [report])));
  assert.deepEqual(batchOutcomes, serialOutcomes);
  assert.deepEqual(
    batchOutcomes.map((outcome) => outcome.status),
    ['stored', 'stored', 'stored', 'duplicate', 'stored', 'stored', 'stored', 'stored', 'fork', 'fork', 'stored', 'stored', 'duplicate'],
  );

  const batchState = await dumpState(batchDatabase);
  assert.deepEqual(batchState, await dumpState(serialDatabase));
  assert.equal(batchState.reports!.length, 9);
  assert.deepEqual(
    batchState.findings!.filter((row) => row.key === 'f3').map((row) => row.title),
    ['first'],
    'of two findings with one identity in one report, the first wins',
  );
  await assertCursorsUnique(batchDatabase);
}

export const BATCH_CASES: readonly StorageCase[] = [
  { name: 'one batch with appends, redeliveries, forks, a gap, a fill and a silent device ends exactly like one report per batch', run: batchMatchesOneByOne },
];
