/**
 * The `findings` table: what detectors concluded, deduplicated across scans.
 *
 * A finding is keyed by `key`; while its condition holds it stays open (closed_at NULL) and each scan
 * that sees it again moves `last_seen_at`. The partial unique index `findings_open_key` guarantees at
 * most one open row per key. When the condition ends the row is closed; if it recurs later a new row
 * is opened, so history shows each episode.
 *
 * Migration numbers are reserved, so the detector source is encoded as the key prefix
 * (`tool:`, `usb:`, `edid:`, `display:`, ...): `reconcile(source, ...)` owns exactly the keys that start
 * with `${source}:`.
 */
import { SEVERITY_RANK, type Evidence, type Finding, type FindingKind, type FindingObservation, type Severity } from '../../common/findings';
import type { AgentEvents } from '../events';
import type { Db } from './database';

interface FindingRow {
  id: number;
  key: string;
  kind: string;
  severity: string;
  title: string;
  explanation: string;
  evidence: string;
  first_seen_at: number;
  last_seen_at: number;
  closed_at: number | null;
}

/** Row mapper: SQLite row to the shared Finding type. */
export function findingFromRow(row: FindingRow): Finding {
  return {
    id: row.id,
    key: row.key,
    kind: row.kind as FindingKind,
    severity: row.severity as Severity,
    title: row.title,
    explanation: row.explanation,
    evidence: JSON.parse(row.evidence) as Evidence,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    closedAt: row.closed_at,
  };
}

/** What one reconcile changed; the same shape as the `findingsChanged` event payload. */
export interface ReconcileResult {
  readonly opened: readonly Finding[];
  readonly closed: readonly Finding[];
  readonly updated: readonly Finding[];
}

/** Whether a reconcile changed anything worth telling listeners about. */
export function isEmptyChange(result: ReconcileResult): boolean {
  return result.opened.length === 0 && result.closed.length === 0 && result.updated.length === 0;
}

/**
 * Apply one detector's observations: open new findings, refresh seen ones, close vanished ones.
 *
 * Every observation key must start with `${source}:` (a bug otherwise: it would escape the source's
 * ownership and never be closed). All writes happen in one transaction, and none is opened when
 * there is nothing to observe and nothing of the source open. `updated` lists findings
 * whose severity, title, explanation or evidence changed (a bare last-seen bump is not reported,
 * so listeners are not woken on every quiet scan). Emits `findingsChanged` after commit when
 * `events` is given and something changed.
 */
