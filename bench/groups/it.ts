/**
 * IT rows: the queries behind the dashboard at fleet scale (100,000 devices; 10,000 with --quick),
 * p99 latency against the 50 ms target, on SQLite and (when TELLTALE_BENCH_PG_URL or
 * TELLTALE_TEST_PG_URL is set) PostgreSQL. The fleet is seeded with SQL in one transaction: every
 * 10th device has an open high finding, every 7th a medium one, every 50th the tag site:lab, one
 * device 200 reports. Queries run in this process through the collector's own storage functions.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { findDeviceById } from '../../collector/storage/devices';
import { listDevicePage, listFindingPage, type DeviceQuery } from '../../collector/storage/fleet';
import { openPostgresStorage } from '../../collector/storage/postgres';
import { listReportSummaries } from '../../collector/storage/reports';
import type { SqlDatabase } from '../../collector/storage/sql';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import type { Group, RowSpec } from '../lib/group';
import { percentileOf, spreadOf, type Row } from '../lib/summary';

const QUERIES = ['device list sorted by risk', 'device list filtered (risk high + kind) and sorted by last seen', 'device search (hostname part)', 'incident queue (first page)', 'per-device page (device, findings, reports)'] as const;
const STORES = ['SQLite', 'PostgreSQL'] as const;
const TARGET_MS = 50;

const ROWS: readonly RowSpec[] = STORES.flatMap((store) => QUERIES.map((query) => ({ name: `IT: ${query} (${store})`, targetText: `p99 ≤ ${TARGET_MS} ms` })));

const PG_URL = process.env.TELLTALE_BENCH_PG_URL ?? process.env.TELLTALE_TEST_PG_URL ?? '';

/** Seed a fleet of `devices` devices (see the header), in one transaction. */
export async function seedFleet(database: SqlDatabase, devices: number, now: number): Promise<void> {
  const numbers =
    database.dialect === 'sqlite' ? 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) ' : '';
  const from = database.dialect === 'sqlite' ? 'FROM n' : 'FROM generate_series(1, ?::int) AS n(i)';
  const pad = (expression: string) => (database.dialect === 'sqlite' ? `printf('%06d', ${expression})` : `lpad((${expression})::text, 6, '0')`);
  await database.transaction(async (tx) => {
    await tx.run(
      `${numbers}INSERT INTO devices (id, public_key, hostname, platform, agent_version, enrolled_at, last_seen_at, head_seq, head_hash)
       SELECT 'dev-' || ${pad('i')}, 'key-' || ${pad('i')}, 'laptop-' || ${pad('i')}, 'linux', '0.1.0', CAST(? AS BIGINT), CAST(? AS BIGINT) - ((i * 7919) % 3600000), 0, NULL ${from}`,
      database.dialect === 'sqlite' ? [devices, now, now] : [now, now, devices],
    );
    await tx.run(
      `${numbers}INSERT INTO findings (cursor, device_id, source, key, kind, severity, title, explanation, evidence, first_seen_at, last_seen_at, closed_at, report_seq, created_at, updated_at)
       SELECT i, 'dev-' || ${pad('i')}, 'agent', 'k', CASE WHEN i % 10 = 0 THEN 'remote-session-active' ELSE 'remote-tool-installed' END,
         CASE WHEN i % 10 = 0 THEN 'high' ELSE 'medium' END, 'A finding', 'Seeded for the benchmark.', '{}', CAST(? AS BIGINT) - i, CAST(? AS BIGINT), NULL, 1, CAST(? AS BIGINT) - i, CAST(? AS BIGINT) - i
       ${from} WHERE i % 10 = 0 OR i % 7 = 0`,
      database.dialect === 'sqlite' ? [devices, now, now, now, now] : [now, now, now, now, devices],
    );
    await tx.run("UPDATE counters SET value = ? WHERE name = 'finding_cursor'", [devices]);
    await tx.run(`${numbers}INSERT INTO device_tags (device_id, tag, added_at) SELECT 'dev-' || ${pad('i')}, 'site:lab', CAST(? AS BIGINT) ${from} WHERE i % 50 = 0`, database.dialect === 'sqlite' ? [devices, now] : [now, devices]);
    for (let seq = 1; seq <= 200; seq++) {
      await tx.run('INSERT INTO reports (device_id, seq, hash, prev_hash, kind, created_at, body, sig, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        'dev-000010', seq, crypto.randomBytes(32).toString('hex'), crypto.randomBytes(32).toString('hex'), 'report', now, '{"padding":"' + 'x'.repeat(2000) + '"}', 'sig', now,
      ]);
    }
  });
}

