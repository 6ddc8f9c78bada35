/**
 * The agent's reporting and sync against the REAL collector (collector/server.ts as a child process)
 * over HTTP on 127.0.0.1: enrollment, signed reports that verify, an outage with the collector
 * killed and restarted on the same database, and a report removed from the outbox showing up as a
 * chain gap.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { GENESIS_HASH, type ReportBody } from '../../common/report';
import { systemClock } from '../../agent/context';
import { getDeviceId } from '../../agent/identity/enrollment';
import { reportBodyProblems } from '../../common/report';
import { createReporting, type Reporting } from '../../agent/report/reporting';
import { verifyOutboxLocally } from '../../agent/report/verify-local';
import { reconcileFindings } from '../../agent/store/findings';
import { countPending, listOutbox } from '../../agent/store/outbox';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { readCollectorDatabase, restartCollectorProcess, startCollectorProcess, type CollectorProcess, type StoredReportRow } from '../helpers/collector-process';
import { sampleWindow } from '../helpers/sample-window';
import { tempDir } from '../helpers/temp-dir';

const SECRET = crypto.randomBytes(12).toString('hex');
const IT_TOKEN = crypto.randomBytes(16).toString('hex');

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function collector(t: TestContext, dbFile: string, port?: number): Promise<CollectorProcess> {
  const options = { dbFile, enrollmentSecret: SECRET, itToken: IT_TOKEN };
  const started = port === undefined ? await startCollectorProcess(options) : await restartCollectorProcess({ ...options, port });
  t.after(() => started.kill());
  return started;
}

function agent(t: TestContext, collectorUrl: string) {
  const ctx = testContext(t, { policy: { collectorUrl, enrollmentSecret: SECRET }, clock: systemClock });
  const reporting = createReporting(ctx, { backoffBaseMs: 50, backoffCapMs: 1000 });
  let started = false;
  const start = async () => {
    for (const service of reporting.services) await service.start();
    started = true;
  };
  const stop = async () => {
    if (!started) return;
    started = false;
    for (const service of [...reporting.services].reverse()) await service.stop();
  };
  t.after(stop);
  return { ctx, reporting, start, stop };
}

function queue(reporting: Reporting, ctx: ReturnType<typeof testContext>, count: number): void {
  for (let index = 0; index < count; index++) {
    insertTimingWindows(ctx.db, [sampleWindow(Date.now() - 2000, 3 + index)]);
    reporting.reportService.reportNow('test');
  }
}

/**
 * What the collector stored for one device is exactly seqs 1..n, each once, each signed by the
 * device key over the canonical body, each linked to the previous, and each privacy-clean.
 */
function assertCompleteChain(reports: readonly StoredReportRow[], publicKeySpki: string, n: number): void {
  assert.deepEqual(
    reports.map((report) => report.seq),
    Array.from({ length: n }, (_, index) => index + 1),
    'seqs 1..n, each exactly once',
  );
  const key = crypto.createPublicKey({ key: Buffer.from(publicKeySpki, 'base64'), format: 'der', type: 'spki' });
  let previous = GENESIS_HASH;
  // Checked with Node's crypto alone, not protocol/: the stored bytes are plain Ed25519 over
  // canonical JSON that any outside verifier can check.
  for (const report of reports) {
    assert.equal(report.prev_hash, previous, `seq ${report.seq} links to seq ${report.seq - 1}`);
    assert.equal(crypto.createHash('sha256').update(report.body).digest('hex'), report.hash);
    assert.equal(crypto.verify(null, Buffer.from(report.body), key, Buffer.from(report.sig, 'base64url')), true, `seq ${report.seq} signature`);
    assert.deepEqual(reportBodyProblems(report.body), [], `seq ${report.seq} carries only protocol fields`);
    previous = report.hash;
  }
}

