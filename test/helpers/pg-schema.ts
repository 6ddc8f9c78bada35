/**
 * A fresh PostgreSQL schema per test on TELLTALE_TEST_PG_URL, dropped after it, so tests running
 * at the same time never see each other's tables.
 */
import crypto from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

/** The test database's URL, '' when unset. */
export const TEST_PG_URL = process.env.TELLTALE_TEST_PG_URL ?? '';

/** Create a schema named `<prefix>_<random>`; it is dropped (with everything in it) when `t` ends. */
export async function freshSchema(t: TestContext, prefix = 't'): Promise<string> {
  const schema = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  // This hook may run before the app's own close hook; idle pool connections do not block DROP SCHEMA.
  t.after(async () => {
    const cleanup = new pg.Client({ connectionString: TEST_PG_URL });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await cleanup.end();
    }
  });
  return schema;
}
