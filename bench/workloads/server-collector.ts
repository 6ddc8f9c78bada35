/**
 * The collector under test: buildCollector on SQLite (a temporary file) or PostgreSQL (a throwaway
 * schema), listening on 127.0.0.1, with its default settings except rate limits raised out of the
 * way (the limiter still runs on every request) and logging off.
 *
 * Before listening it bulk-inserts enrolled devices straight into the devices table: the active
 * devices from the load generator's file (real keys, their reports will arrive) plus `--filler N`
 * devices that never report (the fleet size for the scale rows).
 *
 * Args: --storage sqlite|postgres --devices FILE --filler N; PostgreSQL via BENCH_PG_URL and
 * BENCH_PG_SCHEMA (created here, dropped on stop).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildCollector } from '../../collector/app';
import { openPostgresStorage } from '../../collector/storage/postgres';
import type { SqlDatabase, SqlValue } from '../../collector/storage/sql';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import { argValue, serve } from './protocol';

export const BENCH_ENROLLMENT_SECRET = 'bench-enrollment-secret';

interface DeviceSeed {
  readonly id: string;
  readonly publicKey: string;
}

const storage = argValue('storage', 'sqlite');
const devicesFile = argValue('devices', '');
const filler = Number(argValue('filler', '0'));
const active = devicesFile === '' ? [] : (JSON.parse(fs.readFileSync(devicesFile, 'utf8')) as DeviceSeed[]);

let tempDir: string | null = null;
let database: SqlDatabase;
const pgUrl = process.env.BENCH_PG_URL ?? '';
const pgSchema = process.env.BENCH_PG_SCHEMA ?? '';

async function dropSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
  } finally {
    await client.end();
  }
}

if (storage === 'postgres') {
  if (!/^[a-z_][a-z0-9_]*$/.test(pgSchema)) throw new Error(`bad BENCH_PG_SCHEMA ${pgSchema}`);
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`CREATE SCHEMA ${pgSchema}`);
  await client.end();
  database = await openPostgresStorage(pgUrl, { schema: pgSchema });
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-bench-collector-'));
  tempDir = dir;
  // Also on a crash during setup (the parent drops a leftover PostgreSQL schema itself).
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  database = openSqliteStorage(path.join(dir, 'collector.db'));
}

/** Insert every device in multi-row INSERTs inside one transaction: fast setup for 100k devices. */
async function seedDevices(): Promise<number> {
  const now = Date.now();
  const rows: SqlValue[][] = active.map((device) => [device.id, device.publicKey, `bench-${device.id}`]);
  for (let i = 0; i < filler; i++) {
    // Never parsed: only active devices send reports. Unique, like real keys.
    rows.push([`filler-${i}`, `filler-key-${i}`, `bench-filler-${i}`]);
  }
  const chunk = 500;
  await database.transaction(async (tx) => {
    for (let start = 0; start < rows.length; start += chunk) {
      const part = rows.slice(start, start + chunk);
      const values = part.map(() => "(?, ?, ?, 'linux', '0.1.0-bench', ?, ?, 0, NULL)").join(', ');
      const params = part.flatMap((row) => [...row, now, now]);
      await tx.run(
        `INSERT INTO devices (id, public_key, hostname, platform, agent_version, enrolled_at, last_seen_at, head_seq, head_hash) VALUES ${values}`,
        params,
      );
    }
  });
  if (storage === 'sqlite') await database.exec('ANALYZE');
  else await database.exec('ANALYZE devices');
  return rows.length;
}

const seeded = await seedDevices();
const app = await buildCollector(
  {
    storage: storage === 'postgres' ? { kind: 'postgres', url: pgUrl, schema: pgSchema } : { kind: 'sqlite', file: path.join(tempDir!, 'collector.db') },
    enrollmentSecret: BENCH_ENROLLMENT_SECRET,
    rateLimit: { perIp: 1_000_000_000, reportsPerIp: 1_000_000_000, reportsPerDevice: 1_000_000_000 },
    logLevel: 'silent',
    // BENCH_WRITER_THREAD=off measures SQLite commits on the main thread, for an A/B in one machine state.
    writerThread: process.env.BENCH_WRITER_THREAD !== 'off',
    ...(process.env.BENCH_VERIFY_THREADS ? { verifyThreads: Number(process.env.BENCH_VERIFY_THREADS) } : {}),
  },
  { database },
);
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();

serve(
  {
    async counts() {
      const count = async (table: string) => Number((await database.get(`SELECT count(*) AS n FROM ${table}`))?.n ?? 0);
      return { reports: await count('reports'), gaps: await count('chain_gaps'), devices: await count('devices') };
    },
  },
  async () => {
    await app.close();
    if (storage === 'postgres') await dropSchema();
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  },
  { port: typeof address === 'object' && address ? address.port : 0, seeded },
);
