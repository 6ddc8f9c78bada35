/**
 * The `outbox` table: signed reports waiting for, or past, delivery to the collector.
 *
 * A report is inserted here (by the report builder, in the same transaction that advances the chain
 * head) before any attempt to send it, so a crash can neither lose it nor reuse its seq. The sync
 * loop sends pending rows in seq order and marks them delivered only after the collector's 200 ack.
 *
 * ## When the outbox is full
 *
 * `policy.outbox.maxReports` bounds the number of PENDING (undelivered) reports. When a new report
 * would exceed it, the oldest pending reports that carry no findings are dropped to make room:
 * heartbeats first, then timing-only reports, oldest first. Reports that carry findings are never
 * dropped; if nothing else is left to drop, the outbox grows past the bound (findings are rare, so
 * this is bounded in practice) and a warning is logged. A dropped report keeps its row, seq and hash
 * with the body deleted: the device's local chain still verifies end to end, and the collector sees
 * an honest gap in the seq numbers (it flags it) instead of a silently rewritten chain.
 */
import type { Db } from './database';
import { getValue, setValue } from './kv';
import type { RetentionPruner } from './retention';

/** Delivery state of one outbox row. */
export type OutboxState = 'pending' | 'delivered' | 'rejected' | 'dropped';

/** One outbox row. */
export interface OutboxEntry {
  readonly seq: number;
  readonly kind: 'report' | 'heartbeat';
  readonly hasFindings: boolean;
  /** Agent wall clock when the report was made (epoch ms); display only, never used for ordering. */
  readonly createdAt: number;
  /** The canonical signed envelope JSON exactly as sent; null once dropped because the outbox was full. */
  readonly body: string | null;
  /** sha256 hex of canonicalize(report body): the next report's prevHash. */
  readonly hash: string;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: number | null;
  readonly sentAt: number | null;
  readonly ackedAt: number | null;
  /** When the row left 'pending' (delivered, rejected or dropped). */
  readonly settledAt: number | null;
}

/** What the report builder inserts. */
export interface NewOutboxEntry {
  readonly seq: number;
  readonly kind: 'report' | 'heartbeat';
  readonly hasFindings: boolean;
  readonly createdAt: number;
  readonly body: string;
  readonly hash: string;
}

interface OutboxRow {
  seq: number;
  kind: string;
  has_findings: number;
  created_at: number;
  body: string | null;
  hash: string;
  state: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  sent_at: number | null;
  acked_at: number | null;
  settled_at: number | null;
}

/** Row mapper: SQLite row to OutboxEntry. */
export function outboxEntryFromRow(row: OutboxRow): OutboxEntry {
  return {
    seq: row.seq,
    kind: row.kind as OutboxEntry['kind'],
    hasFindings: row.has_findings === 1,
    createdAt: row.created_at,
    body: row.body,
    hash: row.hash,
    state: row.state as OutboxState,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    sentAt: row.sent_at,
    ackedAt: row.acked_at,
    settledAt: row.settled_at,
  };
}

/** The seq and hash of the newest row removed by pruning: the anchor the oldest kept row chains to. */
export interface PruneAnchor {
  readonly seq: number;
  readonly hash: string;
}

const PRUNE_ANCHOR_KEY = 'outbox.pruneAnchor';

/**
 * Insert a report and enforce the bound, returning the seqs dropped to make room.
 *
 * Must be called inside the caller's transaction (the one that also advances the chain head).
 */
export function insertOutboxEntry(db: Db, entry: NewOutboxEntry, maxPending: number, now: number): number[] {
  db.prepare(
    `INSERT INTO outbox (seq, kind, has_findings, created_at, body, hash, state, attempts)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', 0)`,
  ).run(entry.seq, entry.kind, entry.hasFindings ? 1 : 0, entry.createdAt, entry.body, entry.hash);
  return enforceBound(db, maxPending, now);
}

/**
 * Drop pending findings-free reports until at most `maxPending` are pending (see the file comment).
 * Returns the dropped seqs.
 */
export function enforceBound(db: Db, maxPending: number, now: number): number[] {
  const excess = countPending(db) - maxPending;
  if (excess <= 0) return [];
  // Heartbeats first (they carry nothing), then timing-only reports; oldest first within each.
  const victims = db
    .prepare(
      `SELECT seq FROM outbox WHERE state = 'pending' AND has_findings = 0
       ORDER BY CASE kind WHEN 'heartbeat' THEN 0 ELSE 1 END, seq LIMIT ?`,
    )
    .all(excess) as { seq: number }[];
  const drop = db.prepare(
    "UPDATE outbox SET state = 'dropped', body = NULL, settled_at = ?, last_error = 'dropped: outbox full' WHERE seq = ?",
  );
  for (const { seq } of victims) drop.run(now, seq);
  return victims.map((victim) => victim.seq);
}

/** Number of pending (undelivered, not dropped, not rejected) reports. */
export function countPending(db: Db): number {
  return (db.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }).n;
}

/** The oldest pending report (the next one to send), or undefined. */
export function nextPending(db: Db): OutboxEntry | undefined {
  const row = db.prepare("SELECT * FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1").get() as OutboxRow | undefined;
  return row === undefined ? undefined : outboxEntryFromRow(row);
}

/** One row by seq. */
export function getOutboxEntry(db: Db, seq: number): OutboxEntry | undefined {
  const row = db.prepare('SELECT * FROM outbox WHERE seq = ?').get(seq) as OutboxRow | undefined;
  return row === undefined ? undefined : outboxEntryFromRow(row);
}

