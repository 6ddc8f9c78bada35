/**
 * Opening the agent's SQLite database.
 *
 * WAL mode with synchronous=NORMAL: a kill -9 loses at most the last transaction, never corrupts.
 * The schema version lives in `PRAGMA user_version`; all pending migrations run in one transaction,
 * and a database written by newer code is refused rather than guessed at.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { TelltaleError } from '../../common/result';
import type { Migration } from './migration';
import { MIGRATIONS } from './migrations/index';
import { makeDirectory } from './make-directory';

export type Db = Database.Database;

export interface OpenOptions {
  /** Defaults to every known migration; tests pass a prefix to build old versions. */
  readonly migrations?: readonly Migration[];
  readonly readonly?: boolean;
}

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Open (creating if needed) and migrate the database at `file`.
 * Throws TelltaleError with DATABASE_CORRUPT, DATABASE_TOO_NEW or DATABASE_UNWRITABLE.
 */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const migrations = options.migrations ?? MIGRATIONS;
  if (!options.readonly) {
    try {
      makeDirectory(path.dirname(file), 0o700);
    } catch (error) {
      throw new TelltaleError('DATABASE_UNWRITABLE', `Cannot create the data folder for ${file}: ${messageOf(error)}`);
    }
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
    if (!options.readonly) {
      // auto_vacuum can only be chosen before the first table exists: a brand-new file gets
      // INCREMENTAL so retention (retention.ts) can give deleted pages back to the file system.
      if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    migrate(db, migrations, current, file, options.readonly ?? false);
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
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || /EACCES|readonly|unable to open/i.test(message)) {
    return new TelltaleError('DATABASE_UNWRITABLE', `Cannot open ${file} for writing (${message}).`);
  }
  return error instanceof Error ? error : new Error(message);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
