/** What the storage suite's cases share: starting a collector on the storage under test, and checks on stored rows. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { CollectorOptions } from '../../../collector/app';
import type { CollectorConfigInput } from '../../../collector/config';
import type { FleetFinding } from '../../../collector/schemas';
import type { Queryable, Row, SqlDatabase, SqlParam } from '../../../collector/storage/sql';
import { startTestCollector, type TestCollector } from './harness';

/** Opens a fresh, migrated database for one test case: a temporary SQLite file or a PostgreSQL schema. */
export type OpenStorage = (t: TestContext) => Promise<SqlDatabase>;

export interface StorageCase {
  readonly name: string;
  run(kit: StorageKit): Promise<void>;
}

export class StorageKit {
  constructor(
    readonly t: TestContext,
    readonly openStorage: OpenStorage,
  ) {}

  /** A collector on a fresh database of the storage under test. */
  async start(overrides: Partial<CollectorConfigInput> = {}, options: CollectorOptions = {}): Promise<TestCollector> {
    return startTestCollector(this.t, overrides, { database: await this.openStorage(this.t), ...options });
  }

  /** A fresh database of the storage under test, closed after the case. */
  async open(): Promise<SqlDatabase> {
    const database = await this.openStorage(this.t);
    this.t.after(() => database.close());
    return database;
  }
}

export interface RowCounts {
  readonly reports: number;
  readonly findings: number;
  readonly gaps: number;
}

export async function snapshot(collector: TestCollector): Promise<RowCounts> {
  return { reports: await collector.count('reports'), findings: await collector.count('findings'), gaps: await collector.count('chain_gaps') };
}

export async function assertUnchanged(collector: TestCollector, before: RowCounts): Promise<void> {
  assert.equal(await collector.count('reports'), before.reports, 'reports row count changed');
  assert.equal(await collector.count('findings'), before.findings, 'findings row count changed');
  assert.equal(await collector.count('chain_gaps'), before.gaps, 'chain_gaps row count changed');
}

/** The findings of a /v1/findings/stream answer. */
export function ndjson(body: string): FleetFinding[] {
  return body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as FleetFinding);
}

export function errorCode(response: { json: <T>() => T }): string {
  return response.json<{ error: { code: string; message: string } }>().error.code;
}

/** Every stored row that ingest or a sweep can change, in a stable order, ids and cursors left out where paths may differ. */
export async function dumpState(database: Queryable): Promise<Record<string, Row[]>> {
  return {
    reports: await database.all('SELECT device_id, seq, hash, prev_hash, kind, created_at, body, sig, received_at FROM reports ORDER BY device_id, seq'),
    devices: await database.all('SELECT id, last_seen_at, head_seq, head_hash FROM devices ORDER BY id'),
    findings: await database.all(
      `SELECT device_id, source, key, kind, severity, title, explanation, evidence, first_seen_at, last_seen_at, closed_at, report_seq, created_at, updated_at
       FROM findings ORDER BY device_id, key, first_seen_at`,
    ),
    gaps: await database.all('SELECT device_id, from_seq, to_seq, detected_at, closed_at FROM chain_gaps ORDER BY device_id, from_seq, to_seq, closed_at'),
  };
}

/** The real database, passed through; subclasses intercept the calls a test watches or breaks. */
export class PassThroughDatabase implements SqlDatabase {
  constructor(protected readonly inner: SqlDatabase) {}

  get dialect() {
    return this.inner.dialect;
  }

  all(sql: string, params?: readonly SqlParam[]): Promise<Row[]> {
    return this.inner.all(sql, params);
  }

  get(sql: string, params?: readonly SqlParam[]): Promise<Row | undefined> {
    return this.inner.get(sql, params);
  }

  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.inner.run(sql, params);
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.inner.transaction(work);
  }

  exec(sql: string): Promise<void> {
    return this.inner.exec(sql);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The real database, counting every call that can write: transactions, statements run for their
 * row count, and DDL. Queries for rows (`all`, `get`) are not counted: the reads' stored state is
 * compared with dumpState for those.
 */
export class WriteCountingDatabase extends PassThroughDatabase {
  writes = 0;

  override run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    this.writes += 1;
    return super.run(sql, params);
  }

  override transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    this.writes += 1;
    return super.transaction(work);
  }

  override exec(sql: string): Promise<void> {
    this.writes += 1;
    return super.exec(sql);
  }
}
