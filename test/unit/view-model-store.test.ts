/**
 * The view-model over a real SQLite store: every answer matches the contract's response schema,
 * the baseline falls back to the running median, reports are shown byte for byte with a local
 * check that turns invalid when the stored row is altered, and agent events become bridge events.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { EVENT_CHANNELS, isValidEvent, isValidResponse, type EventChannel } from '../../common/ipc-contract';
import { createOutboxReportReader } from '../../agent/view/report-reader';
import { runningMedianBaseline, ViewModel } from '../../agent/view/view-model';
import { ReportBuilder } from '../../agent/report/report-builder';
import { saveBaseline } from '../../agent/store/baseline';
import { initialBaseline } from '../../agent/timing-detector/baseline-model';
import { FEATURES } from '../../agent/timing-detector/features';
import { POPULATION_PRIOR } from '../../agent/timing-detector/prior';
import { ReportSigner } from '../../protocol/report-crypto';
import { reconcileFindings } from '../../agent/store/findings';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

const remoteSession = {
  key: 'tool:x11vnc',
  kind: 'remote-session-active' as const,
  severity: 'high' as const,
  title: 'A remote-control session (x11vnc) is active',
  explanation: 'Someone could be viewing or controlling this screen from another computer.',
  evidence: { process: 'x11vnc', port: 5900 },
};

describe('view-model', () => {
  it('answers every request with a value matching the contract schema', async (t) => {
    const ctx = testContext(t, { policy: { collectorUrl: 'https://it.example.com', enrollmentSecret: 'super-secret-value' } });
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now() - 5000, 20), sampleWindow(ctx.clock.now() - 3000, 30)]);
    reconcileFindings(ctx.db, 'tool', [remoteSession], ctx.clock.now());
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    new ReportBuilder({ db: ctx.db, signer: new ReportSigner(privateKey), agentVersion: 't', maxPending: 100 }).queue('dev-1', ctx.clock.now(), true);
    const model = new ViewModel(ctx, { mode: 'headless', reports: createOutboxReportReader(() => publicKey) });
    t.after(() => model.dispose());

    assert.ok(isValidResponse('getOverview', unwrap(model.getOverview())));
    assert.ok(isValidResponse('getTiming', unwrap(model.getTiming({}))));
    assert.ok(isValidResponse('getFindings', unwrap(model.getFindings())));
    assert.ok(isValidResponse('getReports', unwrap(model.getReports({}))));
    assert.ok(isValidResponse('getPolicy', unwrap(model.getPolicy())));
    const exported = unwrap(model.exportData());
    assert.ok(isValidResponse('exportData', exported));
    assert.equal(exported.timingWindows.length, 2);
    assert.equal(exported.findings.length, 1);
    assert.ok(exported.reports.length >= 1);
    // The enrollment secret is a credential, not policy the employee needs: it never reaches the view.
    assert.ok(!JSON.stringify(exported).includes('super-secret-value'));
    assert.ok(!JSON.stringify(unwrap(model.getPolicy())).includes('super-secret-value'));
    // No collector call is possible here: syncNow reports that instead of pretending.
    const sync = await model.syncNow();
    assert.equal(sync.ok, false);
  });

  it('derives the device state: attention for an open medium/high finding, offline from sync, else ok', (t) => {
    const ctx = testContext(t, { policy: { collectorUrl: 'https://it.example.com' } });
    const model = new ViewModel(ctx, { mode: 'electron' });
    t.after(() => model.dispose());
    assert.equal(model.status().state, 'ok');
    ctx.events.emit('syncStateChanged', { state: 'offline', detail: 'connection refused' });
    assert.equal(model.status().state, 'offline');
    reconcileFindings(ctx.db, 'tool', [remoteSession], ctx.clock.now(), ctx.events);
    const status = model.status();
    assert.equal(status.state, 'attention');
    assert.match(status.summary, /x11vnc/);
    reconcileFindings(ctx.db, 'tool', [{ ...remoteSession, key: 'tool:teamviewer', kind: 'approved-tool', severity: 'info' }], ctx.clock.now(), ctx.events);
    assert.equal(model.status().state, 'offline', 'an approved tool alone is not a reason for attention');
  });

  it('falls back to the running median of stored windows for the baseline', (t) => {
    const ctx = testContext(t);
    const model = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => model.dispose());
    assert.equal(unwrap(model.getTiming({})).baseline.source, 'none');
    insertTimingWindows(ctx.db, [0, 1, 2].map((i) => sampleWindow(1000 * i, 10 + i)));
    const timing = unwrap(model.getTiming({ limit: 2 }));
    assert.equal(timing.windows.length, 2, 'the list is the tail');
    assert.equal(timing.windows[1]!.window.keys.keystrokes, 12, 'oldest first, newest last');
    assert.equal(timing.storedWindows, 3);
    assert.equal(timing.baseline.source, 'running-median');
    assert.equal(timing.baseline.dwellMedianMs, 91.5);
    assert.equal(runningMedianBaseline([]).source, 'none');
    // Once the timing detector has stored a per-device baseline, it is what the view compares with.
    const learned = initialBaseline(POPULATION_PRIOR);
    saveBaseline(ctx.db, { ...learned, windows: { keys: 30, mouse: 12 } });
    const device = unwrap(model.getTiming({}));
    assert.equal(device.baseline.source, 'device-baseline');
    assert.equal(device.baseline.windows, 42);
    assert.deepEqual(
      device.baseline.learned.map((feature) => feature.id),
      FEATURES.map((spec) => spec.id),
    );
    const moveRate = device.baseline.learned.find((feature) => feature.id === 'moveRate')!;
    assert.equal(device.baseline.moveRateHz, moveRate.usual);
    assert.equal(device.baseline.dwellMedianMs, 91.5, 'hold time still from stored windows (the detector does not learn it)');
    assert.ok(isValidResponse('getTiming', device));
  });

  it('shows each stored report byte for byte and marks a tampered one invalid', (t) => {
    const ctx = testContext(t);
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const builder = new ReportBuilder({ db: ctx.db, signer: new ReportSigner(privateKey), agentVersion: 't', maxPending: 100 });
    builder.queue('dev-1', ctx.clock.now(), true);
    ctx.clock.advance(1000);
    builder.queue('dev-1', ctx.clock.now(), true);
    const model = new ViewModel(ctx, { mode: 'headless', reports: createOutboxReportReader(() => publicKey) });
    t.after(() => model.dispose());
    const before = unwrap(model.getReports({}));
    assert.equal(before.total, 2);
    assert.deepEqual(before.reports.map((report) => report.seq), [2, 1], 'newest first');
    const stored = ctx.db.prepare('SELECT body FROM outbox WHERE seq = 1').get() as { body: string };
    assert.equal(before.reports[1]!.payload, stored.body, 'exactly the stored bytes');
    assert.equal(before.reports[1]!.bytes, Buffer.byteLength(stored.body));
    assert.ok(before.reports.every((report) => report.signature === 'valid' && report.chain === 'valid'));

    ctx.db.prepare('UPDATE outbox SET body = ? WHERE seq = 1').run(stored.body.replace('"heartbeat"', '"report"'));
    const after = unwrap(model.getReports({}));
    const tampered = after.reports.find((report) => report.seq === 1)!;
    assert.equal(tampered.signature, 'invalid');
    assert.notEqual(tampered.checkDetail, '');
    assert.equal(after.reports.find((report) => report.seq === 2)!.signature, 'valid');

    const limited = unwrap(model.getReports({ limit: 1 }));
    assert.deepEqual(limited.reports.map((report) => report.seq), [2]);
    assert.equal(limited.reports[0]!.chain, 'valid', 'the link to an unshown row is still checked');

    const keyless = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => keyless.dispose());
    assert.ok(unwrap(keyless.getReports({})).reports.every((report) => report.signature === 'unchecked'));
  });

  it('turns agent events into bridge events with valid payloads', (t) => {
    const ctx = testContext(t);
    const model = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => model.dispose());
    const seen: { channel: EventChannel; payload: unknown }[] = [];
    const unsubscribe = model.subscribe((channel, payload) => seen.push({ channel, payload }));
    const window = sampleWindow(ctx.clock.now());
    const [id] = insertTimingWindows(ctx.db, [window]);
    ctx.events.emit('windowFlushed', { id: id!, window });
    reconcileFindings(ctx.db, 'tool', [remoteSession], ctx.clock.now(), ctx.events);
    ctx.events.emit('reportQueued', { seq: 1, kind: 'report' });
    ctx.events.emit('reportDelivered', { seq: 1, duplicate: false });
    ctx.events.emit('syncStateChanged', { state: 'offline', detail: 'down' });
    ctx.events.emit('auditChanged', { added: 2, newestSeq: 9 });
    assert.deepEqual(
      seen.map((event) => event.channel),
      ['windowFlushed', 'findingsChanged', 'statusChanged', 'reportsChanged', 'reportsChanged', 'statusChanged', 'auditChanged'],
    );
    for (const event of seen) assert.ok(isValidEvent(event.channel, event.payload), `${event.channel} payload matches its schema`);
    assert.deepEqual(new Set(seen.map((event) => event.channel)), new Set(EVENT_CHANNELS), 'every event channel is produced');
    unsubscribe();
    ctx.events.emit('reportQueued', { seq: 2, kind: 'report' });
    assert.equal(seen.length, 7);
  });
});
