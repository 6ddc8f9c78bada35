/**
 * The collector's PostgreSQL storage, for fleets: a pg Pool running the same migrations as SQLite.
 *
 * The schema version lives in `collector_schema`; migrations take an advisory lock so two collectors
 * starting together do not both migrate. int8 columns are parsed to JS numbers (all our integers are
 * epoch ms, seqs and counters, far below 2^53).
 */
import pg from 'pg';
import { CollectorError } from '../errors';
import type { CollectorMigration } from './migration';
import { COLLECTOR_MIGRATIONS } from './migrations/index';
import { checkOrder } from './sqlite';
import { SerialLock, toPostgresPlaceholders, type Queryable, type Row, type SqlDatabase, type SqlParam } from './sql';

export interface PostgresOpenOptions {
  readonly migrations?: readonly CollectorMigration[];
  /** A schema to use (search_path), e.g. a throwaway schema per test run. Must already exist. */
  readonly schema?: string;
  readonly maxConnections?: number;
}

const INT8_OID = 20;
const MIGRATION_LOCK_KEY = 7_461_001;

const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** Connect to `url`, migrate, and return the storage handle. */
export async function openPostgresStorage(url: string, options: PostgresOpenOptions = {}): Promise<SqlDatabase> {
  const migrations = options.migrations ?? COLLECTOR_MIGRATIONS;
  checkOrder(migrations);
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new CollectorError('CONFIG_INVALID', `PostgreSQL schema name ${JSON.stringify(options.schema)} is not a plain identifier`, 500);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 8,
    types: TYPES,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client's error (e.g. server restart) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const database = new PostgresDatabase(pool);
  try {
    await database.transaction(async (tx) => {
      await tx.run(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await tx.run('CREATE TABLE IF NOT EXISTS collector_schema (version INTEGER NOT NULL)');
      const row = await tx.get('SELECT max(version) AS version FROM collector_schema');
      const current = row?.version === null || row?.version === undefined ? 0 : Number(row.version);
      if (current > migrations.length) {
        throw new CollectorError(
          'DATABASE_TOO_NEW',
          `PostgreSQL schema is at collector version ${current}, newer than this collector understands (${migrations.length}). Update the collector; nothing was changed.`,
          500,
        );
      }
      for (const step of migrations.slice(current)) {
        for (const statement of step.statements('postgres')) await tx.run(statement);
        await tx.run('INSERT INTO collector_schema (version) VALUES (?)', [step.version]);
      }
    });
  } catch (error) {
    await pool.end();
    if (error instanceof CollectorError) throw error;
    throw new CollectorError('STORAGE_UNAVAILABLE', `Cannot use PostgreSQL: ${error instanceof Error ? error.message : String(error)}`, 500);
  }
  return database;
}

class ClientQueries implements Queryable {
  readonly dialect = 'postgres' as const;

  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  async all(sql: string, params: readonly SqlParam[] = []): Promise<Row[]> {
    const result = await this.client.query(toPostgresPlaceholders(sql), params as SqlParam[]);
    return result.rows as Row[];
  }

  async get(sql: string, params: readonly SqlParam[] = []): Promise<Row | undefined> {
    return (await this.all(sql, params))[0];
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    const result = await this.client.query(toPostgresPlaceholders(sql), params as SqlParam[]);
    return result.rowCount ?? 0;
  }
}

class PostgresDatabase extends ClientQueries implements SqlDatabase {
  private readonly lock = new SerialLock();

  constructor(private readonly pool: pg.Pool) {
    super(pool);
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(new ClientQueries(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    });
  }

  async close(): Promise<void> {
    await this.lock.run(async () => undefined);
    await this.pool.end();
  }
}
