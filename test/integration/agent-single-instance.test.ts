/**
 * One agent per data folder, with two real CLI processes: the second exits at once with one line
 * and its own code and leaves the first running; the lock goes with its holder however it ends,
 * kill -9 included.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { EXIT_CODES } from '../../agent/exit-codes';
import { headlessEnv, oneStderrLine, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { tempDir } from '../helpers/temp-dir';

async function running(t: TestContext, dir: string): Promise<AgentProcess> {
  const agent = spawnAgent(['--data-dir', dir, '--no-input'], headlessEnv(), t);
  await agent.waitForLine((line) => line.message === 'Agent running', 'agent running');
  return agent;
}

describe('one agent per data folder', () => {
  it('a second agent exits with AGENT_ALREADY_RUNNING in one line; the lock outlives neither stop nor kill -9', async (t) => {
    const dir = path.join(tempDir(t), 'data');
    const first = await running(t, dir);

    const second = spawnAgent(['--data-dir', dir, '--no-input'], headlessEnv(), t);
    assert.equal(await second.exited, EXIT_CODES.alreadyRunning, second.stderr().toString());
    assert.match(oneStderrLine(second.stderr()), /^telltale-agent: AGENT_ALREADY_RUNNING: Another Telltale agent is already running on .*\/data \(it holds telltale\.lock\)\. Stop it, or give this one another --data-dir\.$/);
    assert.equal(second.lines.some((line) => line.message === 'Agent started'), false, 'refused before doing anything');
    assert.equal(first.child.exitCode, null, 'the first agent keeps running');

    assert.equal(await first.stop('SIGTERM'), 0);
    const third = await running(t, dir);
    assert.equal(await third.stop('SIGKILL'), 'SIGKILL');
    // The kernel dropped the killed agent's lock: no stale lock file to clean up by hand.
    const fourth = await running(t, dir);
    assert.equal(await fourth.stop('SIGTERM'), 0);
    assert.ok(fs.existsSync(path.join(dir, 'telltale.lock')));
  });
});
