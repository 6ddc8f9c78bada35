import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { ReportBuilder } from '../../agent/report/report-builder';
import { ReportSigner } from '../../protocol/report-crypto';
import { verifyOutboxLocally } from '../../agent/report/verify-local';
import type { Db } from '../../agent/store/database';
import { reconcileFindings } from '../../agent/store/findings';
import {
  countOutbox,
  countPending,
  getPruneAnchor,
  hasOutbox,
  insertOutboxEntry,
  listOutbox,
  markDelivered,
  markRejected,
  nextPending,
  outboxCounts,
  outboxPruner,
  pruneDelivered,
  seqBeforeNewest,
} from '../../agent/store/outbox';
import { runRetention } from '../../agent/store/retention';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

function insert(db: Db, seq: number, kind: 'report' | 'heartbeat', hasFindings: boolean, maxPending: number): number[] {
  return db.transaction(() =>
    insertOutboxEntry(db, { seq, kind, hasFindings, createdAt: seq * 1000, body: `{"seq":${seq}}`, hash: seq.toString(16).padStart(64, '0') }, maxPending, seq * 1000),
  )();
}

describe('outbox', () => {
  it('when full drops heartbeats first, then the oldest timing-only reports, never findings', (t) => {
    const { db } = testContext(t);
    const max = 4;
    insert(db, 1, 'report', true, max);
    insert(db, 2, 'report', false, max);
    insert(db, 3, 'heartbeat', false, max);
    insert(db, 4, 'report', false, max);
    assert.deepEqual(insert(db, 5, 'report', false, max), [3], 'the heartbeat goes first');
    assert.deepEqual(insert(db, 6, 'report', true, max), [2], 'then the oldest timing-only report');
    assert.deepEqual(insert(db, 7, 'report', true, max), [4]);
    assert.deepEqual(insert(db, 8, 'report', true, max), [5]);
    // Only findings-bearing reports are pending now: the bound gives way rather than lose findings.
    assert.deepEqual(insert(db, 9, 'report', true, max), []);
    assert.equal(countPending(db), 5);
    const rows = listOutbox(db);
    assert.deepEqual(rows.filter((row) => row.state === 'dropped').map((row) => row.seq), [2, 3, 4, 5]);
    for (const row of rows.filter((row) => row.state === 'dropped')) {
      assert.equal(row.body, null, 'the body is deleted');
      assert.match(row.hash, /^[0-9a-f]{64}$/, 'the hash stays for the chain');
    }
    assert.equal(nextPending(db)?.seq, 1);
  });

  it('counts every row and finds the seq that pages the newest rows', (t) => {
    const { db } = testContext(t);
    assert.equal(hasOutbox(db), true);
    for (const seq of [1, 2, 3]) insert(db, seq, 'report', false, 10);
    assert.equal(countOutbox(db), 3);
    assert.equal(seqBeforeNewest(db, 2), 1);
    assert.deepEqual(listOutbox(db, { afterSeq: seqBeforeNewest(db, 2) }).map((row) => row.seq), [2, 3]);
    assert.equal(seqBeforeNewest(db, 3), 0);
  });

  it('a full outbox keeps a chain that verifies locally, with the gap explained', (t) => {
    const ctx = testContext(t);
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const builder = new ReportBuilder({ db: ctx.db, signer: new ReportSigner(privateKey), agentVersion: 't', maxPending: 3 });
    reconcileFindings(ctx.db, 'tool', [{ key: 'tool:a', kind: 'remote-tool-running', severity: 'high', title: 'a', explanation: 'b', evidence: {} }], ctx.clock.now());
    builder.queue('device-1', ctx.clock.now(), false);
    reconcileFindings(ctx.db, 'tool', [], ctx.clock.now() + 1);
    for (let index = 0; index < 6; index++) {
      ctx.clock.advance(10_000);
      insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now() - 5000)]);
      builder.queue('device-1', ctx.clock.now(), false);
    }
    const rows = listOutbox(ctx.db);
    assert.equal(rows.length, 7);
    assert.equal(countPending(ctx.db), 3);
    assert.equal(rows[0]!.state, 'pending', 'the findings report survives');
    const checks = verifyOutboxLocally(ctx.db, publicKey);
    const dropped = checks.filter((check) => check.state === 'dropped');
    assert.ok(dropped.length > 0);
    for (const check of dropped) assert.match(check.reason!, /outbox was full/);
    for (const check of checks.filter((check) => check.state !== 'dropped')) {
      assert.equal(check.signatureValid, true);
      assert.equal(check.chainValid, true, `seq ${check.seq}: ${check.reason}`);
    }
  });

  it('prunes only a settled prefix and keeps an anchor so the rest still verifies', (t) => {
    const ctx = testContext(t);
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const builder = new ReportBuilder({ db: ctx.db, signer: new ReportSigner(privateKey), agentVersion: 't', maxPending: 100 });
    for (let index = 0; index < 6; index++) {
      ctx.clock.advance(1000);
      builder.queue('device-1', ctx.clock.now(), true);
    }
    const t0 = ctx.clock.now();
    markDelivered(ctx.db, 1, t0);
    markDelivered(ctx.db, 2, t0);
    markRejected(ctx.db, 3, 'SYNC_REJECTED: 409', t0);
    // 4 stays pending; 5 delivered (out of order, e.g. after a rejection skip) must not be pruned past 4.
    markDelivered(ctx.db, 5, t0);
    assert.equal(pruneDelivered(ctx.db, t0 + 1), 3);
    assert.deepEqual(listOutbox(ctx.db).map((row) => row.seq), [4, 5, 6]);
    assert.equal(getPruneAnchor(ctx.db)?.seq, 3);
    assert.ok(verifyOutboxLocally(ctx.db, publicKey).every((check) => check.signatureValid && check.chainValid));
    // Nothing settled before the cutoff: nothing pruned.
    assert.equal(pruneDelivered(ctx.db, t0 - 1), 0);
    assert.deepEqual(outboxCounts(ctx.db), { pending: 2, delivered: 1, rejected: 0, dropped: 0 });
  });

  it('joins retention as a pruner without touching pending rows', (t) => {
    const ctx = testContext(t);
    for (let seq = 1; seq <= 5; seq++) insert(ctx.db, seq, 'report', false, 100);
    markDelivered(ctx.db, 1, 1000);
    markDelivered(ctx.db, 2, 1000);
    const outcome = runRetention(ctx.db, ctx.databasePath, { maxDays: 1, maxMegabytes: 50 }, 1000 + 2 * 86_400_000, [outboxPruner]);
    assert.equal(outcome.deletedByAge.outbox, 2);
    assert.deepEqual(listOutbox(ctx.db).map((row) => row.seq), [3, 4, 5]);
    assert.equal(outboxPruner.pruneOldest(ctx.db, 10), 0, 'pending rows are never pruned for size');
  });

  it('finds the next pending row through the partial index', (t) => {
    const { db } = testContext(t);
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT * FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1").all() as { detail: string }[];
    assert.ok(plan.some((row) => row.detail.includes('outbox_pending')), JSON.stringify(plan));
  });

  it('a row dropped while in flight still becomes delivered when acknowledged', (t) => {
    const { db } = testContext(t);
    insert(db, 1, 'report', false, 100);
    insert(db, 2, 'report', false, 1);
    assert.equal(listOutbox(db)[0]!.state, 'dropped');
    markDelivered(db, 1, 5000);
    assert.equal(listOutbox(db)[0]!.state, 'delivered');
  });
});
