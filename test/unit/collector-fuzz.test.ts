/**
 * The schema-driven fuzz of every collector route (lab/collector/fuzz.ts) on SQLite, at CI size;
 * TELLTALE_FUZZ_CASES runs it larger, and `npm run bench -- --only fuzz` at full size. The
 * PostgreSQL run is in collector-postgres.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzCases, fuzzCollector, fuzzProblems, FUZZ_LIMITS } from '../../lab/collector/fuzz';
import { startTestCollector } from '../helpers/collector/harness';

test('fuzzed requests to every route never cause 5xx, always get the JSON error shape, and store exactly what was acknowledged (SQLite)', async (t) => {
  const collector = await startTestCollector(t, FUZZ_LIMITS);
  const figures = await fuzzCollector(collector, fuzzCases(3000), 0x7e11_7a1e);
  t.diagnostic(`SQLite fuzz: ${JSON.stringify(figures)}`);
  assert.deepEqual(fuzzProblems(figures), [], JSON.stringify(figures.statuses));
});
