/**
 * The `audit_log` table: every IT action and every IT read of one device's data, append-only and
 * hash-chained. Each entry's hash covers its fields and the previous entry's hash
 * (common/audit.ts auditEntryMessage), so removing, reordering or editing an entry breaks every
 * later link; verifyAuditChain finds the first break.
 *
 * Appends run inside the caller's write transaction (writes are serialized), so two entries never
 * take the same seq; nothing in the collector updates or deletes a row of this table.
 */
import type { AuditAction, AuditEntry } from '../../common/audit';
import { GENESIS_HASH } from '../../common/report';
import { hashAuditEntry } from '../../protocol/report-crypto';
import { integer, integerOrNull, text, textOrNull, type Queryable, type Row } from './sql';

/** What the caller says about an entry; seq, hashes and time are the log's. */
export interface AuditRecord {
  readonly actor: string;
  readonly action: AuditAction;
  readonly deviceId: string | null;
  readonly findingId: number | null;
  readonly detail: string;
}

const COLUMNS = 'seq, at, actor, action, device_id, finding_id, detail, prev_hash, hash';

function toEntry(row: Row): AuditEntry {
  return {
    seq: integer(row, 'seq'),
    at: integer(row, 'at'),
    actor: text(row, 'actor'),
    action: text(row, 'action') as AuditAction,
    deviceId: textOrNull(row, 'device_id'),
    findingId: integerOrNull(row, 'finding_id'),
    detail: text(row, 'detail'),
    prevHash: text(row, 'prev_hash'),
    hash: text(row, 'hash'),
  };
}

/** Longest detail an entry keeps (AuditEntrySchema); longer text is cut with an ellipsis. */
const MAX_DETAIL = 2000;

/** Append one entry after the current head, inside the caller's write transaction; returns it. */
export async function appendAudit(tx: Queryable, record: AuditRecord, now: number): Promise<AuditEntry> {
  const head = await tx.get('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const fields: Omit<AuditEntry, 'hash'> = {
    seq: head ? integer(head, 'seq') + 1 : 1,
    at: now,
    actor: record.actor.slice(0, 128),
    action: record.action,
    deviceId: record.deviceId,
    findingId: record.findingId,
    detail: record.detail.length > MAX_DETAIL ? `${record.detail.slice(0, MAX_DETAIL - 1)}…` : record.detail,
    prevHash: head ? text(head, 'hash') : GENESIS_HASH,
  };
  const entry: AuditEntry = { ...fields, hash: hashAuditEntry(fields) };
  await tx.run(`INSERT INTO audit_log (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    entry.seq,
    entry.at,
    entry.actor,
    entry.action,
    entry.deviceId,
    entry.findingId,
    entry.detail,
    entry.prevHash,
    entry.hash,
  ]);
  return entry;
}

/** Entries about one device with seq > `after`, oldest first (index audit_log_device). */
export async function listDeviceAudit(db: Queryable, deviceId: string, after: number, limit: number): Promise<AuditEntry[]> {
  return (await db.all(`SELECT ${COLUMNS} FROM audit_log WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?`, [deviceId, after, limit])).map(toEntry);
}

/** The whole log newest first, paged by `before` (seq), optionally for one device. */
export async function listAudit(db: Queryable, options: { before: number | null; limit: number; deviceId?: string }): Promise<AuditEntry[]> {
  const before = options.before ?? Number.MAX_SAFE_INTEGER;
  const rows =
    options.deviceId === undefined
      ? await db.all(`SELECT ${COLUMNS} FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?`, [before, options.limit])
      : await db.all(`SELECT ${COLUMNS} FROM audit_log WHERE device_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, [options.deviceId, before, options.limit]);
  return rows.map(toEntry);
}

/** The outcome of checking the chain: how many entries, and the first one that does not link or hash. */
export type AuditChainCheck = { readonly ok: true; readonly entries: number } | { readonly ok: false; readonly entries: number; readonly brokenAt: number; readonly problem: string };

/** Walk the whole chain in seq order (in pages, so memory stays bounded) and check every link and hash. */
export async function verifyAuditChain(db: Queryable, pageSize = 5000): Promise<AuditChainCheck> {
  let previousHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (;;) {
    const rows = await db.all(`SELECT ${COLUMNS} FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, [expectedSeq, pageSize]);
    for (const row of rows) {
      const { hash, ...fields } = toEntry(row);
      const fail = (problem: string): AuditChainCheck => ({ ok: false, entries: expectedSeq - 1, brokenAt: fields.seq, problem });
      if (fields.seq !== expectedSeq) return fail(`entry ${expectedSeq} is missing`);
      if (fields.prevHash !== previousHash) return fail(`entry ${fields.seq} does not link to entry ${fields.seq - 1}`);
      if (hashAuditEntry(fields) !== hash) return fail(`entry ${fields.seq} does not match its hash`);
      previousHash = hash;
      expectedSeq += 1;
    }
    if (rows.length < pageSize) return { ok: true, entries: expectedSeq - 1 };
  }
}