/** Every row in seq order, optionally only seq > `afterSeq` and at most `limit` rows. */
export function listOutbox(db: Db, options: { readonly afterSeq?: number; readonly limit?: number } = {}): OutboxEntry[] {
  const rows = db
    .prepare('SELECT * FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?')
    .all(options.afterSeq ?? 0, options.limit ?? -1) as OutboxRow[];
  return rows.map(outboxEntryFromRow);
}

/** Whether the outbox table exists (a database migrated only to schema 1 has none). */
export function hasOutbox(db: Db): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").get() !== undefined;
}

/** Number of rows in any state. */
export function countOutbox(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
}

/**
 * The seq just before the newest `count` rows, so `listOutbox(db, { afterSeq })` pages exactly
 * those; 0 when there are no more rows than that.
 */
export function seqBeforeNewest(db: Db, count: number): number {
  const row = db.prepare('SELECT seq FROM outbox ORDER BY seq DESC LIMIT 1 OFFSET ?').get(count) as { seq: number } | undefined;
  return row?.seq ?? 0;
}

/** Record a send attempt about to happen (before the request, so a crash mid-send is visible). */
export function markSending(db: Db, seq: number, now: number): void {
  db.prepare('UPDATE outbox SET attempts = attempts + 1, sent_at = ? WHERE seq = ?').run(now, seq);
}

/**
 * Record the collector's 200 ack. A row dropped while its send was in flight still becomes
 * 'delivered' (without its body): the collector has it.
 */
export function markDelivered(db: Db, seq: number, now: number): void {
  db.prepare(
    `UPDATE outbox SET state = 'delivered', acked_at = ?, settled_at = ?, last_error = NULL, next_attempt_at = NULL
     WHERE seq = ? AND state IN ('pending', 'dropped')`,
  ).run(now, now, seq);
}

/** Record a failed attempt that will be retried at `nextAttemptAt`. */
export function markRetry(db: Db, seq: number, error: string, nextAttemptAt: number): void {
  db.prepare("UPDATE outbox SET last_error = ?, next_attempt_at = ? WHERE seq = ? AND state = 'pending'").run(
    error,
    nextAttemptAt,
    seq,
  );
}

/** Record a definitive refusal by the collector: kept for the transparency view, not retried. */
export function markRejected(db: Db, seq: number, error: string, now: number): void {
  db.prepare(
    "UPDATE outbox SET state = 'rejected', last_error = ?, settled_at = ?, next_attempt_at = NULL WHERE seq = ? AND state = 'pending'",
  ).run(error, now, seq);
}

/**
 * Retention: delete settled rows (delivered, rejected, dropped) settled before `olderThan`.
 *
 * Only a prefix of the chain is ever deleted (rows below the oldest row that is still pending or
 * too recent), so what remains is contiguous; the newest deleted row's seq and hash are kept as the
 * prune anchor so the oldest kept row's chain link can still be verified. Returns the rows deleted.
 */
export function pruneDelivered(db: Db, olderThan: number): number {
  return db
    .transaction((): number => {
      const stop = db
        .prepare("SELECT min(seq) AS seq FROM outbox WHERE state = 'pending' OR settled_at IS NULL OR settled_at >= ?")
        .get(olderThan) as { seq: number | null };
      const below = stop.seq ?? Number.MAX_SAFE_INTEGER;
      const last = db.prepare('SELECT seq, hash FROM outbox WHERE seq < ? ORDER BY seq DESC LIMIT 1').get(below) as
        | PruneAnchor
        | undefined;
      if (last === undefined) return 0;
      const deleted = db.prepare('DELETE FROM outbox WHERE seq < ?').run(below).changes;
      setValue(db, PRUNE_ANCHOR_KEY, { seq: last.seq, hash: last.hash } satisfies PruneAnchor);
      return deleted;
    })
    .immediate();
}

/**
 * Retention's size cap: delete up to `count` of the oldest settled rows, again only as a prefix of
 * the chain (never a pending row, never a row after a pending one). Returns the rows deleted.
 */
export function pruneOldestSettled(db: Db, count: number): number {
  return db
    .transaction((): number => {
      const pending = db.prepare("SELECT min(seq) AS seq FROM outbox WHERE state = 'pending'").get() as { seq: number | null };
      const rows = db
        .prepare('SELECT seq, hash FROM outbox WHERE seq < ? ORDER BY seq LIMIT ?')
        .all(pending.seq ?? Number.MAX_SAFE_INTEGER, count) as PruneAnchor[];
      const last = rows[rows.length - 1];
      if (last === undefined) return 0;
      const deleted = db.prepare('DELETE FROM outbox WHERE seq <= ?').run(last.seq).changes;
      setValue(db, PRUNE_ANCHOR_KEY, { seq: last.seq, hash: last.hash } satisfies PruneAnchor);
      return deleted;
    })
    .immediate();
}

/** The outbox's retention pruner: settled rows only, oldest first, never breaking the chain's verifiability. */
export const outboxPruner: RetentionPruner = {
  name: 'outbox',
  pruneBefore: pruneDelivered,
  pruneOldest: pruneOldestSettled,
};

/** The newest pruned row's seq and hash, if anything was pruned. */
export function getPruneAnchor(db: Db): PruneAnchor | undefined {
  return getValue<PruneAnchor>(db, PRUNE_ANCHOR_KEY);
}

/** Counts per state, for status displays. */
export function outboxCounts(db: Db): Record<OutboxState, number> {
  const counts: Record<OutboxState, number> = { pending: 0, delivered: 0, rejected: 0, dropped: 0 };
  const rows = db.prepare('SELECT state, count(*) AS n FROM outbox GROUP BY state').all() as { state: OutboxState; n: number }[];
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}
