import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { canonicalize } from '../../protocol/canonical-json';
import { GENESIS_HASH, SignedReportSchema, type SignedReport } from '../../common/report';
import { getChainHead, ReportBuilder } from '../../agent/report/report-builder';
import { hashReportBody, ReportSigner, sealReport, verifyReport } from '../../protocol/report-crypto';
import { reportBodyProblems } from '../../common/report';
import { verifyOutboxLocally } from '../../agent/report/verify-local';
import { reconcileFindings } from '../../agent/store/findings';
import { listOutbox } from '../../agent/store/outbox';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

function setup(t: { after(fn: () => void): void }, options: { maxPending?: number; maxEnvelopeBytes?: number } = {}) {
  const ctx = testContext(t);
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  const builder = new ReportBuilder({
    db: ctx.db,
    signer: new ReportSigner(privateKey),
    agentVersion: '9.9.9',
    maxPending: options.maxPending ?? 1000,
    maxEnvelopeBytes: options.maxEnvelopeBytes,
  });
  return { ctx, builder, publicKey, privateKey };
}

function reports(ctx: { db: Parameters<typeof listOutbox>[0] }): SignedReport[] {
  return listOutbox(ctx.db).map((entry) => JSON.parse(entry.body!) as SignedReport);
}

describe('signed report chain', () => {
  it('replaces evidence nested deeper than the collector accepts with a truncation note', (t) => {
    const { ctx, builder } = setup(t);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 20; level++) deep = { inner: deep };
    reconcileFindings(ctx.db, 'tool', [{ key: 'tool:deep', kind: 'remote-tool-running', severity: 'low', title: 'deep', explanation: 'e', evidence: deep as never }], ctx.clock.now());
    builder.queue('device-1', ctx.clock.now(), false);
    const [report] = reports(ctx);
    assert.equal(report!.body.findings[0]!.evidence.truncated, true);
  });

  it('replaces evidence the report schema would refuse (too many fields) with a truncation note, so the report still lands', (t) => {
    const { ctx, builder } = setup(t);
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`field${index}`, index]));
    reconcileFindings(ctx.db, 'tool', [{ key: 'tool:wide', kind: 'remote-tool-running', severity: 'low', title: 'wide', explanation: 'e', evidence: wide }], ctx.clock.now());
    builder.queue('device-1', ctx.clock.now(), false);
    const [report] = reports(ctx);
    assert.deepEqual(reportBodyProblems(report!.body), []);
    assert.equal(report!.body.findings[0]!.evidence.truncated, true);
  });

  it('signs canonical bodies that verify, match the schema and are stored byte for byte', (t) => {
    const { ctx, builder, publicKey } = setup(t);
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now() - 5000), sampleWindow(ctx.clock.now() - 3000)]);
    reconcileFindings(ctx.db, 'tool', [{ key: 'tool:x11vnc', kind: 'remote-tool-running', severity: 'high', title: 'x11vnc', explanation: 'e', evidence: { pid: 7 } }], ctx.clock.now());
    const outcome = builder.queue('device-1', ctx.clock.now(), false);
    assert.deepEqual(outcome.queued.map((entry) => [entry.seq, entry.kind]), [[1, 'report']]);

    const [entry] = listOutbox(ctx.db);
    assert.ok(entry?.body);
    const report = JSON.parse(entry.body) as SignedReport;
    assert.equal(Value.Check(SignedReportSchema, report), true, JSON.stringify([...Value.Errors(SignedReportSchema, report)].slice(0, 3)));
    assert.equal(entry.body, canonicalize(report), 'the envelope is stored in canonical form, as sent');
    assert.equal(verifyReport(report, publicKey), true);
    assert.equal(entry.hash, hashReportBody(report.body));
    assert.equal(report.body.prevHash, GENESIS_HASH);
    assert.equal(report.body.deviceId, 'device-1');
    assert.equal(report.body.agentVersion, '9.9.9');
    assert.equal(report.body.timing.length, 2);
    assert.deepEqual(report.body.findings.map((finding) => [finding.key, finding.severity]), [['tool:x11vnc', 'high']]);
    assert.equal(entry.hasFindings, true);
    // Another key does not verify it.
    assert.equal(verifyReport(report, crypto.generateKeyPairSync('ed25519').publicKey), false);
  });

  it('links each report to the previous one and verifies locally end to end', (t) => {
    const { ctx, builder, publicKey } = setup(t);
    for (let index = 0; index < 4; index++) {
      insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now())]);
      ctx.clock.advance(60_000);
      builder.queue('device-1', ctx.clock.now(), true);
    }
    ctx.clock.advance(60_000);
    builder.queue('device-1', ctx.clock.now(), true); // nothing new: a heartbeat
    const all = reports(ctx);
    assert.deepEqual(all.map((report) => report.body.seq), [1, 2, 3, 4, 5]);
    assert.deepEqual(all.map((report) => report.body.kind), ['report', 'report', 'report', 'report', 'heartbeat']);
    for (let index = 1; index < all.length; index++) {
      assert.equal(all[index]!.body.prevHash, hashReportBody(all[index - 1]!.body));
      assert.equal(all[index]!.body.window.from, all[index - 1]!.body.window.to, 'windows are contiguous');
    }
    // Each timing window is reported exactly once.
    assert.deepEqual(all.map((report) => report.body.timing.length), [1, 1, 1, 1, 0]);
    const checks = verifyOutboxLocally(ctx.db, publicKey);
    assert.equal(checks.length, 5);
    assert.ok(checks.every((check) => check.signatureValid === true && check.chainValid === true && check.reason === null), JSON.stringify(checks));
    const head = getChainHead(ctx.db);
    assert.equal(head?.seq, 5);
    assert.equal(head?.hash, hashReportBody(all[4]!.body));
  });

  it('flags a tampered body, a tampered signature and a removed report', (t) => {
    const { ctx, builder, publicKey } = setup(t);
    for (let index = 0; index < 4; index++) {
      insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now())]);
      ctx.clock.advance(1000);
      builder.queue('device-1', ctx.clock.now(), false);
    }
    const [first, second] = listOutbox(ctx.db);
    const altered = JSON.parse(first!.body!) as SignedReport;
    (altered.body.timing[0] as { keys: { keystrokes: number } }).keys.keystrokes = 999;
    ctx.db.prepare('UPDATE outbox SET body = ? WHERE seq = 1').run(canonicalize(altered));
    const resigned = JSON.parse(second!.body!) as SignedReport;
    resigned.sig = sealReport(resigned.body, crypto.generateKeyPairSync('ed25519').privateKey).report.sig;
    ctx.db.prepare('UPDATE outbox SET body = ? WHERE seq = 2').run(canonicalize(resigned));
    ctx.db.prepare('DELETE FROM outbox WHERE seq = 3').run();

    const checks = verifyOutboxLocally(ctx.db, publicKey);
    assert.deepEqual(
      checks.map((check) => [check.seq, check.signatureValid, check.chainValid]),
      [
        [1, false, false],
        [2, false, true],
        [4, true, false],
      ],
    );
    assert.match(checks[0]!.reason!, /altered after signing/);
    assert.match(checks[0]!.reason!, /no longer matches the hash/);
    assert.match(checks[2]!.reason!, /Report 3 is missing/);
  });

  it('splits a large backlog across reports under the byte budget, each window once', (t) => {
    const budget = 8 * 1024;
    const { ctx, builder, publicKey } = setup(t, { maxEnvelopeBytes: budget });
    const windows = Array.from({ length: 60 }, (_, index) => sampleWindow(1_600_000_000_000 + index * 1000, index + 2));
    insertTimingWindows(ctx.db, windows);
    reconcileFindings(ctx.db, 'tool', [{ key: 'tool:a', kind: 'remote-tool-running', severity: 'low', title: 'a', explanation: 'x'.repeat(3000), evidence: {} }], ctx.clock.now());
    const outcome = builder.queue('device-1', ctx.clock.now(), false);
    assert.ok(outcome.queued.length > 3, `split into ${outcome.queued.length}`);
    const entries = listOutbox(ctx.db);
    for (const entry of entries) assert.ok(Buffer.byteLength(entry.body!) <= budget, `seq ${entry.seq}: ${Buffer.byteLength(entry.body!)} bytes`);
    const all = reports(ctx);
    assert.deepEqual(all.flatMap((report) => report.body.timing), windows, 'every window once, in order');
    assert.equal(all.flatMap((report) => report.body.findings).length, 1, 'the finding goes in exactly one part');
    assert.equal(all[0]!.body.findings.length, 1, 'findings first');
    assert.ok(verifyOutboxLocally(ctx.db, publicKey).every((check) => check.signatureValid && check.chainValid));
    // Nothing new: no report, no heartbeat unless asked.
    assert.equal(builder.queue('device-1', ctx.clock.now(), false).queued.length, 1, 'the finding is still open, so it is reported again');
    ctx.clock.advance(1000);
    reconcileFindings(ctx.db, 'tool', [], ctx.clock.now());
    builder.queue('device-1', ctx.clock.now(), false); // carries the closed finding
    ctx.clock.advance(1000);
    // Windows are inclusive at both ends, so a finding closed at the boundary ms is repeated once rather than risk missing one.
    assert.equal(builder.queue('device-1', ctx.clock.now(), false).queued.length, 1);
    ctx.clock.advance(1000);
    assert.equal(builder.queue('device-1', ctx.clock.now(), false).queued.length, 0);
  });

  it('writes nothing and keeps the head when signing fails midway (one transaction)', (t) => {
    const { ctx, privateKey } = setup(t);
    insertTimingWindows(ctx.db, Array.from({ length: 10 }, (_, index) => sampleWindow(1000 * index)));
    const signer = new ReportSigner(privateKey);
    let calls = 0;
    const failing = Object.assign(Object.create(ReportSigner.prototype) as ReportSigner, {
      sign: (body: Parameters<ReportSigner['sign']>[0]) => {
        if (++calls === 2) throw new Error('simulated crash while signing the second part');
        return signer.sign(body);
      },
    });
    const builder = new ReportBuilder({ db: ctx.db, signer: failing, agentVersion: 't', maxPending: 100, maxEnvelopeBytes: 3000 });
    assert.throws(() => builder.queue('device-1', ctx.clock.now(), false), /simulated crash/);
    assert.equal(listOutbox(ctx.db).length, 0);
    assert.equal(getChainHead(ctx.db), undefined);
    // Retrying after the "crash" starts again from seq 1 with every window.
    const retry = new ReportBuilder({ db: ctx.db, signer, agentVersion: 't', maxPending: 100, maxEnvelopeBytes: 3000 });
    retry.queue('device-1', ctx.clock.now(), false);
    assert.equal(reports(ctx)[0]!.body.seq, 1);
    assert.equal(reports(ctx).flatMap((report) => report.body.timing).length, 10);
  });

  it('refuses to continue a chain that belongs to another device id', (t) => {
    const { ctx, builder } = setup(t);
    builder.queue('device-1', ctx.clock.now(), true);
    assert.throws(() => builder.queue('device-2', ctx.clock.now(), true), /belongs to device device-1/);
  });

  it('clips finding text to the schema limits and replaces huge evidence', (t) => {
    const { ctx, builder } = setup(t);
    reconcileFindings(
      ctx.db,
      'tool',
      [{ key: 'tool:big', kind: 'remote-tool-running', severity: 'medium', title: 't'.repeat(600), explanation: 'e'.repeat(5000), evidence: { blob: 'x'.repeat(40_000) } }],
      ctx.clock.now(),
    );
    builder.queue('device-1', ctx.clock.now(), false);
    const [report] = reports(ctx);
    const finding = report!.body.findings[0]!;
    assert.equal(finding.title.length, 512);
    assert.equal(finding.explanation.length, 4096);
    assert.deepEqual(finding.evidence, { truncated: true, originalBytes: 40_011 });
    assert.equal(Value.Check(SignedReportSchema, report), true);
  });
});

