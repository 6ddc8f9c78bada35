/**
 * The collector's storage behaviour suite, run against SQLite (test/unit/collector-storage.test.ts)
 * and a real PostgreSQL (test/integration/collector-postgres.test.ts) through the HTTP API via inject.
 * Every rejection case also checks that nothing was stored.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { TestContext } from 'node:test';
import { canonicalize } from '../../protocol/canonical-json';
import { GENESIS_HASH, MAX_REPORT_BYTES } from '../../common/report';
import type { CollectorOptions } from '../app';
import type { CollectorConfigInput } from '../config';
import type { FindingView, StoredReport } from '../schemas';
import { insertDevice } from '../storage/devices';
import type { SqlDatabase } from '../storage/sql';
import { CollectorStore, type IngestOutcome, type VerifiedReport } from '../storage/store';
import { canonicalBody } from '../../protocol/report-crypto';
import { startTestCollector, TEST_DEVICES_ONLY_TOKEN, TEST_ENROLLMENT_SECRET, type TestCollector } from './harness';
import { sampleFinding, signReport, TestDevice } from './make-reports';
import type { SignedReport } from '../../common/report';

/** Opens the storage for one test case (undefined: the harness's temporary SQLite file). */
export type OpenStorage = (t: TestContext) => Promise<SqlDatabase | undefined>;

