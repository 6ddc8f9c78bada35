/**
 * The `audit_entries` table: the collector's signed audit entries about this device (what IT
 * looked at and did), stored once their feed verified (agent/audit/audit-fetch-service.ts).
 */
import type { AuditAction, AuditEntry } from '../../common/audit';
import type { Db } from './database';

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  device_id: string | null;
  finding_id: number | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'seq, at, actor, action, device_id, finding_id, detail, prev_hash, hash';

/** Row mapper: SQLite row to the shared AuditEntry. */
export function auditEntryFromRow(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    deviceId: row.device_id,
    findingId: row.finding_id,
    detail: row.detail,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Store verified entries (in one transaction); an entry already stored (same seq) is left as it is. */
export function insertAuditEntries(db: Db, entries: readonly AuditEntry[], receivedAt: number): number {
  const insert = db.prepare(
    `INSERT INTO audit_entries (${COLUMNS}, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(seq) DO NOTHING`,
  );
  let stored = 0;
  db.transaction(() => {
    for (const entry of entries) {
      stored += insert.run(entry.seq, entry.at, entry.actor, entry.action, entry.deviceId, entry.findingId, entry.detail, entry.prevHash, entry.hash, receivedAt).changes;
    }
  })();
  return stored;
}

/** The newest stored entry's seq and hash: where the next fetch continues and what its successor must name. */
export function lastAuditEntry(db: Db): { readonly seq: number; readonly hash: string } | undefined {
  return db.prepare('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
}

/** Up to `limit` entries, newest first. */
export function listLatestAuditEntries(db: Db, limit: number): AuditEntry[] {
  return (db.prepare(`SELECT ${COLUMNS} FROM audit_entries ORDER BY seq DESC LIMIT ?`).all(limit) as AuditRow[]).map(auditEntryFromRow);
}

/** Every stored entry, oldest first (the export). */
export function listAllAuditEntries(db: Db): AuditEntry[] {
  return (db.prepare(`SELECT ${COLUMNS} FROM audit_entries ORDER BY seq`).all() as AuditRow[]).map(auditEntryFromRow);
}

export function countAuditEntries(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM audit_entries').get() as { n: number }).n;
}
