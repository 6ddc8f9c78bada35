/** Storage cases: enrollment, and where reports land in their device's chain (append, duplicate, gap, fill, fork). */
import assert from 'node:assert/strict';
import { canonicalize } from '../../../../protocol/canonical-json';
import { GENESIS_HASH } from '../../../../common/report';
import type { FleetFinding, StoredReport } from '../../../../collector/schemas';
import { TEST_ENROLLMENT_SECRET, type TestCollector } from '../harness';
import { sampleFinding, TestDevice } from '../make-reports';
import { sealReport } from '../../../../protocol/report-crypto';
import { assertUnchanged, errorCode, snapshot, type StorageCase, type StorageKit } from '../storage-kit';

async function enrollIsIdempotent(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = new TestDevice({ hostname: 'laptop-a' });
  const first = await collector.app.inject({ method: 'POST', url: '/v1/enroll', payload: device.enrollRequest(TEST_ENROLLMENT_SECRET) });
  assert.equal(first.statusCode, 200, first.body);
  const again = await collector.app.inject({ method: 'POST', url: '/v1/enroll', payload: device.enrollRequest(TEST_ENROLLMENT_SECRET) });
  assert.equal(again.json<{ deviceId: string }>().deviceId, first.json<{ deviceId: string }>().deviceId);
  assert.equal(await collector.count('devices'), 1);

  const denied = await collector.app.inject({ method: 'POST', url: '/v1/enroll', payload: new TestDevice().enrollRequest('wrong-secret-123') });
  assert.equal(denied.statusCode, 401);
  assert.equal(errorCode(denied), 'ENROLLMENT_DENIED');
  const badKey = await collector.app.inject({
    method: 'POST',
    url: '/v1/enroll',
    payload: { ...device.enrollRequest(TEST_ENROLLMENT_SECRET), publicKey: Buffer.alloc(44, 7).toString('base64') },
  });
  assert.equal(badKey.statusCode, 400);
  assert.equal(errorCode(badKey), 'PAYLOAD_INVALID');
  assert.equal(await collector.count('devices'), 1);
}

async function storedOnceThenDuplicate(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const report = device.nextReport({ findings: [sampleFinding()] });
  const stored = await collector.postReport(report);
  assert.equal(stored.statusCode, 200, stored.body);
  assert.deepEqual({ ...stored.json<object>(), serverTime: 0 }, { status: 'stored', seq: 1, gap: false, serverTime: 0 });
  const duplicate = await collector.postReport(report);
  assert.equal(duplicate.statusCode, 200);
  assert.equal(duplicate.json<{ status: string }>().status, 'duplicate');
  assert.equal(await collector.count('reports'), 1);
  assert.equal(await collector.count('findings'), 1);

  // Concurrent redeliveries land in the same commit batch: still exactly one row.
  const next = device.nextReport();
  const both = await Promise.all([collector.postReport(next), collector.postReport(next), collector.postReport(next)]);
  assert.deepEqual(both.map((response) => response.statusCode), [200, 200, 200]);
  assert.deepEqual(both.map((response) => response.json<{ status: string }>().status).sort(), ['duplicate', 'duplicate', 'stored']);
  assert.equal(await collector.count('reports'), 2);
}

async function readsBackByteForByte(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const first = device.nextReport({ findings: [sampleFinding({ explanation: 'Ünïcödé ✓ "quoted" \u2028 line' })] });
  const second = device.nextReport();
  assert.equal((await collector.postReport(first)).statusCode, 200);
  assert.equal((await collector.postReport(second)).statusCode, 200);
  for (const report of [first, second]) {
    const response = await collector.itGet(`/v1/reports/${device.deviceId}/${report.body.seq}`);
    assert.equal(response.statusCode, 200, response.body);
    const stored = response.json<StoredReport>();
    assert.equal(stored.canonicalBody, canonicalize(report.body));
    assert.equal(stored.sig, report.sig);
    assert.deepEqual(stored.verification, { signatureValid: true, hashMatches: true, chain: 'linked' });
  }
  const missing = await collector.itGet(`/v1/reports/${device.deviceId}/99`);
  assert.equal(missing.statusCode, 404);
}

