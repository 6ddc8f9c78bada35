/**
 * IT's triage state beside the findings: per-finding state (acknowledged, assigned, resolved),
 * notes, device tags, kind suppressions for a device or a tag, and retiring a device. Findings
 * themselves are only ever changed by reports and the collector's sweeps.
 */
import { integer, integerOrNull, text, textOrNull, type Queryable, type Row } from './sql';

/** The finding's device, or undefined when there is no such finding. */
export async function findingDevice(db: Queryable, findingId: number): Promise<{ deviceId: string; kind: string; severity: string } | undefined> {
  const row = await db.get('SELECT device_id, kind, severity FROM findings WHERE id = ?', [findingId]);
  return row && { deviceId: text(row, 'device_id'), kind: text(row, 'kind'), severity: text(row, 'severity') };
}

/** Set a finding's triage fields (null leaves assignee or reason as stored). */
export async function setTriage(
  db: Queryable,
  change: { findingId: number; deviceId: string; status: 'acknowledged' | 'resolved' | null; assignee: string | null; reason: string | null; actor: string; now: number },
): Promise<void> {
  await db.run(
    `INSERT INTO finding_triage (finding_id, device_id, status, assignee, reason, updated_at, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (finding_id) DO UPDATE SET
       status = CASE WHEN CAST(? AS TEXT) IS NULL THEN finding_triage.status ELSE excluded.status END,
       assignee = coalesce(excluded.assignee, finding_triage.assignee),
       reason = coalesce(excluded.reason, finding_triage.reason),
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    [change.findingId, change.deviceId, change.status ?? 'acknowledged', change.assignee, change.reason, change.now, change.actor, change.status],
  );
}

/** Back to new: forget the finding's triage state. Returns whether there was one. */
export async function clearTriage(db: Queryable, findingId: number): Promise<boolean> {
  return (await db.run('DELETE FROM finding_triage WHERE finding_id = ?', [findingId])) > 0;
}

export interface NoteRow {
  readonly id: number;
  readonly deviceId: string;
  readonly findingId: number | null;
  readonly at: number;
  readonly author: string;
  readonly text: string;
}

function toNote(row: Row): NoteRow {
  return { id: integer(row, 'id'), deviceId: text(row, 'device_id'), findingId: integerOrNull(row, 'finding_id'), at: integer(row, 'at'), author: text(row, 'author'), text: text(row, 'text') };
}

export async function addNote(db: Queryable, note: Omit<NoteRow, 'id'>): Promise<NoteRow> {
  const row = await db.get('INSERT INTO notes (device_id, finding_id, at, author, text) VALUES (?, ?, ?, ?, ?) RETURNING id, device_id, finding_id, at, author, text', [
    note.deviceId,
    note.findingId,
    note.at,
    note.author,
    note.text,
  ]);
  if (!row) throw new Error('The note was not stored');
  return toNote(row);
}

/** A device's notes, newest first. */
export async function listNotes(db: Queryable, deviceId: string, limit: number): Promise<NoteRow[]> {
  return (await db.all('SELECT id, device_id, finding_id, at, author, text FROM notes WHERE device_id = ? ORDER BY id DESC LIMIT ?', [deviceId, limit])).map(toNote);
}

/** Returns whether the tag was new. */
export async function addTag(db: Queryable, deviceId: string, tag: string, now: number): Promise<boolean> {
  return (await db.run('INSERT INTO device_tags (device_id, tag, added_at) VALUES (?, ?, ?) ON CONFLICT (device_id, tag) DO NOTHING', [deviceId, tag, now])) > 0;
}

/** Returns whether the device had the tag. */
export async function removeTag(db: Queryable, deviceId: string, tag: string): Promise<boolean> {
  return (await db.run('DELETE FROM device_tags WHERE device_id = ? AND tag = ?', [deviceId, tag])) > 0;
}

export interface SuppressionRow {
  readonly id: number;
  readonly kind: string;
  readonly deviceId: string | null;
  readonly tag: string | null;
  readonly untilAt: number;
  readonly reason: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly liftedAt: number | null;
}

const SUPPRESSION_COLUMNS = 'id, kind, device_id, tag, until_at, reason, created_at, created_by, lifted_at';

function toSuppression(row: Row): SuppressionRow {
  return {
    id: integer(row, 'id'),
    kind: text(row, 'kind'),
    deviceId: textOrNull(row, 'device_id'),
    tag: textOrNull(row, 'tag'),
    untilAt: integer(row, 'until_at'),
    reason: text(row, 'reason'),
    createdAt: integer(row, 'created_at'),
    createdBy: text(row, 'created_by'),
    liftedAt: integerOrNull(row, 'lifted_at'),
  };
}

export async function addSuppression(db: Queryable, suppression: Omit<SuppressionRow, 'id' | 'liftedAt'>): Promise<SuppressionRow> {
  const row = await db.get(
    `INSERT INTO suppressions (kind, device_id, tag, until_at, reason, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${SUPPRESSION_COLUMNS}`,
    [suppression.kind, suppression.deviceId, suppression.tag, suppression.untilAt, suppression.reason, suppression.createdAt, suppression.createdBy],
  );
  if (!row) throw new Error('The suppression was not stored');
  return toSuppression(row);
}

export async function findSuppression(db: Queryable, id: number): Promise<SuppressionRow | undefined> {
  const row = await db.get(`SELECT ${SUPPRESSION_COLUMNS} FROM suppressions WHERE id = ?`, [id]);
  return row && toSuppression(row);
}

/** End a suppression early; returns whether it was still in force. */
export async function liftSuppression(db: Queryable, id: number, now: number): Promise<boolean> {
  return (await db.run('UPDATE suppressions SET lifted_at = ? WHERE id = ? AND lifted_at IS NULL AND until_at > ?', [now, id, now])) > 0;
}

/** Suppressions in force at `now`, optionally only those naming a device or one of its tags. */
export async function listActiveSuppressions(db: Queryable, now: number, deviceId?: string): Promise<SuppressionRow[]> {
  const rows =
    deviceId === undefined
      ? await db.all(`SELECT ${SUPPRESSION_COLUMNS} FROM suppressions WHERE lifted_at IS NULL AND until_at > ? ORDER BY id`, [now])
      : await db.all(
          `SELECT ${SUPPRESSION_COLUMNS} FROM suppressions WHERE lifted_at IS NULL AND until_at > ?
             AND (device_id = ? OR tag IN (SELECT tag FROM device_tags WHERE device_id = ?)) ORDER BY id`,
          [now, deviceId, deviceId],
        );
  return rows.map(toSuppression);
}

/** Mark a device retired (kept, out of lists and the incident queue); returns whether it was active. */
export async function retireDevice(db: Queryable, deviceId: string, now: number): Promise<boolean> {
  return (await db.run('UPDATE devices SET retired_at = ? WHERE id = ? AND retired_at IS NULL', [now, deviceId])) > 0;
}

/** Delete a device's triage rows (before the device itself is deleted). */
export async function deleteDeviceTriage(db: Queryable, deviceId: string): Promise<void> {
  await db.run('DELETE FROM finding_triage WHERE device_id = ?', [deviceId]);
  await db.run('DELETE FROM notes WHERE device_id = ?', [deviceId]);
  await db.run('DELETE FROM device_tags WHERE device_id = ?', [deviceId]);
  await db.run('DELETE FROM suppressions WHERE device_id = ?', [deviceId]);
}
