/**
 * Farm correlation on a real PostgreSQL (TELLTALE_TEST_PG_URL), each scenario in a fresh schema:
 * the same scenarios as the SQLite unit test (test/helpers/collector/farm-scenarios.ts).
 */
import { test, type TestContext } from 'node:test';
import { openPostgresStorage } from '../../collector/storage/postgres';
import { clusterLifecycleScenario, staleClusterScenario, unexpectedEgressScenario } from '../helpers/collector/farm-scenarios';
import { freshSchema } from '../helpers/pg-schema';
import { requireCondition } from '../helpers/tools';

const url = process.env.TELLTALE_TEST_PG_URL ?? '';

async function freshStore(t: TestContext) {
  return openPostgresStorage(url, { schema: await freshSchema(t, 'farm') });
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
