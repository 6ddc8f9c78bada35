/**
 * The collector's storage suite against a real PostgreSQL (TELLTALE_TEST_PG_URL; .ci/run starts the
 * Debian cluster and sets it). Each case runs in a fresh schema, dropped afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPostgresStorage } from '../../collector/storage/postgres';
import { migration001Initial } from '../../collector/storage/migrations/001-initial';
import { COLLECTOR_SCHEMA_VERSION } from '../../collector/storage/migrations/index';
import { fuzzCases, fuzzCollector, fuzzProblems, FUZZ_LIMITS } from '../../lab/collector/fuzz';
import { startTestCollector } from '../helpers/collector/harness';
import { runStorageSuite } from '../helpers/collector/storage-suite';
import { freshSchema } from '../helpers/pg-schema';
import { requireCondition } from '../helpers/tools';

const url = process.env.TELLTALE_TEST_PG_URL ?? '';


test('collector storage behaviour (PostgreSQL)', async (t) => {
  if (!requireCondition(t, url !== '', 'TELLTALE_TEST_PG_URL is not set (run .ci/run, or start PostgreSQL and export it)')) return;
  await runStorageSuite(t, async (t) => openPostgresStorage(url, { schema: await freshSchema(t) }));
});

test('PostgreSQL migrations are tracked and a newer schema is refused', async (t) => {
  if (!requireCondition(t, url !== '', 'TELLTALE_TEST_PG_URL is not set')) return;
  const schema = await freshSchema(t);
  const first = await openPostgresStorage(url, { schema });
  await first.close();
  // Reopening is a no-op migration.
  const second = await openPostgresStorage(url, { schema });
  const version = await second.get('SELECT max(version) AS v FROM collector_schema');
  assert.equal(Number(version?.v), COLLECTOR_SCHEMA_VERSION);
  await second.run('INSERT INTO collector_schema (version) VALUES (99)');
  await second.close();
  await assert.rejects(openPostgresStorage(url, { schema, migrations: [migration001Initial] }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'DATABASE_TOO_NEW');
    return true;
  });
});

test('fuzzed requests to every route never cause 5xx, always get the JSON error shape, and store exactly what was acknowledged (PostgreSQL)', async (t) => {
  if (!requireCondition(t, url !== '', 'TELLTALE_TEST_PG_URL is not set')) return;
  const database = await openPostgresStorage(url, { schema: await freshSchema(t) });
  const collector = await startTestCollector(t, FUZZ_LIMITS, { database });
  const figures = await fuzzCollector(collector, fuzzCases(3000), 0x7e11_7a1e);
  t.diagnostic(`PostgreSQL fuzz: ${JSON.stringify(figures)}`);
  assert.deepEqual(fuzzProblems(figures), [], JSON.stringify(figures.statuses));
});