describe('report privacy', () => {
  it('projects timing windows onto the shared shape and the audit catches anything else', (t) => {
    const { ctx, builder } = setup(t);
    // A stored window with a field that must never leave (as if a future aggregator leaked one).
    const leaky = { ...sampleWindow(1000), keyCode: 30, keys: { ...sampleWindow(1000).keys, lastKey: 'a' } };
    insertTimingWindows(ctx.db, [leaky as never]);
    builder.queue('device-1', ctx.clock.now(), false);
    const [entry] = listOutbox(ctx.db);
    assert.doesNotMatch(entry!.body!, /keyCode|lastKey/);
    const report = JSON.parse(entry!.body!) as SignedReport;
    assert.deepEqual(reportBodyProblems(report.body), []);
    assert.deepEqual(report.body.timing[0], sampleWindow(1000));

    const tampered = structuredClone(report.body) as unknown as { timing: Record<string, unknown>[]; extra?: number };
    tampered.timing[0]!.x = 412;
    (tampered.timing[0]!.mouse as Record<string, unknown>).y = 77;
    tampered.extra = 1;
    const problems = reportBodyProblems(tampered);
    assert.ok(problems.some((problem) => problem.startsWith('/timing/0/x: Unexpected property')), problems.join('\n'));
    assert.ok(problems.some((problem) => problem.startsWith('/timing/0/mouse/y: Unexpected property')), problems.join('\n'));
    assert.ok(problems.some((problem) => problem.startsWith('/extra: Unexpected property')), problems.join('\n'));
  });
});
