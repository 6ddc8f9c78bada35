/**
 * Opening the agent's SQLite database.
 *
 * WAL mode with synchronous=NORMAL: a kill -9 loses at most the last transaction, never corrupts.
 * The schema version lives in `PRAGMA user_version`; all pending migrations run in one transaction,
 * and a database written by newer code is refused rather than guessed at.
 *
 * Opening checks what a running agent could otherwise only find out one failed write at a time:
 * every page is readable (`quick_check`, so garbage in the middle of the file is refused like a bad
 * header), the disk has room, and a write transaction commits. The file is created 0600 (see
 * data-folder.ts).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { TelltaleError } from '../../common/result';
import { prepareDataFolder, preparePrivateFile } from './data-folder';
import type { Migration } from './migration';
import { storageFaultOf } from './storage-health';
import { MIGRATIONS } from './migrations/index';

export type Db = Database.Database;

export interface OpenOptions {
  /** Defaults to every known migration; tests pass a prefix to build old versions. */
  readonly migrations?: readonly Migration[];
  readonly readonly?: boolean;
}

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Below this much free space on the database's disk, opening for writing is refused: the first
 * report, WAL append or checkpoint would fail, and a clear exit beats starting degraded.
 */
export const MIN_FREE_BYTES = 256 * 1024;

/**
 * Open (creating if needed) and migrate the database at `file`.
 * Throws TelltaleError with DATABASE_CORRUPT, DATABASE_TOO_NEW or DATABASE_UNWRITABLE.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS;
  if (!options.readonly) {
    prepareDataFolder(path.dirname(file));
    // Before SQLite opens the file: on a full disk its first failure is a bare "disk I/O error".
    refuseFullDisk(file);
    preparePrivateFile(file);
  }
  let db: Db;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (error) {
    throw classify(error, file);
  }
  try {
    db.pragma('busy_timeout = 5000');
    // Read the header and schema before any write: "file is not a database" and a too-new schema
    // must be refused while the file is still byte-for-byte what we found (journal_mode=WAL
    // rewrites the header, so it comes after these checks).
    const current = db.pragma('user_version', { simple: true }) as number;
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    refuseNewer(current, migrations.length, file);
    checkPages(db, file);
    if (!options.readonly) {
      // auto_vacuum can only be chosen before the first table exists: a brand-new file gets
      // INCREMENTAL so retention (retention.ts) can give deleted pages back to the file system.
      if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, current, file, options.readonly ?? false);
    if (!options.readonly) checkWritable(db);
    return db;
  } catch (error) {
    db.close();
    throw classify(error, file);
  }
}

function migrate(db: Db, migrations: readonly Migration[], current: number, file: string, readonly: boolean): void {
  migrations.forEach((step, index) => {
    if (step.version !== index + 1) throw new Error(`Migration ${step.name} has version ${step.version}, expected ${index + 1}`);
  });
  const target = migrations.length;
  refuseNewer(current, target, file);
  if (current === target || readonly) return;
  const pending = migrations.slice(current);
  db.transaction(() => {
    for (const step of pending) step.up(db);
    db.pragma(`user_version = ${target}`);
  }).immediate();
}

function refuseNewer(current: number, target: number, file: string): void {
  if (current > target) {
    throw new TelltaleError(
      'DATABASE_TOO_NEW',
      `${file} has schema version ${current}, newer than this Telltale understands (${target}). Update Telltale; the file was left untouched.`,
    );
  }
}

/** Refuse a file with unreadable pages anywhere, before anything writes to it. */
function checkPages(db: Db, file: string): void {
  const problems = (db.pragma('quick_check(3)') as { quick_check: string }[]).map((row) => row.quick_check).filter((row) => row !== 'ok');
  if (problems.length > 0) {
    throw new TelltaleError(
      'DATABASE_CORRUPT',
      `${file} is not a readable Telltale database (${problems.join('; ')}). Move it aside to start fresh; Telltale will not overwrite it.`,
    );
  }
}

function refuseFullDisk(file: string): void {
  const free = freeBytes(path.dirname(file));
  if (free !== null && free < MIN_FREE_BYTES) {
    throw new TelltaleError('DATABASE_UNWRITABLE', `The disk holding ${file} is full (${free} bytes free). Free some space and start again.`);
  }
}

/** Refuse a database that will not take a commit (read-only mount or file, a disk that filled up meanwhile). */
function checkWritable(db: Db): void {
  // Rewriting the schema version with its own value is a real commit that changes nothing.
  const version = db.pragma('user_version', { simple: true }) as number;
  db.pragma(`user_version = ${version}`);
}

function freeBytes(dir: string): number | null {
  try {
    const stats = fs.statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    // No statfs here (an exotic file system): the commit probe still catches a disk that is full.
    return null;
  }
}

function classify(error: unknown, file: string): Error {
  if (error instanceof TelltaleError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = messageOf(error);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || /not a database|malformed/i.test(message)) {
    return new TelltaleError(
      'DATABASE_CORRUPT',
      `${file} is not a readable Telltale database (${message}). Move it aside to start fresh; Telltale will not overwrite it.`,
    );
  }
  const fault = storageFaultOf(error);
  if (fault === 'full') {
    return new TelltaleError('DATABASE_UNWRITABLE', `The disk holding ${file} is full (${message}). Free some space and start again.`);
  }
  if (fault !== null || /EACCES|readonly|unable to open/i.test(message)) {
    return new TelltaleError('DATABASE_UNWRITABLE', `Cannot open ${file} for writing (${message}).`);
  }
  return error instanceof Error ? error : new Error(message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
