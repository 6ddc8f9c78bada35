/** The `reports` table: each device's signed reports, body stored as the exact canonical JSON signed. */
import { integer, text, type Queryable, type Row } from './sql';

export interface ReportRow {
  readonly deviceId: string;
  readonly seq: number;
  readonly hash: string;
  readonly prevHash: string;
  readonly kind: string;
  /** Agent clock (epoch ms), as the body says. */
  readonly createdAt: number;
  /** Canonical JSON, byte for byte what was signed. */
  readonly body: string;
  readonly sig: string;
  /** Collector clock (epoch ms). */
  readonly receivedAt: number;
}

/** Summary columns for listings (no body). */
export type ReportSummaryRow = Omit<ReportRow, 'body' | 'sig'> & { readonly bytes: number };

const COLUMNS = 'device_id, seq, hash, prev_hash, kind, created_at, body, sig, received_at';

function toReport(row: Row): ReportRow {
  return {
    deviceId: text(row, 'device_id'),
    seq: integer(row, 'seq'),
    hash: text(row, 'hash'),
    prevHash: text(row, 'prev_hash'),
    kind: text(row, 'kind'),
    createdAt: integer(row, 'created_at'),
    body: text(row, 'body'),
    sig: text(row, 'sig'),
    receivedAt: integer(row, 'received_at'),
  };
}

function toSummary(row: Row): ReportSummaryRow {
  return {
    deviceId: text(row, 'device_id'),
    seq: integer(row, 'seq'),
    hash: text(row, 'hash'),
    prevHash: text(row, 'prev_hash'),
    kind: text(row, 'kind'),
    createdAt: integer(row, 'created_at'),
    receivedAt: integer(row, 'received_at'),
    bytes: integer(row, 'bytes'),
  };
}

export async function insertReport(db: Queryable, report: ReportRow): Promise<void> {
  await db.run(`INSERT INTO reports (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    report.deviceId,
    report.seq,
    report.hash,
    report.prevHash,
    report.kind,
    report.createdAt,
    report.body,
    report.sig,
    report.receivedAt,
  ]);
}

export async function findReport(db: Queryable, deviceId: string, seq: number): Promise<ReportRow | undefined> {
  const row = await db.get(`SELECT ${COLUMNS} FROM reports WHERE device_id = ? AND seq = ?`, [deviceId, seq]);
  return row && toReport(row);
}

/** Hash and prevHash at one seq, for chain decisions (primary key lookup). */
export async function findLink(db: Queryable, deviceId: string, seq: number): Promise<{ hash: string; prevHash: string } | undefined> {
  const row = await db.get('SELECT hash, prev_hash FROM reports WHERE device_id = ? AND seq = ?', [deviceId, seq]);
  return row && { hash: text(row, 'hash'), prevHash: text(row, 'prev_hash') };
}

/** Newest first, `limit` rows with seq < `beforeSeq` (all when null). */
export async function listReportSummaries(db: Queryable, deviceId: string, beforeSeq: number | null, limit: number): Promise<ReportSummaryRow[]> {
  const rows = await db.all(
    `SELECT device_id, seq, hash, prev_hash, kind, created_at, received_at, length(body) AS bytes
     FROM reports WHERE device_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    [deviceId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit],
  );
  return rows.map(toSummary);
}

export async function countReports(db: Queryable): Promise<number> {
  const row = await db.get('SELECT count(*) AS n FROM reports');
  return row ? integer(row, 'n') : 0;
}
