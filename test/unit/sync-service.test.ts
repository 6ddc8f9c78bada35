import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EnrollRequest, EnrollResponse, ReportAck, SignedReport } from '../../common/report';
import type { AgentEventMap } from '../../agent/events';
import { getDeviceId } from '../../agent/identity/enrollment';
import { createReporting } from '../../agent/report/reporting';
import { reconcileFindings } from '../../agent/store/findings';
import { getValue } from '../../agent/store/kv';
import { countPending, listOutbox } from '../../agent/store/outbox';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { CLOCK_SKEW_KEY, type ClockSkew } from '../../agent/sync/sync-service';
import type { UploadOutcome, Uploader } from '../../agent/sync/uploader';
import { createMemoryLogger } from '../../agent/log';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

/** The OS seam: a scripted collector. `answer` decides each report's fate; the default acks. */
class ScriptedUploader implements Uploader {
  readonly enrollRequests: EnrollRequest[] = [];
  readonly sent: SignedReport[] = [];
  reachable = true;
  serverTime: () => number = () => 0;
  answer: (report: SignedReport) => UploadOutcome<ReportAck> = (report) => ({
    kind: 'ok',
    value: { status: 'stored', seq: report.body.seq, gap: false, serverTime: this.serverTime() },
  });

  async enroll(request: EnrollRequest): Promise<UploadOutcome<EnrollResponse>> {
    this.enrollRequests.push(request);
    if (!this.reachable) return { kind: 'unreachable', message: 'ECONNREFUSED', retryAfterMs: null };
    return { kind: 'ok', value: { deviceId: 'device-under-test' } };
  }

  async sendReport(envelope: string): Promise<UploadOutcome<ReportAck>> {
    const report = JSON.parse(envelope) as SignedReport;
    this.sent.push(report);
    if (!this.reachable) return { kind: 'unreachable', message: 'ECONNREFUSED', retryAfterMs: null };
    return this.answer(report);
  }

