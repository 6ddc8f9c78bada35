/**
 * The scan change gate on a real /proc in its own PID + network namespace: quiet periods are
 * skipped, a new process that is no tool is checked alone, and a newly started remote tool is found
 * by the very next period's scan, so detection is no later than scanning every period.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { requireCondition, requireTools } from '../helpers/tools';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('detection scan gate (namespaced)', () => {
  it('skips quiet periods, checks a new plain process alone and finds a newly started tool at the next period', (t) => {
    if (!requireTools(t, ['unshare'])) return;
    if (!requireCondition(t, process.getuid?.() === 0, 'needs root to create namespaces')) return;
    const args = ['--pid', '--fork', '--mount-proc', '--net', '--', process.execPath, '--import', 'tsx', 'test/helpers/scan-change-scenario.ts'];
    const result = spawnSync('unshare', args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    const line = result.stdout.trim().split('\n').pop() ?? '';
    let outcome: { quietSkipped: number; plainChecked: number; plainScanned: boolean; toolFound: boolean; msToFinding: number; skippedScans: number };
    try {
      outcome = JSON.parse(line) as typeof outcome;
    } catch {
      throw new Error(`the scenario printed no result (status ${result.status}): ${result.stderr.slice(-2000)}`);
    }
    t.diagnostic(`quiet periods skipped: ${outcome.quietSkipped} of 2; tool found by the next scan ${outcome.msToFinding} ms after it started`);
    assert.equal(outcome.quietSkipped, 2, 'nothing started in the namespace: both quiet periods skipped');
    assert.equal(outcome.plainChecked, 1, 'a new process that is no tool: checked alone');
    assert.equal(outcome.plainScanned, false, 'and no full scan for it');
    assert.equal(outcome.toolFound, true, 'the new process is found by the next scheduled scan');
    assert.equal(outcome.skippedScans, 2, 'the period after the start was not skipped');
  });
});
