/**
 * Store rows workload, on real SQLite files (WAL, synchronous=NORMAL, the agent's migrations):
 *
 * - findings: reconcileFindings opening one new finding per call (and closing the previous one),
 *   as a scan that sees a new condition does; baseline: a bare prepared INSERT of the same row,
 *   one transaction per row.
 * - drain: the real SyncService emptying an outbox of ~2 KB signed reports into a no-op uploader
 *   (select next pending, mark sending, "send", mark delivered, record clock skew); baseline: the
 *   same select and one UPDATE with statements prepared once.
 *
 * Every op builds a fresh database in a temporary folder and removes it afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICY } from '../../common/policy';
import type { ReportAck } from '../../common/report';
import type { AgentContext } from '../../agent/context';
import { AgentEvents } from '../../agent/events';
import { loadOrCreateIdentity } from '../../agent/identity/device-identity';
import { ReportSigner } from '../../protocol/report-crypto';
import { openDatabase, type Db } from '../../agent/store/database';
import { reconcileFindings } from '../../agent/store/findings';
import { countPending, insertOutboxEntry } from '../../agent/store/outbox';
import { SyncService } from '../../agent/sync/sync-service';
import type { Uploader } from '../../agent/sync/uploader';
import { GENESIS_HASH } from '../../common/report';
import { reportBody } from '../lib/report-fixtures';
import { serve } from './protocol';

function withDatabase<T>(work: (db: Db, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-bench-store-'));
  const db = openDatabase(path.join(dataDir, 'telltale.db'));
  return work(db, dataDir).finally(() => {
    db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
}

function observation(i: number) {
  return {
    key: `bench:tool-${i}`,
    kind: 'remote-tool-running' as const,
    severity: 'high' as const,
    title: `Remote tool ${i} is running`,
    explanation: 'A remote-control program is running on this laptop. Someone else may be able to see and control the screen.',
    evidence: { catalogId: `tool-${i}`, processes: [{ pid: 1000 + i, name: 'anydesk', exe: '/usr/bin/anydesk' }] },
  };
}

/** Per-second rate of `count` calls of `op`. */
function rate(count: number, op: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) op(i);
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function findings(count: number): Promise<{ reconcile: number; bareInsert: number }> {
  const reconcile = await withDatabase(async (db) => {
    const now = Date.now();
    return rate(count, (i) => reconcileFindings(db, 'bench', [observation(i)], now + i));
  });
  const bareInsert = await withDatabase(async (db) => {
    const insert = db.prepare(
      `INSERT INTO findings (key, kind, severity, title, explanation, evidence, first_seen_at, last_seen_at, closed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    );
    const now = Date.now();
    return rate(count, (i) => {
      const o = observation(i);
      insert.run(o.key, o.kind, o.severity, o.title, o.explanation, JSON.stringify(o.evidence), now + i, now + i);
    });
  });
  return { reconcile, bareInsert };
}

/** Fill the outbox with `count` pending signed reports of about 2 KB. */
function fillOutbox(db: Db, signer: ReportSigner, count: number): void {
  const now = Date.now();
  let prevHash = GENESIS_HASH;
  db.transaction(() => {
    for (let seq = 1; seq <= count; seq++) {
      const sealed = signer.sign(reportBody('bench-device', seq, prevHash, now + seq));
      insertOutboxEntry(db, { seq, kind: 'report', hasFindings: true, createdAt: now + seq, body: sealed.envelope, hash: sealed.hash }, count + 1, now);
      prevHash = sealed.hash;
    }
  })();
}

const silentLogger = { log: () => undefined };

async function drain(count: number): Promise<{ service: number; bare: number }> {
  const service = await withDatabase(async (db, dataDir) => {
    const identity = loadOrCreateIdentity({ dataDir });
    fillOutbox(db, new ReportSigner(identity.privateKey), count);
    const uploader: Uploader = {
      enroll: async () => ({ kind: 'ok', value: { deviceId: 'bench-device' } }),
      sendReport: async (): Promise<{ kind: 'ok'; value: ReportAck }> => ({
        kind: 'ok',
        value: { status: 'stored', seq: 0, gap: false, serverTime: Date.now() },
      }),
    };
    const events = new AgentEvents();
    const ctx: AgentContext = {
      db,
      policy: { ...DEFAULT_POLICY, collectorUrl: 'http://127.0.0.1:9/', enrollmentSecret: 'bench-secret' },
      clock: { now: () => Date.now() },
      logger: silentLogger,
      dataDir,
      agentVersion: '0.1.0-bench',
      events,
    };
    let delivered = 0;
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finished = resolve));
    events.on('reportDelivered', () => {
      if (++delivered === count) finished();
    });
    const sync = new SyncService(ctx, { identity, uploader });
    const start = process.hrtime.bigint();
    sync.start();
    await done;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    await sync.stop();
    if (countPending(db) !== 0) throw new Error(`outbox not drained: ${countPending(db)} pending`);
    return count / seconds;
  });
  const bare = await withDatabase(async (db, dataDir) => {
    const identity = loadOrCreateIdentity({ dataDir });
    fillOutbox(db, new ReportSigner(identity.privateKey), count);
    const next = db.prepare("SELECT seq, body FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1");
    const mark = db.prepare("UPDATE outbox SET state = 'delivered', attempts = attempts + 1, acked_at = ?, settled_at = ? WHERE seq = ?");
    const send = async (_body: string): Promise<number> => Date.now();
    const start = process.hrtime.bigint();
    for (;;) {
      const row = next.get() as { seq: number; body: string } | undefined;
      if (row === undefined) break;
      const ackedAt = await send(row.body);
      mark.run(ackedAt, ackedAt, row.seq);
    }
    return count / (Number(process.hrtime.bigint() - start) / 1e9);
  });
  return { service, bare };
}

serve(
  {
    findings: (args) => findings((args as { count: number }).count),
    drain: (args) => drain((args as { count: number }).count),
  },
  () => undefined,
);