export function reconcileFindings(
  db: Db,
  source: string,
  observations: readonly FindingObservation[],
  now: number,
  events?: AgentEvents,
): ReconcileResult {
  if (!/^[a-z][a-z0-9-]*$/.test(source)) throw new Error(`Invalid finding source "${source}"`);
  const prefix = `${source}:`;
  const byKey = new Map<string, FindingObservation>();
  for (const observation of observations) {
    if (!observation.key.startsWith(prefix)) {
      throw new Error(`Finding key "${observation.key}" does not start with its source prefix "${prefix}"`);
    }
    byKey.set(observation.key, observation);
  }
  // Range over the prefix so the open-key index is usable; ';' is the character after ':'.
  const upper = `${source};`;
  // Nothing seen and nothing open: no write transaction (detectors reconcile every few seconds,
  // and on a quiet machine almost always with nothing to do).
  if (observations.length === 0 && db.prepare('SELECT 1 FROM findings WHERE closed_at IS NULL AND key >= ? AND key < ? LIMIT 1').get(prefix, upper) === undefined) {
    return { opened: [], closed: [], updated: [] };
  }
  const selectOpen = db.prepare(
    "SELECT * FROM findings WHERE closed_at IS NULL AND key >= ? AND key < ? ORDER BY id",
  );
  const insert = db.prepare(
    `INSERT INTO findings (key, kind, severity, title, explanation, evidence, first_seen_at, last_seen_at, closed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) RETURNING *`,
  );
  const touch = db.prepare(
    `UPDATE findings SET kind = ?, severity = ?, title = ?, explanation = ?, evidence = ?, last_seen_at = ?
     WHERE id = ? RETURNING *`,
  );
  const close = db.prepare('UPDATE findings SET closed_at = ? WHERE id = ? RETURNING *');

  const result = db
    .transaction((): ReconcileResult => {
      const opened: Finding[] = [];
      const closed: Finding[] = [];
      const updated: Finding[] = [];
      const open = selectOpen.all(prefix, upper) as FindingRow[];
      const seen = new Set<string>();
      for (const row of open) {
        const observation = byKey.get(row.key);
        if (observation === undefined) {
          closed.push(findingFromRow(close.get(now, row.id) as FindingRow));
          continue;
        }
        seen.add(row.key);
        const evidence = JSON.stringify(observation.evidence);
        const changed =
          row.kind !== observation.kind ||
          row.severity !== observation.severity ||
          row.title !== observation.title ||
          row.explanation !== observation.explanation ||
          row.evidence !== evidence;
        const after = touch.get(
          observation.kind,
          observation.severity,
          observation.title,
          observation.explanation,
          evidence,
          Math.max(now, row.last_seen_at),
          row.id,
        ) as FindingRow;
        if (changed) updated.push(findingFromRow(after));
      }
      for (const observation of byKey.values()) {
        if (seen.has(observation.key)) continue;
        const row = insert.get(
          observation.key,
          observation.kind,
          observation.severity,
          observation.title,
          observation.explanation,
          JSON.stringify(observation.evidence),
          now,
          now,
        ) as FindingRow;
        opened.push(findingFromRow(row));
      }
      return { opened, closed, updated };
    })
    .immediate();
  if (events && !isEmptyChange(result)) events.emit('findingsChanged', result);
  return result;
}

/** Every open finding, most severe first then newest first. */
export function listOpenFindings(db: Db): Finding[] {
  const rows = db.prepare('SELECT * FROM findings WHERE closed_at IS NULL ORDER BY last_seen_at DESC, id DESC').all() as FindingRow[];
  return rows.map(findingFromRow).sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
}

/** Open findings of one source (key prefix `${source}:`). */
export function listOpenFindingsBySource(db: Db, source: string): Finding[] {
  const rows = db
    .prepare('SELECT * FROM findings WHERE closed_at IS NULL AND key >= ? AND key < ? ORDER BY id')
    .all(`${source}:`, `${source};`) as FindingRow[];
  return rows.map(findingFromRow);
}

/**
 * Findings seen at or after `since` (epoch ms), open or closed, oldest first.
 *
 * This is what a report covers: everything whose condition held at some point in the period.
 */
export function listFindingsSince(db: Db, since: number): Finding[] {
  const rows = db
    .prepare('SELECT * FROM findings WHERE last_seen_at >= ? OR closed_at >= ? ORDER BY last_seen_at, id')
    .all(since, since) as FindingRow[];
  return rows.map(findingFromRow);
}

/** The `limit` most recently closed findings, newest first. */
export function listRecentlyClosedFindings(db: Db, limit: number): Finding[] {
  const rows = db
    .prepare('SELECT * FROM findings WHERE closed_at IS NOT NULL ORDER BY closed_at DESC, id DESC LIMIT ?')
    .all(limit) as FindingRow[];
  return rows.map(findingFromRow);
}

/** Every stored finding, open or closed, in id order. */
export function listAllFindings(db: Db): Finding[] {
  return (db.prepare('SELECT * FROM findings ORDER BY id').all() as FindingRow[]).map(findingFromRow);
}

/** One finding by id, or undefined. */
export function getFinding(db: Db, id: number): Finding | undefined {
  const row = db.prepare('SELECT * FROM findings WHERE id = ?').get(id) as FindingRow | undefined;
  return row === undefined ? undefined : findingFromRow(row);
}

/** Delete closed findings last seen before `before` (retention). Returns the number deleted. */
export function deleteClosedFindingsBefore(db: Db, before: number): number {
  return db.prepare('DELETE FROM findings WHERE closed_at IS NOT NULL AND last_seen_at < ?').run(before).changes;
}