describe('agent sync against the real collector', () => {
  it('enrolls and delivers signed reports that verify at the collector, privacy-clean', async (t) => {
    const dir = tempDir(t, 'telltale-sync-');
    const server = await collector(t, path.join(dir, 'collector.db'));
    const { ctx, reporting, start } = agent(t, server.url);
    reconcileFindings(
      ctx.db,
      'session',
      [{ key: 'session:vnc:5900', kind: 'remote-session-active', severity: 'high', title: 'A VNC session is connected', explanation: 'e', evidence: { port: 5900 } }],
      Date.now(),
    );
    insertTimingWindows(ctx.db, [sampleWindow(Date.now() - 5000)]);
    await start();
    await until(() => getDeviceId(ctx.db) !== undefined, 'enrollment');
    queue(reporting, ctx, 4);
    reporting.reportService.heartbeatIfQuiet();
    await until(() => listOutbox(ctx.db).length >= 5 && countPending(ctx.db) === 0, 'delivery');

    const stored = readCollectorDatabase(path.join(dir, 'collector.db'));
    assert.equal(stored.devices.length, 1);
    assert.equal(stored.devices[0]!.id, getDeviceId(ctx.db));
    assert.equal(stored.devices[0]!.public_key, reporting.identity.publicKeySpki);
    const n = listOutbox(ctx.db).length;
    assertCompleteChain(stored.reports, reporting.identity.publicKeySpki, n);
    assert.deepEqual(stored.gaps, []);
    // The bytes the collector stores are the bytes the agent signed and kept.
    for (const entry of listOutbox(ctx.db)) {
      const body = (JSON.parse(entry.body!) as { body: ReportBody }).body;
      assert.equal(stored.reports[entry.seq - 1]!.hash, entry.hash);
      assert.equal(JSON.parse(stored.reports[entry.seq - 1]!.body).seq, body.seq);
    }
    const first = JSON.parse(stored.reports[0]!.body) as ReportBody;
    assert.equal(first.findings[0]?.key, 'session:vnc:5900');
    assert.ok(verifyOutboxLocally(ctx.db, reporting.identity.publicKey).every((check) => check.signatureValid && check.chainValid));
    assert.equal(reporting.syncService.status().state, 'ok');

    // The IT API sees the device with its open high finding.
    const response = await fetch(`${server.url}/v1/devices`, { headers: { authorization: `Bearer ${IT_TOKEN}` } });
    const devices = (await response.json()) as { devices: { id: string; headSeq: number; risk: string }[] };
    assert.equal(devices.devices[0]?.headSeq, n);
    assert.equal(devices.devices[0]?.risk, 'high');
  });

  it('keeps reporting through a collector outage and delivers every report exactly once after restart', async (t) => {
    const dir = tempDir(t, 'telltale-sync-');
    const dbFile = path.join(dir, 'collector.db');
    let server = await collector(t, dbFile);
    const { ctx, reporting, start, stop } = agent(t, server.url);
    const states: string[] = [];
    ctx.events.on('syncStateChanged', ({ state }) => states.push(state));
    await start();
    await until(() => getDeviceId(ctx.db) !== undefined, 'enrollment');
    queue(reporting, ctx, 5);
    await until(() => countPending(ctx.db) === 0, 'first deliveries');

    await server.kill();
    queue(reporting, ctx, 10);
    await until(() => states.at(-1) === 'offline', 'the offline state');
    await until(() => (listOutbox(ctx.db).find((entry) => entry.state === 'pending')?.attempts ?? 0) >= 2, 'retries while down');
    queue(reporting, ctx, 10);
    assert.equal(countPending(ctx.db), 20, 'the outbox holds everything made while the collector was down');
    const pendingRow = listOutbox(ctx.db).find((entry) => entry.state === 'pending')!;
    assert.match(pendingRow.lastError!, /^SYNC_UNREACHABLE: .*ECONNREFUSED/);

    const drainStart = Date.now();
    server = await collector(t, dbFile, server.port);
    await until(() => countPending(ctx.db) === 0, 'delivery after the restart');
    const drainMs = Date.now() - drainStart;
    assert.equal(states.at(-1), 'ok');
    await stop();
    await server.stop();

    const stored = readCollectorDatabase(dbFile);
    // 1 heartbeat right after enrollment + 5 + 20.
    assertCompleteChain(stored.reports, reporting.identity.publicKeySpki, 26);
    assert.deepEqual(stored.gaps, [], 'no chain gaps');
    t.diagnostic(`drained 20 backlogged reports in ${drainMs} ms after the restart (includes collector start-up and the backoff wait)`);
  });

  it('a report deleted from the outbox before it is sent shows up at the collector as a chain gap', async (t) => {
    const dir = tempDir(t, 'telltale-sync-');
    const dbFile = path.join(dir, 'collector.db');
    const server = await collector(t, dbFile);
    const { ctx, reporting, start, stop } = agent(t, server.url);
    await start();
    await until(() => getDeviceId(ctx.db) !== undefined, 'enrollment');
    queue(reporting, ctx, 3);
    await until(() => countPending(ctx.db) === 0, 'first deliveries');
    // Stop syncing, queue more, and remove one unsent report (what a tamperer on the laptop might do).
    await reporting.syncService.stop();
    queue(reporting, ctx, 3);
    assert.equal(ctx.db.prepare("DELETE FROM outbox WHERE seq = 5 AND state = 'pending'").run().changes, 1);
    const local = verifyOutboxLocally(ctx.db, reporting.identity.publicKey);
    assert.equal(local.find((check) => check.seq === 6)?.chainValid, false, 'the local view shows the break too');
    await reporting.syncService.start();
    await until(() => countPending(ctx.db) === 0, 'the rest delivered');
    await stop();
    await server.stop();

    const stored = readCollectorDatabase(dbFile);
    // seq 1 is the heartbeat sent right after enrollment; 2-4 the first reports; 5 was deleted.
    assert.deepEqual(stored.reports.map((report) => report.seq), [1, 2, 3, 4, 6, 7]);
    assert.deepEqual(
      stored.gaps.map((gap) => [gap.from_seq, gap.to_seq, gap.closed_at]),
      [[5, 5, null]],
      'the collector flags the missing seq as an open gap',
    );
  });
});
