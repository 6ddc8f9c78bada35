/**
 * Starting the HTTP servers of the collector rows (each in its own child process) and the
 * load generator, plus the PostgreSQL precondition.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { onCleanup, OUTPUT_DIR, Workload } from './children';

/** The test database .ci/run sets up; the same default the collector's tests use locally. */
export const PG_URL = process.env.TELLTALE_TEST_PG_URL ?? 'postgres://telltale:telltale@127.0.0.1:5432/telltale_test';

/** Null when PostgreSQL answers at PG_URL, otherwise why not. */
export async function postgresProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `PostgreSQL at ${PG_URL.replace(/:[^:@/]*@/, ':***@')} (${error instanceof Error ? error.message : String(error)}; run .ci/run or set TELLTALE_TEST_PG_URL)`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export type ServerKind = 'hello' | 'json' | 'sqlite' | 'postgres';

export interface BenchServer {
  readonly kind: ServerKind;
  readonly url: string;
  readonly workload: Workload;
}

/**
 * Start one server child. Collectors get `devicesFile` (active devices) and `filler` extra devices
 * bulk-inserted before they listen; PostgreSQL gets a throwaway schema, dropped by the child on
 * stop and again here by the cleanup registry in case the child died.
 */
export async function startServer(kind: ServerKind, options: { devicesFile?: string; filler?: number } = {}): Promise<BenchServer> {
  let workload: Workload;
  switch (kind) {
    case 'hello':
      workload = await Workload.start('server-hello');
      break;
    case 'json':
      workload = await Workload.start('server-json');
      break;
    case 'sqlite':
    case 'postgres': {
      const schema = `telltale_bench_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
      if (kind === 'postgres') onCleanup(() => dropSchema(schema));
      workload = await Workload.start('server-collector', {
        args: ['--storage', kind, '--devices', options.devicesFile ?? '', '--filler', String(options.filler ?? 0)],
        env: { BENCH_PG_URL: PG_URL, BENCH_PG_SCHEMA: schema },
        // Run like `npm run collector` (tsx): its dashboard route reads assets next to its source.
        runner: 'tsx',
        readyTimeoutMs: 180_000,
      });
      break;
    }
  }
  const port = (workload.info as { port: number }).port;
  return { kind, url: `http://127.0.0.1:${port}`, workload };
}

/** Drop a throwaway schema; quiet when PostgreSQL or the schema is gone. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch {
    // PostgreSQL is gone or the schema never existed: nothing to drop.
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Where the load generator writes the active devices for the servers to seed. */
export function devicesFilePath(name: string): string {
  return path.join(OUTPUT_DIR, 'bench-build', `${name}-devices-${process.pid}.json`);
}

/** Report counts of a collector child, to check the load was valid (all stored, no chain gaps). */
export async function collectorCounts(server: BenchServer): Promise<{ reports: number; gaps: number; devices: number }> {
  return server.workload.request('counts');
}

export const CPU_NOTE = `load generator (autocannon) and server run in separate processes on the same ${os.cpus().length} CPUs, so each takes CPU from the other`;
