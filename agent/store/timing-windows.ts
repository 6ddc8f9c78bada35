/**
 * The `timing_windows` table: one row per flushed aggregation window.
 *
 * `started_at`/`ended_at` are wall-clock epoch ms (indexed for retention and listing); `features`
 * is the JSON of the rest of the TimingWindow (hook clock bounds, key and mouse features). Rows are
 * privacy-safe by construction: a TimingWindow has no field that can hold key identity or a
 * coordinate.
 */
import type { TimingWindow } from '../../common/timing';
import type { Db } from './database';

/** A stored window with its row id. */
export interface StoredTimingWindow {
  readonly id: number;
  readonly window: TimingWindow;
}

interface TimingWindowRow {
  readonly id: number;
  readonly started_at: number;
  readonly ended_at: number;
  readonly features: string;
}

type StoredFeatures = Omit<TimingWindow, 'startedAt' | 'endedAt'>;

function toRow(window: TimingWindow): Omit<TimingWindowRow, 'id'> {
  const { startedAt: _startedAt, endedAt: _endedAt, ...features } = window;
  return { started_at: window.startedAt, ended_at: window.endedAt, features: JSON.stringify(features) };
}

function fromRow(row: TimingWindowRow): StoredTimingWindow {
  const features = JSON.parse(row.features) as StoredFeatures;
  return { id: row.id, window: { startedAt: row.started_at, endedAt: row.ended_at, ...features } };
}

/** Insert windows in one transaction; returns their row ids in order. */
export function insertTimingWindows(db: Db, windows: readonly TimingWindow[]): number[] {
  const insert = db.prepare('INSERT INTO timing_windows (started_at, ended_at, features) VALUES (@started_at, @ended_at, @features)');
  return db.transaction(() => windows.map((window) => Number(insert.run(toRow(window)).lastInsertRowid)))();
}

export interface ListTimingWindowsOptions {
  /** Only rows with id greater than this. */
  readonly afterId?: number;
  /** Only windows that ended at or after this epoch ms. */
  readonly since?: number;
  /** At most this many rows (default 1000). */
  readonly limit?: number;
}

/** Windows in id order (oldest first), filtered by id and/or end time. */
export function listTimingWindows(db: Db, options: ListTimingWindowsOptions = {}): StoredTimingWindow[] {
  const rows = db
    .prepare('SELECT id, started_at, ended_at, features FROM timing_windows WHERE id > ? AND ended_at >= ? ORDER BY id LIMIT ?')
    .all(options.afterId ?? 0, options.since ?? Number.MIN_SAFE_INTEGER, options.limit ?? 1000) as TimingWindowRow[];
  return rows.map(fromRow);
}

/** The newest `limit` windows, oldest first. */
export function listLatestTimingWindows(db: Db, limit: number): StoredTimingWindow[] {
  const rows = db
    .prepare('SELECT * FROM (SELECT id, started_at, ended_at, features FROM timing_windows ORDER BY id DESC LIMIT ?) ORDER BY id')
    .all(limit) as TimingWindowRow[];
  return rows.map(fromRow);
}

export function countTimingWindows(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM timing_windows').get() as { n: number }).n;
}

/** Delete windows that ended before `cutoff` (epoch ms); returns how many. */
export function deleteTimingWindowsEndedBefore(db: Db, cutoff: number): number {
  return db.prepare('DELETE FROM timing_windows WHERE ended_at < ?').run(cutoff).changes;
}

/** Delete the `count` oldest windows (by end time); returns how many. */
export function deleteOldestTimingWindows(db: Db, count: number): number {
  return db
    .prepare('DELETE FROM timing_windows WHERE id IN (SELECT id FROM timing_windows ORDER BY ended_at, id LIMIT ?)')
    .run(count).changes;
}