  sentSeqs(): number[] {
    return this.sent.map((report) => report.body.seq);
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const POLICY = { collectorUrl: 'http://127.0.0.1:9', enrollmentSecret: 'enrollment-secret' };

function setup(t: { after(fn: () => void | Promise<void>): void }, policy: Partial<typeof POLICY> = POLICY) {
  const ctx = testContext(t, { policy });
  const uploader = new ScriptedUploader();
  const reporting = createReporting(ctx, { uploader, backoffBaseMs: 5, backoffCapMs: 40 });
  const states: AgentEventMap['syncStateChanged'][] = [];
  const delivered: AgentEventMap['reportDelivered'][] = [];
  ctx.events.on('syncStateChanged', (state) => states.push(state));
  ctx.events.on('reportDelivered', (event) => delivered.push(event));
  const start = async () => {
    for (const service of reporting.services) await service.start();
    t.after(async () => {
      for (const service of [...reporting.services].reverse()) await service.stop();
    });
  };
  return { ctx, uploader, reporting, states, delivered, start };
}

describe('sync service', () => {
  it('enrolls once, then delivers every queued report in seq order and records the clock skew', async (t) => {
    const { ctx, uploader, reporting, delivered, states, start } = setup(t);
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now() - 10_000)]);
    uploader.serverTime = () => ctx.clock.now() + 7000;
    await start();
    await until(() => getDeviceId(ctx.db) === 'device-under-test', 'enrollment');
    assert.equal(uploader.enrollRequests.length, 1);
    assert.equal(uploader.enrollRequests[0]!.publicKey, reporting.identity.publicKeySpki);
    assert.equal(uploader.enrollRequests[0]!.enrollmentSecret, 'enrollment-secret');
    for (let index = 0; index < 5; index++) {
      ctx.clock.advance(1000);
      insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now())]);
      reporting.reportService.reportNow('test');
    }
    await until(() => delivered.length === 6, '6 deliveries');
    assert.deepEqual(uploader.sentSeqs(), [1, 2, 3, 4, 5, 6]);
    assert.ok(listOutbox(ctx.db).every((entry) => entry.state === 'delivered' && entry.ackedAt !== null));
    const skew = getValue<ClockSkew>(ctx.db, CLOCK_SKEW_KEY);
    assert.equal(skew?.skewMs, 7000, 'collector clock minus the (manual) agent clock');
    assert.equal(states.at(-1)?.state, 'ok');
    assert.equal(reporting.syncService.status().pending, 0);
  });

  it('keeps reports through an outage, backs off, and delivers each once when the collector returns', async (t) => {
    const { ctx, uploader, reporting, states, delivered, start } = setup(t);
    await start();
    await until(() => delivered.length === 1, 'enrollment and its first heartbeat');
    uploader.reachable = false;
    for (let index = 0; index < 3; index++) {
      ctx.clock.advance(1000);
      insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now())]);
      reporting.reportService.reportNow('test');
    }
    await until(() => uploader.sent.length >= 4, 'a few failed attempts');
    assert.equal(states.at(-1)?.state, 'offline');
    assert.match(states.at(-1)!.detail, /^SYNC_UNREACHABLE/);
    const first = listOutbox(ctx.db)[1]!;
    assert.equal(first.state, 'pending');
    assert.match(first.lastError!, /^SYNC_UNREACHABLE/);
    assert.ok(first.attempts >= 2);
    assert.deepEqual([...new Set(uploader.sentSeqs().slice(1))], [2], 'only the oldest is retried while down: order is kept');

    uploader.reachable = true;
    await until(() => delivered.length === 4, 'delivery after the outage');
    const acked = uploader.sent.filter((_, index) => index >= uploader.sent.length - 3).map((report) => report.body.seq);
    assert.deepEqual(acked, [2, 3, 4]);
    assert.equal(states.at(-1)?.state, 'ok');
  });

  it('keeps going when the local disk refuses to record a delivery: retried, delivered once it can', async (t) => {
    const logger = createMemoryLogger();
    const ctx = testContext(t, { policy: POLICY, logger });
    const uploader = new ScriptedUploader();
    const reporting = createReporting(ctx, { uploader, backoffBaseMs: 5, backoffCapMs: 40 });
    const delivered: number[] = [];
    ctx.events.on('reportDelivered', ({ seq }) => delivered.push(seq));
    for (const service of reporting.services) await service.start();
    t.after(async () => {
      for (const service of [...reporting.services].reverse()) await service.stop();
    });
    await until(() => delivered.length === 1, 'enrollment and its first heartbeat');
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now())]);
    uploader.reachable = false;
    reporting.reportService.reportNow('test');
    await until(() => uploader.sent.length >= 2, 'an attempt while the collector is down');
    // The disk now refuses every write: the loop cannot even record its next attempt.
    ctx.db.pragma('query_only = ON');
    uploader.reachable = true;
    const sentBefore = uploader.sent.length;
    reporting.syncService.syncNow();
    await until(() => logger.lines.some((line) => line.message.startsWith('Cannot write local data')), 'the storage line');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(uploader.sent.length, sentBefore, 'nothing is sent that could not be recorded first');
    assert.equal(logger.lines.filter((line) => line.message.startsWith('Cannot write local data')).length, 1, 'retries are not logged one by one');
    assert.equal(logger.lines.filter((line) => line.message === 'Sync loop crashed').length, 0);

    ctx.db.pragma('query_only = OFF');
    await until(() => delivered.includes(2), 'delivery once the disk takes writes again');
    assert.equal(listOutbox(ctx.db).find((entry) => entry.seq === 2)?.state, 'delivered');
    assert.equal(logger.lines.filter((line) => line.message === 'Local data can be written again').length, 1);
  });

  it('records a refused report, moves on, and does not retry it', async (t) => {
    const { ctx, uploader, reporting, delivered, states, start } = setup(t);
    uploader.answer = (report) =>
      report.body.seq === 3
        ? { kind: 'rejected', status: 409, code: 'CHAIN_FORK', message: 'conflicts with the stored chain' }
        : { kind: 'ok', value: { status: 'stored', seq: report.body.seq, gap: report.body.seq === 4, serverTime: 0 } };
    await start();
    await until(() => getDeviceId(ctx.db) !== undefined, 'enrollment');
    for (let index = 0; index < 3; index++) {
      ctx.clock.advance(1000);
      insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now())]);
      reporting.reportService.reportNow('test');
    }
    // seq 1 is the heartbeat sent right after enrollment.
    await until(() => delivered.length === 3, 'the others delivered');
    assert.deepEqual(uploader.sentSeqs(), [1, 2, 3, 4]);
    const rejected = listOutbox(ctx.db)[2]!;
    assert.equal(rejected.state, 'rejected');
    assert.equal(rejected.lastError, 'SYNC_REJECTED: 409 CHAIN_FORK: conflicts with the stored chain');
    assert.ok(states.some((state) => /report 3 was rejected \(CHAIN_FORK\)/.test(state.detail)));
  });

  it('waits the backoff cap, not a hot loop, when the collector refuses the device', async (t) => {
    const ctx = testContext(t, { policy: POLICY });
    const uploader = new ScriptedUploader();
    uploader.answer = () => ({ kind: 'rejected', status: 404, code: 'DEVICE_UNKNOWN', message: 'not enrolled' });
    const reporting = createReporting(ctx, { uploader, backoffBaseMs: 5, backoffCapMs: 60_000 });
    for (const service of reporting.services) await service.start();
    t.after(async () => {
      for (const service of [...reporting.services].reverse()) await service.stop();
    });
    await until(() => getDeviceId(ctx.db) !== undefined, 'enrollment');
    reporting.reportService.heartbeatIfQuiet();
    await until(() => uploader.sent.length === 1, 'first attempt');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(uploader.sent.length, 1, 'no retry before the cap');
    assert.equal(listOutbox(ctx.db)[0]!.state, 'pending', 'the report is kept for later');
    assert.match(reporting.syncService.status().detail, /SYNC_REJECTED: 404 DEVICE_UNKNOWN/);
    reporting.syncService.syncNow();
    await until(() => uploader.sent.length === 2, 'a retry on demand');
  });

  it('refuses plain HTTP to a non-loopback collector with a coded state and sends nothing', async (t) => {
    const { uploader, reporting, states, start } = setup(t, { collectorUrl: 'http://collector.example.com', enrollmentSecret: 'enrollment-secret' });
    await start();
    assert.equal(states.at(-1)?.state, 'disabled');
    assert.match(states.at(-1)!.detail, /^POLICY_INVALID: .*plain HTTP to a non-loopback host/);
    assert.equal(reporting.syncService.status().state, 'disabled');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(uploader.enrollRequests.length + uploader.sent.length, 0);
  });

  it('reports at once when a high-severity finding opens', async (t) => {
    const { ctx, uploader, start } = setup(t);
    await start();
    await until(() => getDeviceId(ctx.db) !== undefined, 'enrollment');
    await until(() => uploader.sent.length === 1 && countPending(ctx.db) === 0, 'the enrollment heartbeat delivered');
    reconcileFindings(ctx.db, 'tool', [{ key: 'tool:low', kind: 'remote-tool-installed', severity: 'low', title: 'l', explanation: 'e', evidence: {} }], ctx.clock.now(), ctx.events);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(listOutbox(ctx.db).length, 1, 'a low finding waits for the period');
    reconcileFindings(
      ctx.db,
      'session',
      [{ key: 'session:vnc', kind: 'remote-session-active', severity: 'high', title: 'VNC session', explanation: 'e', evidence: { port: 5900 } }],
      ctx.clock.now(),
      ctx.events,
    );
    await until(() => uploader.sent.length === 2, 'the urgent report');
    assert.deepEqual(uploader.sent[1]!.body.findings.map((finding) => finding.key).sort(), ['session:vnc', 'tool:low']);
  });

  it('resumes after a restart with the oldest pending report', async (t) => {
    const ctx = testContext(t, { policy: POLICY });
    const down = new ScriptedUploader();
    const first = createReporting(ctx, { uploader: down, backoffBaseMs: 5, backoffCapMs: 40 });
    for (const service of first.services) await service.start();
    await until(() => getDeviceId(ctx.db) !== undefined && down.sent.length === 1 && countPending(ctx.db) === 0, 'enrollment heartbeat');
    down.reachable = false;
    for (let index = 0; index < 4; index++) {
      ctx.clock.advance(1000);
      insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now())]);
      first.reportService.reportNow('test');
    }
    await until(() => down.sent.length >= 3, 'failed attempts');
    for (const service of [...first.services].reverse()) await service.stop();

    const up = new ScriptedUploader();
    const second = createReporting(ctx, { uploader: up, backoffBaseMs: 5, backoffCapMs: 40 });
    assert.equal(second.identity.publicKeySpki, first.identity.publicKeySpki, 'same device key after restart');
    for (const service of second.services) await service.start();
    t.after(async () => {
      for (const service of [...second.services].reverse()) await service.stop();
    });
    await until(() => listOutbox(ctx.db).every((entry) => entry.state === 'delivered'), 'all delivered');
    assert.equal(up.enrollRequests.length, 0, 'enrollment is remembered');
    assert.deepEqual(up.sentSeqs(), [2, 3, 4, 5]);
  });
});
