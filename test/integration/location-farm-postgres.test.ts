/**
 * Farm correlation on a real PostgreSQL (TELLTALE_TEST_PG_URL), each scenario in a fresh schema:
 * the same scenarios as the SQLite unit test (test/helpers/collector/farm-scenarios.ts).
 */
import crypto from 'node:crypto';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { openPostgresStorage } from '../../collector/storage/postgres';
import { clusterLifecycleScenario, staleClusterScenario, unexpectedEgressScenario } from '../helpers/collector/farm-scenarios';
import { requireCondition } from '../helpers/tools';

const url = process.env.TELLTALE_TEST_PG_URL ?? '';

async function freshStore(t: TestContext) {
  const schema = `farm_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  t.after(async () => {
    const cleanup = new pg.Client({ connectionString: url });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await cleanup.end();
    }
  });
  return openPostgresStorage(url, { schema });
}

test('clusters form, grow, shrink and close (PostgreSQL)', async (t) => {
  if (!requireCondition(t, url !== '', 'TELLTALE_TEST_PG_URL is not set (run .ci/run, or start PostgreSQL and export it)')) return;
  await clusterLifecycleScenario(t, freshStore);
});

test('unexpected egress (PostgreSQL)', async (t) => {
  if (!requireCondition(t, url !== '', 'TELLTALE_TEST_PG_URL is not set (run .ci/run, or start PostgreSQL and export it)')) return;
  await unexpectedEgressScenario(t, freshStore);
});

test('members that stop reporting leave their cluster (PostgreSQL)', async (t) => {
  if (!requireCondition(t, url !== '', 'TELLTALE_TEST_PG_URL is not set (run .ci/run, or start PostgreSQL and export it)')) return;
  await staleClusterScenario(t, freshStore);
});