export async function runStorageSuite(t: TestContext, openStorage: OpenStorage): Promise<void> {
  async function start(t: TestContext, overrides: Partial<CollectorConfigInput> = {}, options: CollectorOptions = {}): Promise<TestCollector> {
    const database = await openStorage(t);
    return startTestCollector(t, overrides, database ? { ...options, database } : options);
  }

  async function assertUnchanged(collector: TestCollector, before: { reports: number; findings: number; gaps: number }) {
    assert.equal(await collector.count('reports'), before.reports, 'reports row count changed');
    assert.equal(await collector.count('findings'), before.findings, 'findings row count changed');
    assert.equal(await collector.count('chain_gaps'), before.gaps, 'chain_gaps row count changed');
  }

  async function snapshot(collector: TestCollector) {
    return { reports: await collector.count('reports'), findings: await collector.count('findings'), gaps: await collector.count('chain_gaps') };
  }

  function errorCode(response: { json: <T>() => T }): string {
    return response.json<{ error: { code: string; message: string } }>().error.code;
  }

  await t.test('enroll is idempotent per key; a wrong secret or bad key is refused and stores nothing', async (t) => {
    const collector = await start(t);
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
  });

  await t.test('a valid report is stored once; a redelivery is acknowledged as duplicate', async (t) => {
    const collector = await start(t);
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
  });

  await t.test('the stored report reads back byte for byte with its verification', async (t) => {
    const collector = await start(t);
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
  });

  await t.test('a skipped seq is stored and flagged as a chain gap; late reports fill it', async (t) => {
    const collector = await start(t);
    const device = await collector.enroll();
    const reports = [1, 2, 3, 4, 5].map(() => device.nextReport());
    assert.equal((await collector.postReport(reports[0]!)).statusCode, 200);
    const ahead = await collector.postReport(reports[4]!);
    assert.equal(ahead.statusCode, 200, ahead.body);
    assert.deepEqual([ahead.json<{ status: string }>().status, ahead.json<{ gap: boolean }>().gap], ['stored', true]);
    assert.equal(await collector.count('chain_gaps'), 1);
    let findings = (await collector.itGet(`/v1/devices/${device.deviceId}/findings`)).json<{ findings: FindingView[] }>().findings;
    const gap = findings.find((finding) => finding.kind === 'chain-gap' && finding.closedAt === null);
    assert.ok(gap, 'an open chain-gap finding');
    assert.deepEqual(gap.evidence, { fromSeq: 2, toSeq: 4, missing: 3 });

    // A late seq 3 links to nothing stored yet on its left, but seq 4 is missing too: accepted, gap split.
    assert.equal((await collector.postReport(reports[2]!)).statusCode, 200);
    // A late seq 2 must link to stored 1 (it does) and be linked from stored 3 (it is).
    assert.equal((await collector.postReport(reports[1]!)).statusCode, 200);
    // A forged seq 4 that does not link to 3 is refused even inside the gap.
    const forged4 = signReport({ ...reports[3]!.body, prevHash: 'a'.repeat(64) }, device.privateKey);
    const before = await snapshot(collector);
    const refused = await collector.postReport(forged4);
    assert.equal(refused.statusCode, 409);
    assert.equal(errorCode(refused), 'CHAIN_FORK');
    await assertUnchanged(collector, before);
    assert.equal((await collector.postReport(reports[3]!)).statusCode, 200);
    assert.equal(await collector.count('reports'), 5);
    findings = (await collector.itGet(`/v1/devices/${device.deviceId}/findings`)).json<{ findings: FindingView[] }>().findings;
    assert.deepEqual(findings.filter((finding) => finding.kind === 'chain-gap' && finding.closedAt === null), [], 'all gaps closed');
    const list = (await collector.itGet(`/v1/devices/${device.deviceId}/reports`)).json<{ reports: { seq: number }[]; gaps: { closedAt: number | null }[] }>();
    assert.deepEqual(list.reports.map((report) => report.seq), [5, 4, 3, 2, 1]);
    assert.ok(list.gaps.every((row) => row.closedAt !== null));
    const chain = (await collector.itGet(`/v1/reports/${device.deviceId}/4`)).json<StoredReport>();
    assert.equal(chain.verification.chain, 'linked');
  });

  await t.test('forks are refused with 409 and store nothing', async (t) => {
    const collector = await start(t);
    const device = await collector.enroll();
    const first = device.nextReport();
    assert.equal((await collector.postReport(first)).statusCode, 200);
    const before = await snapshot(collector);
    // Same seq, different content, validly signed.
    const rewritten = signReport({ ...first.body, createdAt: first.body.createdAt + 1 }, device.privateKey);
    const fork = await collector.postReport(rewritten);
    assert.equal(fork.statusCode, 409);
    assert.equal(errorCode(fork), 'CHAIN_FORK');
    // Next seq with a wrong prevHash.
    const next = device.nextReport();
    const badLink = await collector.postReport(signReport({ ...next.body, prevHash: GENESIS_HASH }, device.privateKey));
    assert.equal(badLink.statusCode, 409);
    // A first report whose prevHash is not GENESIS.
    const other = await collector.enroll();
    const firstOfOther = other.nextReport();
    const notGenesis = await collector.postReport(signReport({ ...firstOfOther.body, prevHash: 'b'.repeat(64) }, other.privateKey));
    assert.equal(notGenesis.statusCode, 409);
    await assertUnchanged(collector, before);
  });

  await t.test('forged, tampered and replayed reports are refused with 401/404 and store nothing', async (t) => {
    const collector = await start(t);
    const device = await collector.enroll();
    const victim = await collector.enroll({ hostname: 'victim' });
    const report = device.nextReport({ findings: [sampleFinding()] });
    const before = await snapshot(collector);

    const forger = crypto.generateKeyPairSync('ed25519');
    const forged = await collector.postReport(signReport(report.body, forger.privateKey));
    assert.equal(forged.statusCode, 401);
    assert.equal(errorCode(forged), 'SIGNATURE_INVALID');

    const tampered = await collector.postReport({ body: { ...report.body, findings: [{ ...report.body.findings[0]!, severity: 'low' }] }, sig: report.sig });
    assert.equal(tampered.statusCode, 401);
    assert.equal(errorCode(tampered), 'SIGNATURE_INVALID');

    const replayed = await collector.postReport({ body: { ...report.body, deviceId: victim.deviceId }, sig: report.sig });
    assert.equal(replayed.statusCode, 401);

    const unknown = await collector.postReport({ body: { ...report.body, deviceId: 'no-such-device' }, sig: report.sig });
    assert.equal(unknown.statusCode, 404);
    assert.equal(errorCode(unknown), 'DEVICE_UNKNOWN');

    // A non-canonical spelling of the signature's last base64url character is refused too.
    const last = report.sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    const respelled = await collector.postReport({ body: report.body, sig: report.sig.slice(0, -1) + sibling });
    assert.equal(respelled.statusCode, 401);

    await assertUnchanged(collector, before);
    assert.equal((await collector.postReport(report)).statusCode, 200, 'the genuine report is still accepted');
  });

  await t.test('oversized, malformed and mistyped bodies get the JSON error shape and store nothing', async (t) => {
    const collector = await start(t);
    const device = await collector.enroll();
    const before = await snapshot(collector);

    const huge = await collector.postReport(JSON.stringify({ pad: 'x'.repeat(MAX_REPORT_BYTES + 8192) }));
    assert.equal(huge.statusCode, 413);
    assert.equal(errorCode(huge), 'PAYLOAD_TOO_LARGE');

    // Under the transport limit but a canonical body over MAX_REPORT_BYTES.
    const big = device.nextReport({ findings: [sampleFinding({ evidence: { blob: 'y'.repeat(MAX_REPORT_BYTES) } })] });
    const bigResponse = await collector.postReport(big);
    assert.equal(bigResponse.statusCode, 413, bigResponse.body);

    const malformed = await collector.postReport('{"body": {"v": 1,');
    assert.equal(malformed.statusCode, 400);
    assert.equal(errorCode(malformed), 'PAYLOAD_INVALID');

    const wrongType = await collector.postReport(JSON.stringify({ body: { ...big.body, seq: '1' }, sig: big.sig }));
    assert.equal(wrongType.statusCode, 400);
    assert.match(wrongType.json<{ error: { message: string } }>().error.message, /seq/);

    const extra = await collector.postReport(JSON.stringify({ body: { ...big.body, extra: true }, sig: big.sig }));
    assert.equal(extra.statusCode, 400);

    const text = await collector.app.inject({ method: 'POST', url: '/v1/reports', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    assert.equal(text.statusCode, 415);
    assert.equal(errorCode(text), 'UNSUPPORTED_MEDIA_TYPE');
    await assertUnchanged(collector, before);
  });

  await t.test('IT API: missing or wrong token 401, wrong scope 403', async (t) => {
    const collector = await start(t);
    const device = await collector.enroll();
    const none = await collector.app.inject({ method: 'GET', url: '/v1/devices' });
    assert.equal(none.statusCode, 401);
    assert.equal(errorCode(none), 'UNAUTHORIZED');
    const wrong = await collector.itGet('/v1/devices', 'not-a-real-token-at-all');
    assert.equal(wrong.statusCode, 401);
    assert.equal((await collector.itGet('/v1/devices', TEST_DEVICES_ONLY_TOKEN)).statusCode, 200);
    for (const url of [`/v1/devices/${device.deviceId}/findings`, `/v1/devices/${device.deviceId}/reports`, '/v1/findings/stream', '/v1/findings/ocsf', `/v1/reports/${device.deviceId}/1`]) {
      const response = await collector.itGet(url, TEST_DEVICES_ONLY_TOKEN);
      assert.equal(response.statusCode, 403, url);
      assert.equal(errorCode(response), 'FORBIDDEN');
    }
  });

  await t.test('device list shows risk from open findings', async (t) => {
    const collector = await start(t);
    const risky = await collector.enroll({ hostname: 'risky' });
    const calm = await collector.enroll({ hostname: 'calm' });
    const opened = sampleFinding();
    assert.equal((await collector.postReport(risky.nextReport({ findings: [opened] }))).statusCode, 200);
    assert.equal((await collector.postReport(calm.nextReport({ findings: [sampleFinding({ key: 'approved', kind: 'approved-tool', severity: 'info' })] }))).statusCode, 200);
    const devices = (await collector.itGet('/v1/devices')).json<{ devices: { hostname: string; risk: string; openFindings: number; silent: boolean }[] }>().devices;
    assert.deepEqual(
      devices.map((device) => [device.hostname, device.risk, device.openFindings, device.silent]),
      [['calm', 'info', 1, false], ['risky', 'high', 1, false]],
    );
    // The agent closes the finding: risk drops.
    const closed = { ...opened, lastSeenAt: opened.lastSeenAt + 1000, closedAt: opened.lastSeenAt + 1000 };
    assert.equal((await collector.postReport(risky.nextReport({ findings: [closed] }))).statusCode, 200);
    const after = (await collector.itGet('/v1/devices')).json<{ devices: { hostname: string; risk: string }[] }>().devices;
    assert.equal(after.find((device) => device.hostname === 'risky')?.risk, 'none');
    assert.equal(await collector.count('findings'), 2, 'the closed finding updated its row');
  });

  await t.test('NDJSON stream pages by cursor and shows updates again with a larger cursor', async (t) => {
    const collector = await start(t);
    const device = await collector.enroll();
    const findings = ['a', 'b', 'c', 'd', 'e'].map((key) => sampleFinding({ key: `k-${key}` }));
    assert.equal((await collector.postReport(device.nextReport({ findings: findings.slice(0, 3) }))).statusCode, 200);
    assert.equal((await collector.postReport(device.nextReport({ findings: findings.slice(3) }))).statusCode, 200);
    const seen: { cursor: number; key: string }[] = [];
    let cursor = 0;
    for (let page = 0; page < 10; page++) {
      const response = await collector.itGet(`/v1/findings/stream?cursor=${cursor}&limit=2`);
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/x-ndjson/);
      const lines = response.body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as FindingView);
      const next = Number(response.headers['x-next-cursor']);
      if (lines.length === 0) {
        assert.equal(next, cursor);
        break;
      }
      assert.ok(lines.length <= 2);
      seen.push(...lines.map((line) => ({ cursor: line.cursor, key: line.key })));
      assert.equal(next, lines.at(-1)!.cursor);
      cursor = next;
    }
    assert.deepEqual(seen.map((item) => item.key), ['k-a', 'k-b', 'k-c', 'k-d', 'k-e']);
    assert.ok(seen.every((item, index) => index === 0 || item.cursor > seen[index - 1]!.cursor));
    // An update to k-b shows up after the cursor we stopped at.
    assert.equal((await collector.postReport(device.nextReport({ findings: [{ ...findings[1]!, lastSeenAt: findings[1]!.lastSeenAt + 5000 }] }))).statusCode, 200);
    const update = await collector.itGet(`/v1/findings/stream?cursor=${cursor}`);
    const lines = update.body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as FindingView);
    assert.deepEqual(lines.map((line) => [line.key, line.lastSeenAt]), [['k-b', findings[1]!.lastSeenAt + 5000]]);
    assert.ok(lines[0]!.cursor > cursor);
  });

  await t.test('OCSF export maps findings to Detection Finding 2004', async (t) => {
    const collector = await start(t);
    const device = await collector.enroll({ hostname: 'ocsf-host' });
    const finding = sampleFinding();
    assert.equal((await collector.postReport(device.nextReport({ findings: [finding] }))).statusCode, 200);
    const response = await collector.itGet('/v1/findings/ocsf');
    assert.equal(response.statusCode, 200);
    const events = response.json<Record<string, unknown>[]>();
    assert.equal(events.length, 1);
    const event = events[0] as {
      class_uid: number; category_uid: number; activity_id: number; type_uid: number; severity_id: number; status_id: number; time: number;
      finding_info: { uid: string; title: string; desc: string; created_time: number; first_seen_time: number; last_seen_time: number };
      metadata: { product: { name: string }; version: string }; device: { uid: string; hostname: string }; evidences: { data: unknown }[];
    };
    assert.equal(event.class_uid, 2004);
    assert.equal(event.category_uid, 2);
    assert.equal(event.activity_id, 1);
    assert.equal(event.type_uid, 200401);
    assert.equal(event.severity_id, 4);
    assert.equal(event.status_id, 1);
    assert.equal(event.finding_info.title, finding.title);
    assert.equal(event.finding_info.desc, finding.explanation);
    assert.equal(event.finding_info.first_seen_time, finding.firstSeenAt);
    assert.equal(event.finding_info.last_seen_time, finding.lastSeenAt);
    assert.equal(typeof event.finding_info.created_time, 'number');
    assert.ok(event.finding_info.uid.includes(finding.key));
    assert.equal(event.metadata.product.name, 'Telltale');
    assert.match(event.metadata.version, /^1\.\d+\.\d+$/);
    assert.deepEqual(event.device, { uid: device.deviceId, hostname: 'ocsf-host', type_id: 3 });
    assert.deepEqual(event.evidences[0]!.data, finding.evidence);
  });

  await t.test('a device that goes silent gets a device-silent finding, closed when it reports again', async (t) => {
    let now = Date.now();
    const collector = await start(t, { silentAfterMinutes: 10 }, { clock: () => now });
    const device = await collector.enroll({ hostname: 'quiet' });
    assert.equal((await collector.postReport(device.nextReport())).statusCode, 200);
    let devices = (await collector.itGet('/v1/devices')).json<{ devices: { silent: boolean; risk: string }[] }>().devices;
    assert.deepEqual(devices.map((row) => [row.silent, row.risk]), [[false, 'none']]);
    now += 11 * 60_000;
    devices = (await collector.itGet('/v1/devices')).json<{ devices: { silent: boolean; risk: string }[] }>().devices;
    assert.deepEqual(devices.map((row) => [row.silent, row.risk]), [[true, 'medium']]);
    // Repeated reads do not open it twice.
    await collector.itGet('/v1/devices');
    const stream = (await collector.itGet('/v1/findings/stream')).body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as FindingView);
    assert.deepEqual(stream.map((finding) => [finding.kind, finding.closedAt]), [['device-silent', null]]);
    assert.equal((await collector.postReport(device.nextReport({ kind: 'heartbeat' }))).statusCode, 200);
    devices = (await collector.itGet('/v1/devices')).json<{ devices: { silent: boolean; risk: string }[] }>().devices;
    assert.deepEqual(devices.map((row) => [row.silent, row.risk]), [[false, 'none']]);
    const ocsf = (await collector.itGet('/v1/findings/ocsf')).json<{ activity_id: number; finding_info: { types: string[] } }[]>();
    assert.deepEqual(ocsf.map((event) => [event.finding_info.types[0], event.activity_id]), [['device-silent', 3]]);
  });

  await t.test('a full commit queue answers 429 with Retry-After and stores only what it acknowledged', async (t) => {
    const collector = await start(t, { queue: { maxPending: 2, maxBatch: 2, retryAfterSeconds: 3 } });
    const devices = await Promise.all([1, 2, 3, 4, 5, 6].map(() => collector.enroll()));
    const responses = await Promise.all(devices.map((device) => collector.postReport(device.nextReport())));
    const codes = responses.map((response) => response.statusCode);
    assert.ok(codes.includes(429), `expected some 429s, got ${codes.join(',')}`);
    for (const response of responses.filter((item) => item.statusCode === 429)) {
      assert.equal(response.headers['retry-after'], '3');
      assert.equal(errorCode(response), 'OVERLOADED');
    }
    assert.equal(await collector.count('reports'), codes.filter((code) => code === 200).length);
  });

  await t.test('one batch with appends, redeliveries, forks, a gap, a fill and a silent device ends exactly like one report per batch', async (t) => {
    // The batch path (batch-wide reads, multi-row writes) against the one-report path as the reference.
    const batchDatabase = await openStorage(t);
    const serialDatabase = await openStorage(t);
    const stores = [batchDatabase, serialDatabase].map((database) => {
      if (!database) return startTestCollector(t).then((collector) => collector.app.collector.store);
      const store = new CollectorStore(database);
      t.after(() => store.close());
      return store;
    });
    const [batchStore, serialStore] = await Promise.all(stores);
    const base = 1_700_000_000_000;
    const ids = ['d1', 'd2', 'd3', 'd4'];
    for (const store of [batchStore!, serialStore!]) {
      for (const id of ids) {
        await insertDevice(store.database, { id, publicKey: `key-${id}`, hostname: id, platform: 'linux', agentVersion: '1', now: id === 'd3' ? base - 3_600_000 : base });
      }
      assert.equal(await store.sweepSilentDevices(base, 60_000), 1, 'd3 is silent before the batch');
    }
    const [d1, d2, d3, d4] = ids.map((id) => Object.assign(new TestDevice(), { deviceId: id }));
    const f1 = sampleFinding({ key: 'f1', firstSeenAt: base - 1000, lastSeenAt: base });
    const d1r1 = d1!.nextReport({ findings: [f1], createdAt: base });
    const d2r = [1, 2, 3].map(() => d2!.nextReport({ createdAt: base }));
    const d1r2 = d1!.nextReport({ findings: [{ ...f1, lastSeenAt: base + 1 }, sampleFinding({ key: 'f2', firstSeenAt: base })], createdAt: base });
    const d1r3 = d1!.nextReport({ findings: [{ ...f1, lastSeenAt: base + 2, closedAt: base + 2 }], createdAt: base });
    const d1r3Rewritten = signReport({ ...d1r3.body, createdAt: base + 5 }, d1!.privateKey);
    const d1r4 = d1!.nextReport({ findings: [sampleFinding({ key: 'f3', firstSeenAt: base, title: 'first' }), sampleFinding({ key: 'f3', firstSeenAt: base, title: 'second' })], createdAt: base });
    const d3r1 = d3!.nextReport({ createdAt: base });
    const d4r1 = d4!.nextReport({ findings: [sampleFinding({ key: 'f4' })], createdAt: base });
    const d4Fork = signReport({ ...d4r1.body, prevHash: 'c'.repeat(64) }, d4!.privateKey);
    const sequence: SignedReport[] = [d1r1, d2r[0]!, d1r2, d1r2, d2r[2]!, d1r3, d2r[1]!, d3r1, d4Fork, d1r3Rewritten, d4r1, d1r4, d4r1];
    const verified: VerifiedReport[] = sequence.map((report, index) => {
      const canonical = canonicalBody(report.body)!;
      return { body: report.body, canonical: canonical.text, hash: canonical.hash, sig: report.sig, receivedAt: base + 10 + index };
    });

    const batchOutcomes = await batchStore!.ingest(verified);
    const serialOutcomes: IngestOutcome[] = [];
    for (const report of verified) serialOutcomes.push(...(await serialStore!.ingest([report])));
    assert.deepEqual(batchOutcomes, serialOutcomes);
    assert.deepEqual(
      batchOutcomes.map((outcome) => outcome.status),
      ['stored', 'stored', 'stored', 'duplicate', 'stored', 'stored', 'stored', 'stored', 'fork', 'fork', 'stored', 'stored', 'duplicate'],
    );
    const dump = async (database: SqlDatabase) => ({
      reports: await database.all('SELECT device_id, seq, hash, prev_hash, kind, created_at, body, sig, received_at FROM reports ORDER BY device_id, seq'),
      devices: await database.all('SELECT id, last_seen_at, head_seq, head_hash FROM devices ORDER BY id'),
      findings: await database.all(
        `SELECT device_id, source, key, kind, severity, title, explanation, evidence, first_seen_at, last_seen_at, closed_at, report_seq, created_at, updated_at
         FROM findings ORDER BY device_id, key, first_seen_at`,
      ),
      gaps: await database.all('SELECT device_id, from_seq, to_seq, detected_at, closed_at FROM chain_gaps ORDER BY device_id, from_seq, to_seq, closed_at'),
    });
    const batchState = await dump(batchStore!.database);
    assert.deepEqual(batchState, await dump(serialStore!.database));
    assert.equal(batchState.reports.length, 9);
    assert.deepEqual(
      batchState.findings.filter((row) => row.key === 'f3').map((row) => row.title),
      ['first'],
      'of two findings with one identity in one report, the first wins',
    );
    // Cursors stay unique and below the counter, whatever the path.
    const cursors = (await batchStore!.database.all('SELECT cursor FROM findings')).map((row) => Number(row.cursor));
    const counter = Number((await batchStore!.database.get("SELECT value FROM counters WHERE name = 'finding_cursor'"))?.value);
    assert.equal(new Set(cursors).size, cursors.length);
    assert.ok(cursors.every((cursor) => cursor >= 1 && cursor <= counter));
  });

  await t.test('per-device rate limit answers 429 with Retry-After', async (t) => {
    const collector = await start(t, { rateLimit: { reportsPerDevice: 2 } });
    const device = await collector.enroll();
    const other = await collector.enroll();
    const codes: number[] = [];
    let limited;
    for (let index = 0; index < 3; index++) {
      const response = await collector.postReport(device.nextReport());
      codes.push(response.statusCode);
      if (response.statusCode === 429) limited = response;
    }
    assert.deepEqual(codes, [200, 200, 429]);
    assert.ok(Number(limited!.headers['retry-after']) >= 1);
    assert.equal(errorCode(limited!), 'RATE_LIMITED');
    assert.equal((await collector.postReport(other.nextReport())).statusCode, 200, 'another device has its own budget');
    assert.equal(await collector.count('reports'), 3);
  });
}
