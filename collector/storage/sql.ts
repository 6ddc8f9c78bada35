/**
 * One small async query interface over SQLite (better-sqlite3) and PostgreSQL (pg).
 *
 * Table modules are written once against `Queryable`: SQL uses `?` placeholders (rewritten to `$n`
 * for PostgreSQL), only portable syntax (ON CONFLICT ... DO UPDATE, RETURNING, partial indexes), and
 * integers come back as JS numbers from both drivers. Every value is bound, never spliced.
 */

export type Dialect = 'sqlite' | 'postgres';

/** A row as the driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** Bindable parameter values. */
export type SqlValue = string | number | null;

/**
 * A bound parameter: a value, or (PostgreSQL only, for `= ANY(?::text[])` and `unnest(...)` batch
 * statements) an array of values. SQLite cannot bind arrays; batch helpers loop a prepared statement there.
 */
export type SqlParam = SqlValue | readonly SqlValue[];

export interface Queryable {
  readonly dialect: Dialect;
  /** All rows of a query. */
  all(sql: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /** The first row of a query, or undefined. */
  get(sql: string, params?: readonly SqlParam[]): Promise<Row | undefined>;
  /** A statement without result rows; returns the number of rows changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
}

/** A database handle: queries outside a transaction, plus serialized write transactions. */
export interface SqlDatabase extends Queryable {
  /** The SQLite file behind this handle, so a second connection can open it (null in memory; absent for PostgreSQL). */
  readonly file?: string | null;
  /**
   * Run `work` inside one write transaction and commit it; roll back if it throws.
   * Write transactions are serialized: a second call waits for the first to finish.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Run DDL (several statements, no parameters). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Rewrites `?` placeholders to PostgreSQL's `$1, $2...`. Our SQL never has `?` inside string literals. */
export function toPostgresPlaceholders(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

/** Reads an integer column that both drivers return as number (bigint columns are parsed to number for pg). */
export function integer(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new Error(`Column ${column} is not an integer: ${JSON.stringify(value)}`);
}

/** Reads a nullable integer column. */
export function integerOrNull(row: Row, column: string): number | null {
  return row[column] === null || row[column] === undefined ? null : integer(row, column);
}

/** Reads a text column. */
export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new Error(`Column ${column} is not text: ${JSON.stringify(value)}`);
  return value;
}

/** Reads a nullable text column. */
export function textOrNull(row: Row, column: string): string | null {
  return row[column] === null || row[column] === undefined ? null : text(row, column);
}

/** A promise chain that runs tasks one at a time, in order; a failed task does not block later ones. */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** What a piece of work inside a savepoint ended with. */
export type SavepointResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * Run `work` inside a savepoint of the open transaction `tx`: if it throws, its writes are undone and
 * the error is returned, while the rest of the transaction stays usable (PostgreSQL otherwise
 * refuses every later statement of an aborted transaction). Throws only when the savepoint itself
 * cannot be rolled back, e.g. SQLite ended the whole transaction on a full disk: then nothing in
 * the transaction can commit.
 */
export async function inSavepoint<T>(tx: Queryable, name: string, work: () => Promise<T>): Promise<SavepointResult<T>> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`Savepoint name ${name} is not a plain identifier`);
  await tx.run(`SAVEPOINT ${name}`);
  try {
    const value = await work();
    await tx.run(`RELEASE SAVEPOINT ${name}`);
    return { ok: true, value };
  } catch (error) {
    await tx.run(`ROLLBACK TO SAVEPOINT ${name}`);
    await tx.run(`RELEASE SAVEPOINT ${name}`);
    return { ok: false, error };
  }
}
