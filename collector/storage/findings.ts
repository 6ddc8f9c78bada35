/**
 * The `findings` table: what devices reported, plus the collector's own findings (chain gaps,
 * silent devices). Every insert or change takes a fresh global `cursor`, so consumers page by it.
 */
import type { AnyFindingKind, Severity } from '../../common/findings';
import { integer, integerOrNull, text, type Queryable, type Row } from './sql';

export type FindingSource = 'agent' | 'collector';

export interface FindingRow {
  readonly id: number;
  /** Global change number: larger means changed later. */
  readonly cursor: number;
  readonly deviceId: string;
  readonly source: FindingSource;
  readonly key: string;
  /** Stored only from schema-checked reports and the collector's own findings. */
  readonly kind: AnyFindingKind;
  readonly severity: Severity;
  readonly title: string;
  readonly explanation: string;
  /** JSON object, as received. */
  readonly evidence: string;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly closedAt: number | null;
  /** The report that last changed this finding (null for collector findings). */
  readonly reportSeq: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type NewFinding = Omit<FindingRow, 'id'>;

/** Every column of `findings`, in toFinding's order. */
export const FINDING_COLUMNS =
  'id, cursor, device_id, source, key, kind, severity, title, explanation, evidence, first_seen_at, last_seen_at, closed_at, report_seq, created_at, updated_at';

/** A `findings` row (selected with FINDING_COLUMNS) as a FindingRow. */
export function toFinding(row: Row): FindingRow {
  const source = text(row, 'source');
  if (source !== 'agent' && source !== 'collector') throw new Error(`Unknown finding source ${source}`);
  return {
    id: integer(row, 'id'),
    cursor: integer(row, 'cursor'),
    deviceId: text(row, 'device_id'),
    source,
    key: text(row, 'key'),
    kind: text(row, 'kind') as AnyFindingKind,
    severity: text(row, 'severity') as Severity,
    title: text(row, 'title'),
    explanation: text(row, 'explanation'),
    evidence: text(row, 'evidence'),
    firstSeenAt: integer(row, 'first_seen_at'),
    lastSeenAt: integer(row, 'last_seen_at'),
    closedAt: integerOrNull(row, 'closed_at'),
    reportSeq: integerOrNull(row, 'report_seq'),
    createdAt: integer(row, 'created_at'),
    updatedAt: integer(row, 'updated_at'),
  };
}

function values(finding: NewFinding): (string | number | null)[] {
  return [
    finding.cursor,
    finding.deviceId,
    finding.source,
    finding.key,
    finding.kind,
    finding.severity,
    finding.title,
    finding.explanation,
    finding.evidence,
    finding.firstSeenAt,
    finding.lastSeenAt,
    finding.closedAt,
    finding.reportSeq,
    finding.createdAt,
    finding.updatedAt,
  ];
}

const INSERT = `INSERT INTO findings (cursor, device_id, source, key, kind, severity, title, explanation, evidence,
  first_seen_at, last_seen_at, closed_at, report_seq, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const UPSERT_TAIL = `ON CONFLICT (device_id, key, first_seen_at) DO UPDATE SET
       cursor = excluded.cursor, kind = excluded.kind, severity = excluded.severity, title = excluded.title,
       explanation = excluded.explanation, evidence = excluded.evidence, last_seen_at = excluded.last_seen_at,
       closed_at = excluded.closed_at, report_seq = excluded.report_seq, updated_at = excluded.updated_at
     WHERE findings.report_seq IS NULL OR findings.report_seq < excluded.report_seq`;

/**
 * Insert an agent finding, or update the stored one with the same (device, key, firstSeenAt).
 * A report older than the one that last changed the finding (a late gap fill) does not roll it back.
 */
export async function upsertAgentFinding(db: Queryable, finding: NewFinding): Promise<void> {
  await db.run(
    `${INSERT}
     ${UPSERT_TAIL}`,
    values(finding),
  );
}

/**
 * upsertAgentFinding for many findings, each identity (device, key, firstSeenAt) at most once (a
 * PostgreSQL ON CONFLICT cannot touch one row twice in a statement): one unnest INSERT on
 * PostgreSQL, the prepared single-row upsert on SQLite.
 */
export async function upsertAgentFindings(db: Queryable, findings: readonly NewFinding[]): Promise<void> {
  if (findings.length === 0) return;
  if (db.dialect === 'sqlite') {
    for (const finding of findings) await upsertAgentFinding(db, finding);
    return;
  }
  const columns = findings.map(values);
  const column = (index: number) => columns.map((row) => row[index] ?? null);
  await db.run(
    `INSERT INTO findings (cursor, device_id, source, key, kind, severity, title, explanation, evidence,
       first_seen_at, last_seen_at, closed_at, report_seq, created_at, updated_at)
     SELECT * FROM unnest(?::int8[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
       ?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::int8[])
     ${UPSERT_TAIL}`,
    Array.from({ length: 15 }, (_, index) => column(index)),
  );
}

/** Insert a collector finding unless one with the same identity exists; returns whether it was new. */
export async function insertFindingOnce(db: Queryable, finding: NewFinding): Promise<boolean> {
  return (await db.run(`${INSERT} ON CONFLICT (device_id, key, first_seen_at) DO NOTHING`, values(finding))) > 0;
}

/** Open findings of `kind` for a device (index findings_kind_open). */
export async function listOpenFindingsOfKind(db: Queryable, deviceId: string, kind: string): Promise<FindingRow[]> {
  return (
    await db.all(`SELECT ${FINDING_COLUMNS} FROM findings WHERE kind = ? AND device_id = ? AND closed_at IS NULL ORDER BY id`, [kind, deviceId])
  ).map(toFinding);
}

/** Which of `deviceIds` have an open finding of `kind` (index findings_kind_open). */
export async function devicesWithOpenKindAmong(db: Queryable, kind: string, deviceIds: readonly string[]): Promise<Set<string>> {
  if (deviceIds.length === 0) return new Set();
  if (db.dialect === 'sqlite') {
    const found = new Set<string>();
    for (const deviceId of deviceIds) {
      const row = await db.get('SELECT 1 AS open FROM findings WHERE kind = ? AND device_id = ? AND closed_at IS NULL LIMIT 1', [kind, deviceId]);
      if (row) found.add(deviceId);
    }
    return found;
  }
  const rows = await db.all('SELECT DISTINCT device_id FROM findings WHERE kind = ? AND device_id = ANY(?::text[]) AND closed_at IS NULL', [kind, deviceIds]);
  return new Set(rows.map((row) => text(row, 'device_id')));
}

/** Devices with an open finding of `kind`. */
export async function listDevicesWithOpenKind(db: Queryable, kind: string): Promise<Set<string>> {
  const rows = await db.all('SELECT DISTINCT device_id FROM findings WHERE kind = ? AND closed_at IS NULL', [kind]);
  return new Set(rows.map((row) => text(row, 'device_id')));
}

/** Close one finding by id, giving it a fresh cursor. */
export async function closeFinding(db: Queryable, id: number, cursor: number, now: number): Promise<void> {
  await db.run('UPDATE findings SET closed_at = ?, last_seen_at = ?, cursor = ?, updated_at = ? WHERE id = ?', [now, now, cursor, now, id]);
}

/** Findings changed after `cursor`, in cursor order, optionally for one device. */
export async function listFindingsAfter(db: Queryable, cursor: number, limit: number): Promise<FindingRow[]> {
  return (await db.all(`SELECT ${FINDING_COLUMNS} FROM findings WHERE cursor > ? ORDER BY cursor LIMIT ?`, [cursor, limit])).map(toFinding);
}

/** One device's findings, newest change first. */
export async function listDeviceFindings(db: Queryable, deviceId: string, limit: number): Promise<FindingRow[]> {
  return (await db.all(`SELECT ${FINDING_COLUMNS} FROM findings WHERE device_id = ? ORDER BY cursor DESC LIMIT ?`, [deviceId, limit])).map(toFinding);
}

/** How many findings of one device, severity and kind are open. */
export interface OpenFindingCount {
  readonly deviceId: string;
  readonly severity: Severity;
  readonly kind: AnyFindingKind;
  readonly count: number;
}

/** Open findings counted per device, severity and kind (for risk levels). */
export async function countOpenBySeverity(db: Queryable): Promise<OpenFindingCount[]> {
  const rows = await db.all(
    'SELECT device_id, severity, kind, count(*) AS n FROM findings WHERE closed_at IS NULL GROUP BY device_id, severity, kind',
  );
  return rows.map((row) => ({
    deviceId: text(row, 'device_id'),
    severity: text(row, 'severity') as Severity,
    kind: text(row, 'kind') as AnyFindingKind,
    count: integer(row, 'n'),
  }));
}