async function timeQuery(work: () => Promise<unknown>, iterations: number): Promise<{ p50: number; p99: number }> {
  for (let warm = 0; warm < 5; warm++) await work();
  const samples: number[] = [];
  for (let index = 0; index < iterations; index++) {
    const started = process.hrtime.bigint();
    await work();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { p50: percentileOf(samples, 50), p99: percentileOf(samples, 99) };
}

async function measure(database: SqlDatabase, now: number, iterations: number): Promise<{ p50: number; p99: number }[]> {
  const silentBefore = now - 3_600_000;
  const base: DeviceQuery = { sort: 'risk', retired: 'exclude', extra: [], cursor: null, limit: 100, silentBefore };
  const page2 = (await listDevicePage(database, base)).nextCursor;
  const work: (() => Promise<unknown>)[] = [
    () => listDevicePage(database, { ...base, cursor: page2 }),
    () => listDevicePage(database, { ...base, sort: 'last-seen', risk: ['high'], kind: 'remote-session-active' }),
    () => listDevicePage(database, { ...base, sort: 'host', search: '04242' }),
    () => listFindingPage(database, { before: null, limit: 50, openOnly: true, triage: 'active', includeRetired: false, now }),
    async () => {
      await findDeviceById(database, 'dev-000010');
      await listDevicePage(database, { ...base, sort: 'host', extra: [{ where: 'd.id = ?', params: ['dev-000010'] }], limit: 1 });
      await listFindingPage(database, { before: null, limit: 100, deviceId: 'dev-000010', openOnly: false, triage: 'all', includeRetired: true, now });
      await listReportSummaries(database, 'dev-000010', null, 50);
    },
  ];
  const results: { p50: number; p99: number }[] = [];
  for (const query of work) results.push(await timeQuery(query, iterations));
  return results;
}

async function withPostgresSchema<T>(work: (database: SqlDatabase) => Promise<T>): Promise<T> {
  const schema = `bench_it_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const database = await openPostgresStorage(PG_URL, { schema });
    try {
      return await work(database);
    } finally {
      await database.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

export const itGroup: Group = {
  name: 'it',
  rows: ROWS,
  async run(context) {
    const devices = context.options.quick ? 10_000 : 100_000;
    const iterations = context.options.quick ? 50 : 200;
    const rows: Row[] = [];
    for (const store of STORES) {
      if (store === 'PostgreSQL' && PG_URL === '') {
        for (const query of QUERIES) rows.push({ status: 'missing', group: 'it', name: `IT: ${query} (${store})`, reason: 'missing: TELLTALE_BENCH_PG_URL', targetText: `p99 ≤ ${TARGET_MS} ms` });
        continue;
      }
      const p99s: number[][] = QUERIES.map(() => []);
      const p50s: number[][] = QUERIES.map(() => []);
      for (let run = 0; run < context.options.runs; run++) {
        const now = Date.now();
        const once = async (database: SqlDatabase) => {
          const seeded = Date.now();
          await seedFleet(database, devices, now);
          if (database.dialect === 'postgres') await database.run('ANALYZE');
          context.log(`it ${store} run ${run + 1}: seeded ${devices} devices in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
          return measure(database, now, iterations);
        };
        let results: { p50: number; p99: number }[];
        if (store === 'SQLite') {
          const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-bench-it-'));
          const database = openSqliteStorage(path.join(folder, 'collector.db'));
          try {
            results = await once(database);
          } finally {
            await database.close();
            fs.rmSync(folder, { recursive: true, force: true });
          }
        } else {
          results = await withPostgresSchema(once);
        }
        results.forEach((result, index) => {
          p99s[index]!.push(result.p99);
          p50s[index]!.push(result.p50);
        });
        context.log(`it ${store} run ${run + 1}: p99 ${results.map((result) => result.p99.toFixed(1)).join(' / ')} ms`);
      }
      QUERIES.forEach((query, index) => {
        rows.push({
          status: 'measured',
          group: 'it',
          name: `IT: ${query} (${store})`,
          unit: 'ms',
          figure: spreadOf(p99s[index]!),
          baselineName: null,
          baseline: null,
          target: { kind: 'atMost', value: TARGET_MS, unit: 'ms' },
          targetText: `p99 ≤ ${TARGET_MS} ms`,
          notes: `${query} (${store}): p99 over ${iterations} queries at ${devices} devices; p50 ${spreadOf(p50s[index]!).median.toFixed(1)} ms`,
        });
      });
    }
    return rows;
  },
};
