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

/** Insert many reports: one unnest INSERT on PostgreSQL, the prepared single-row INSERT reused on SQLite. */
export async function insertReports(db: Queryable, reports: readonly ReportRow[]): Promise<void> {
  if (reports.length === 0) return;
  if (db.dialect === 'sqlite') {
    for (const report of reports) await insertReport(db, report);
    return;
  }
  await db.run(
    `INSERT INTO reports (${COLUMNS})
     SELECT * FROM unnest(?::text[], ?::int8[], ?::text[], ?::text[], ?::text[], ?::int8[], ?::text[], ?::text[], ?::int8[])`,
    [
      reports.map((report) => report.deviceId),
      reports.map((report) => report.seq),
      reports.map((report) => report.hash),
      reports.map((report) => report.prevHash),
      reports.map((report) => report.kind),
      reports.map((report) => report.createdAt),
      reports.map((report) => report.body),
      reports.map((report) => report.sig),
      reports.map((report) => report.receivedAt),
    ],
  );
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

/** Hash and prevHash of whichever of (deviceId, seq) are stored: one query on PostgreSQL, primary-key lookups on SQLite. */
export async function findLinks(
  db: Queryable,
  keys: readonly { deviceId: string; seq: number }[],
): Promise<{ deviceId: string; seq: number; hash: string; prevHash: string }[]> {
  if (keys.length === 0) return [];
  if (db.dialect === 'sqlite') {
    const found: { deviceId: string; seq: number; hash: string; prevHash: string }[] = [];
    for (const { deviceId, seq } of keys) {
      const link = await findLink(db, deviceId, seq);
      if (link) found.push({ deviceId, seq, ...link });
    }
    return found;
  }
  const rows = await db.all(
    `SELECT r.device_id, r.seq, r.hash, r.prev_hash FROM reports r
     JOIN unnest(?::text[], ?::int8[]) AS k(device_id, seq) ON r.device_id = k.device_id AND r.seq = k.seq`,
    [keys.map((key) => key.deviceId), keys.map((key) => key.seq)],
  );
  return rows.map((row) => ({ deviceId: text(row, 'device_id'), seq: integer(row, 'seq'), hash: text(row, 'hash'), prevHash: text(row, 'prev_hash') }));
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
