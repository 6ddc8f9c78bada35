/**
 * Which findings changed in a way a SIEM cares about: new, severity changed, or resolved (closed on
 * the device). A finding re-sent unchanged by every report moves its cursor but is not an event.
 * What was last pushed per finding is in `siem_state`; how far the findings were read is the
 * `siem_cursor` counter.
 */
import type { FindingRow } from '../storage/findings';
import { FINDING_COLUMNS, toFinding } from '../storage/findings';
import { integer, text, type Queryable } from '../storage/sql';
import type { OcsfActivity } from '../ocsf';

export const SIEM_CURSOR = 'siem_cursor';

/** One change to push, with what the OCSF event needs. */
export interface FindingChange {
  readonly finding: FindingRow;
  readonly hostname: string;
  readonly activity: OcsfActivity;
}

const FINDING_SELECT = FINDING_COLUMNS.split(', ').map((column) => `f.${column}`).join(', ');

/** Findings changed after the push cursor (up to `limit`), and the events among them; `lastCursor` is where the read ended. */
export async function readChanges(db: Queryable, limit: number): Promise<{ changes: FindingChange[]; lastCursor: number | null }> {
  const cursorRow = await db.get('SELECT value FROM counters WHERE name = ?', [SIEM_CURSOR]);
  const after = cursorRow ? integer(cursorRow, 'value') : 0;
  const rows = await db.all(
    `SELECT ${FINDING_SELECT}, d.hostname, s.severity AS pushed_severity, s.closed AS pushed_closed
     FROM findings f JOIN devices d ON d.id = f.device_id LEFT JOIN siem_state s ON s.finding_id = f.id
     WHERE f.cursor > ? ORDER BY f.cursor LIMIT ?`,
    [after, limit],
  );
  const changes: FindingChange[] = [];
  for (const row of rows) {
    const finding = toFinding(row);
    const pushedSeverity = row.pushed_severity === null || row.pushed_severity === undefined ? null : text(row, 'pushed_severity');
    const pushedClosed = pushedSeverity !== null && integer(row, 'pushed_closed') === 1;
    const closed = finding.closedAt !== null;
    let activity: OcsfActivity | null = null;
    if (pushedSeverity === null) activity = closed ? 'close' : 'create';
    else if (closed && !pushedClosed) activity = 'close';
    else if (!closed && pushedClosed) activity = 'create';
    else if (finding.severity !== pushedSeverity) activity = 'update';
    if (activity !== null) changes.push({ finding, hostname: text(row, 'hostname'), activity });
  }
  return { changes, lastCursor: rows.length === 0 ? null : integer(rows.at(-1)!, 'cursor') };
}

/** Record what was queued and move the push cursor, in one transaction. */
export async function markQueued(tx: Queryable, changes: readonly FindingChange[], lastCursor: number): Promise<void> {
  for (const { finding } of changes) {
    await tx.run(
      `INSERT INTO siem_state (finding_id, severity, closed) VALUES (?, ?, ?)
       ON CONFLICT (finding_id) DO UPDATE SET severity = excluded.severity, closed = excluded.closed`,
      [finding.id, finding.severity, finding.closedAt === null ? 0 : 1],
    );
  }
  await tx.run('UPDATE counters SET value = ? WHERE name = ? AND value < ?', [lastCursor, SIEM_CURSOR, lastCursor]);
}