async function openChainGaps(collector: TestCollector, deviceId: string): Promise<FleetFinding[]> {
  const findings = (await collector.itGet(`/v1/devices/${deviceId}/findings`)).json<{ findings: FleetFinding[] }>().findings;
  return findings.filter((finding) => finding.kind === 'chain-gap' && finding.closedAt === null);
}

async function gapThenLateFills(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const reports = [1, 2, 3, 4, 5].map(() => device.nextReport());
  assert.equal((await collector.postReport(reports[0]!)).statusCode, 200);
  const ahead = await collector.postReport(reports[4]!);
  assert.equal(ahead.statusCode, 200, ahead.body);
  assert.deepEqual([ahead.json<{ status: string }>().status, ahead.json<{ gap: boolean }>().gap], ['stored', true]);
  assert.equal(await collector.count('chain_gaps'), 1);
  const gap = (await openChainGaps(collector, device.deviceId))[0];
  assert.ok(gap, 'an open chain-gap finding');
  assert.deepEqual(gap.evidence, { fromSeq: 2, toSeq: 4, missing: 3 });

  // A late seq 3 links to nothing stored yet on its left, but seq 4 is missing too: accepted, gap split.
  assert.equal((await collector.postReport(reports[2]!)).statusCode, 200);
  // A late seq 2 must link to stored 1 (it does) and be linked from stored 3 (it is).
  assert.equal((await collector.postReport(reports[1]!)).statusCode, 200);
  // A forged seq 4 that does not link to 3 is refused even inside the gap.
  const forged4 = sealReport({ ...reports[3]!.body, prevHash: 'a'.repeat(64) }, device.privateKey).report;
  const before = await snapshot(collector);
  const refused = await collector.postReport(forged4);
  assert.equal(refused.statusCode, 409);
  assert.equal(errorCode(refused), 'CHAIN_FORK');
  await assertUnchanged(collector, before);
  assert.equal((await collector.postReport(reports[3]!)).statusCode, 200);
  assert.equal(await collector.count('reports'), 5);
  assert.deepEqual(await openChainGaps(collector, device.deviceId), [], 'all gaps closed');
  const list = (await collector.itGet(`/v1/devices/${device.deviceId}/reports`)).json<{ reports: { seq: number }[]; gaps: { closedAt: number | null }[] }>();
  assert.deepEqual(list.reports.map((report) => report.seq), [5, 4, 3, 2, 1]);
  assert.ok(list.gaps.every((row) => row.closedAt !== null));
  const chain = (await collector.itGet(`/v1/reports/${device.deviceId}/4`)).json<StoredReport>();
  assert.equal(chain.verification.chain, 'linked');
}

async function forksAreRefused(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const first = device.nextReport();
  assert.equal((await collector.postReport(first)).statusCode, 200);
  const before = await snapshot(collector);
  // Same seq, different content, validly signed.
  const rewritten = sealReport({ ...first.body, createdAt: first.body.createdAt + 1 }, device.privateKey).report;
  const fork = await collector.postReport(rewritten);
  assert.equal(fork.statusCode, 409);
  assert.equal(errorCode(fork), 'CHAIN_FORK');
  // Next seq with a wrong prevHash.
  const next = device.nextReport();
  const badLink = await collector.postReport(sealReport({ ...next.body, prevHash: GENESIS_HASH }, device.privateKey).report);
  assert.equal(badLink.statusCode, 409);
  // A first report whose prevHash is not GENESIS.
  const other = await collector.enroll();
  const firstOfOther = other.nextReport();
  const notGenesis = await collector.postReport(sealReport({ ...firstOfOther.body, prevHash: 'b'.repeat(64) }, other.privateKey).report);
  assert.equal(notGenesis.statusCode, 409);
  await assertUnchanged(collector, before);
}

export const CHAIN_CASES: readonly StorageCase[] = [
  { name: 'enroll is idempotent per key; a wrong secret or bad key is refused and stores nothing', run: enrollIsIdempotent },
  { name: 'a valid report is stored once; a redelivery is acknowledged as duplicate', run: storedOnceThenDuplicate },
  { name: 'the stored report reads back byte for byte with its verification', run: readsBackByteForByte },
  { name: 'a skipped seq is stored and flagged as a chain gap; late reports fill it', run: gapThenLateFills },
  { name: 'forks are refused with 409 and store nothing', run: forksAreRefused },
];
