/**
 * The collector's SQLite storage (the default): one better-sqlite3 connection in WAL mode.
 *
 * Schema version in `PRAGMA user_version`, like the agent; pending steps run in one transaction and
 * a database from newer code is refused. synchronous=FULL: an acknowledged report must survive power
 * loss, since the agent deletes it from its outbox on our 200.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { CollectorError } from '../errors';
import type { CollectorMigration } from './migration';
import { COLLECTOR_MIGRATIONS } from './migrations/index';
import { SerialLock, type Queryable, type Row, type SqlDatabase, type SqlParam } from './sql';

export interface SqliteOpenOptions {
  /** Defaults to every known step; tests pass a prefix to build old versions. */
  readonly migrations?: readonly CollectorMigration[];
}

/** Open (creating if needed) and migrate the collector database at `file` (or ':memory:'). */
export function openSqliteStorage(file: string, options: SqliteOpenOptions = {}): SqlDatabase {
  const migrations = options.migrations ?? COLLECTOR_MIGRATIONS;
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  let db: Database.Database;
  try {
    if (file !== ':memory:') makePrivate(file);
    db = new Database(file);
  } catch (error) {
    throw new CollectorError('STORAGE_UNAVAILABLE', `Cannot open ${file}: ${messageOf(error)}`, 500);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Statement journals in memory: a statement that may need its own rollback inside a transaction
    // (an upsert, anything firing a trigger, everything inside a savepoint: most of a report's writes)
    // otherwise opens, writes and deletes a temporary file each time, which cost more than the write itself.
    db.pragma('temp_store = MEMORY');
    const current = db.pragma('user_version', { simple: true }) as number;
    checkOrder(migrations);
    if (current > migrations.length) {
      throw new CollectorError(
        'DATABASE_TOO_NEW',
        `${file} has collector schema version ${current}, newer than this collector understands (${migrations.length}). Update the collector; the file was left untouched.`,
        500,
      );
    }
    if (current < migrations.length) {
      db.transaction(() => {
        for (const step of migrations.slice(current)) for (const statement of step.statements('sqlite')) db.exec(statement);
        db.pragma(`user_version = ${migrations.length}`);
      }).immediate();
    }
  } catch (error) {
    db.close();
    if (error instanceof CollectorError) throw error;
    throw new CollectorError('STORAGE_UNAVAILABLE', `${file} is not a usable collector database: ${messageOf(error)}`, 500);
  }
  return new SqliteDatabase(db, file === ':memory:' ? null : path.resolve(file));
}

/**
 * The database holds every device's reports: 0600 whatever the umask. SQLite gives new -wal and
 * -shm files the main file's mode, so creating that first is enough; files an older run left wider
 * are tightened when this user owns them.
 */
function makePrivate(file: string): void {
  fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o600));
  for (const candidate of [file, `${file}-wal`, `${file}-shm`]) {
    const stat = fs.statSync(candidate, { throwIfNoEntry: false });
    if (stat !== undefined && stat.uid === process.getuid?.() && (stat.mode & 0o077) !== 0) fs.chmodSync(candidate, stat.mode & 0o600);
  }
}

/** Throws when step versions are not 1, 2, 3... in order. */
export function checkOrder(migrations: readonly CollectorMigration[]): void {
  migrations.forEach((step, index) => {
    if (step.version !== index + 1) throw new Error(`Migration ${step.name} has version ${step.version}, expected ${index + 1}`);
  });
}

class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly lock = new SerialLock();

  constructor(
    private readonly db: Database.Database,
    readonly file: string | null,
  ) {}

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async all(sql: string, params: readonly SqlParam[] = []): Promise<Row[]> {
    return this.prepare(sql).all(...scalars(params)) as Row[];
  }

  async get(sql: string, params: readonly SqlParam[] = []): Promise<Row | undefined> {
    return this.prepare(sql).get(...scalars(params)) as Row | undefined;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return this.prepare(sql).run(...scalars(params)).changes;
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql);
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    // better-sqlite3's db.transaction() cannot span awaits, so BEGIN/COMMIT by hand; the lock keeps
    // a second writer from joining this transaction on the shared connection.
    return this.lock.run(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.lock.run(async () => undefined);
    this.db.close();
  }
}

/** better-sqlite3 would silently flatten an array argument into several bound values: refuse it. */
function scalars(params: readonly SqlParam[]): readonly SqlParam[] {
  for (const param of params) if (Array.isArray(param)) throw new Error('SQLite cannot bind an array parameter (PostgreSQL-only batch SQL)');
  return params;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
