/**
 * The data folder's permissions and its single-instance lock.
 *
 * ## Modes
 * The folder is 0700 and every file in it 0600, whatever the umask: the database holds the
 * device's findings and timing, and the key file its identity. SQLite creates a database with
 * 0644 (less the umask) and gives its -wal and -shm files the database file's mode, so the file is
 * created here first with 0600 and SQLite's side files follow it. A folder or file left wider by
 * an older version (or made by hand) is tightened when this user owns it; a folder with the sticky
 * bit (a shared /tmp-like folder someone pointed --data-dir at) is never changed.
 *
 * ## One agent per data folder
 * Two agents on one database would interleave two report chains and double every finding. The lock
 * is SQLite's own: a small database, `telltale.lock`, held in `locking_mode=EXCLUSIVE` for the
 * agent's lifetime. That is an OS file lock (fcntl on Unix, LockFileEx on Windows), so the kernel
 * drops it when the process dies however it dies (kill -9, power loss): there is no stale lock to
 * detect and no pid to trust after reuse, which a pid file would need. It also conflicts between
 * two connections of one process (SQLite tracks its locks per file, not per connection), so two
 * Agents in one test process exclude each other the same way.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { TelltaleError } from '../../common/result';
import { makeDirectory } from './make-directory';
import { storageFaultOf } from './storage-health';

/** The lock file's name inside the data folder. */
export const LOCK_FILE_NAME = 'telltale.lock';

const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;
const STICKY = 0o1000;

/** Create the data folder (0700) or tighten it to 0700 if this user owns it. */
export function prepareDataFolder(dir: string): void {
  try {
    makeDirectory(dir, FOLDER_MODE);
    const stat = fs.statSync(dir);
    if (!stat.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    if (ownedByMe(stat) && (stat.mode & STICKY) === 0 && (stat.mode & 0o077) !== 0) fs.chmodSync(dir, stat.mode & 0o700);
  } catch (error) {
    throw new TelltaleError('DATABASE_UNWRITABLE', `Cannot create the data folder ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Make sure `file` exists with mode 0600 before SQLite opens it, and tighten side files an older
 * run left wider (SQLite gives new -wal/-shm files the main file's mode, but keeps existing ones).
 */
export function preparePrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY, FILE_MODE));
  } catch (error) {
    // The folder cannot take a new file: SQLite's own open reports it with the right code.
    if (storageFaultOf(error) !== null) return;
    throw error;
  }
  for (const candidate of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) tightenFile(candidate);
}

function tightenFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return;
  }
  if (ownedByMe(stat) && (stat.mode & 0o077) !== 0) fs.chmodSync(file, stat.mode & FILE_MODE);
}

function ownedByMe(stat: fs.Stats): boolean {
  // Windows has no uid (ACLs, not modes): nothing to tighten there.
  return process.getuid !== undefined && stat.uid === process.getuid();
}

/** A held data-folder lock; `release` is idempotent. */
export interface InstanceLock {
  readonly file: string;
  release(): void;
}

/**
 * Take the data folder's lock or throw AGENT_ALREADY_RUNNING (another agent holds it) or
 * DATABASE_UNWRITABLE (the lock file cannot be made: full or read-only disk).
 */
export function acquireInstanceLock(dir: string): InstanceLock {
  const file = path.join(dir, LOCK_FILE_NAME);
  preparePrivateFile(file);
  let db: Database.Database | null = null;
  try {
    // No busy wait: a held lock is an answer, not contention to sit out.
    db = new Database(file, { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // In EXCLUSIVE locking mode the lock a write transaction takes is kept until the connection closes.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (error) {
    db?.close();
    const fault = storageFaultOf(error);
    if (fault === 'locked') {
      throw new TelltaleError(
        'AGENT_ALREADY_RUNNING',
        `Another Telltale agent is already running on ${dir} (it holds ${LOCK_FILE_NAME}). Stop it, or give this one another --data-dir.`,
      );
    }
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new TelltaleError('DATABASE_CORRUPT', `${file} is not a lock file Telltale made. It holds no data: delete it and start again.`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    if (fault === 'full') throw new TelltaleError('DATABASE_UNWRITABLE', `The disk holding ${dir} is full (${reason}). Free some space and start again.`);
    if (fault !== null) throw new TelltaleError('DATABASE_UNWRITABLE', `Cannot create the lock file ${file} (${reason}).`);
    throw error;
  }
  const held = db;
  return {
    file,
    release: () => {
      if (held.open) held.close();
    },
  };
}
