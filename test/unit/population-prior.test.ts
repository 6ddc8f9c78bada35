/**
 * The shipped population prior is the one tools/derive-prior.ts derives from the tuning users: a
 * change to the aggregator, the features or the data that moves it shows here until the file is
 * re-derived and reviewed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

it('agent/timing-detector/population-prior.json matches a fresh derivation', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tools', 'derive-prior.ts'), '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  assert.match(result.stdout + result.stderr, /up to date/);
});
