/**
 * A collector schema step, written once for both SQLite and PostgreSQL.
 *
 * Steps return their DDL per dialect from one template (column types differ: SQLite STRICT tables
 * use INTEGER, PostgreSQL BIGINT/BIGSERIAL). Never edit a step that has shipped; add a new file.
 */
import type { Dialect } from './sql';

export interface CollectorMigration {
  readonly version: number;
  readonly name: string;
  /** DDL statements for `dialect`, run in order inside the migration transaction. */
  statements(dialect: Dialect): readonly string[];
}

/** Column-type vocabulary per dialect, so one template yields both schemas. */
export interface DialectTypes {
  /** Auto-assigned integer primary key. */
  readonly serialKey: string;
  /** 64-bit integer. */
  readonly bigint: string;
  /** Table suffix: STRICT for SQLite, nothing for PostgreSQL. */
  readonly strict: string;
}

export function typesFor(dialect: Dialect): DialectTypes {
  return dialect === 'sqlite'
    ? { serialKey: 'INTEGER PRIMARY KEY', bigint: 'INTEGER', strict: ' STRICT' }
    : { serialKey: 'BIGSERIAL PRIMARY KEY', bigint: 'BIGINT', strict: '' };
}
