/**
 * The headless agent CLI and `npm start` as real processes: startup lines, graceful signals,
 * running without a display, and one-line fatal errors with distinct exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../../agent/exit-codes';
import { spawnAgent } from '../helpers/agent-process';
import { startCollectorProcess } from '../helpers/collector-process';
import { tempDir } from '../helpers/temp-dir';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The environment without any X display, so capture is unavailable. */
function headlessEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  return env;
}

function assertOneCleanLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, `exactly one stderr line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
}

describe('agent CLI', () => {
  it('starts without a display, logs where it keeps data, warns about capture, and stops on SIGINT with 0', async (t) => {
    const dir = tempDir(t);
    const agent = spawnAgent(['--data-dir', dir], headlessEnv(), t);
    const started = await agent.waitForLine((line) => line.message === 'Agent started', 'startup');
    assert.equal(started.dataDir, dir);
    assert.equal(started.databasePath, path.join(dir, 'telltale.db'));
    assert.equal(started.policySource, 'defaults');
    const warning = await agent.waitForLine((line) => line.level === 'warn', 'the capture warning');
    assert.match(String(warning.reason), /DISPLAY/);
    const running = await agent.waitForLine((line) => line.message === 'Agent running', 'running');
    assert.equal(running.inputCapture, 'unavailable');
    assert.match(String(running.inputCaptureDetail), /DISPLAY/);
    assert.doesNotMatch(String(running.services), /input-capture/, 'capture is not listed as running');
    assert.match(String(running.services), /\bsync\b/);
    assert.ok(agent.lines.some((line) => line.message === 'No collector configured: reports stay on this device'));
    assert.equal(await agent.stop('SIGINT'), 0);
    assert.ok(agent.lines.some((line) => line.message === 'Agent stopped' && line.reason === 'SIGINT'));
    assert.equal(agent.stderr().toString(), '');
    assert.ok(fs.existsSync(path.join(dir, 'telltale.db')));
  });

  it('exits 0 by itself after --duration-seconds, and on SIGTERM', async (t) => {
    const dir = tempDir(t);
    const timed = spawnAgent(['--data-dir', dir, '--duration-seconds', '1'], headlessEnv(), t);
    assert.equal(await timed.exited, 0);
    assert.ok(timed.lines.some((line) => line.message === 'Agent stopped' && line.reason === 'duration'));
    const signalled = spawnAgent(['--data-dir', dir, '--no-input'], headlessEnv(), t);
    await signalled.waitForLine((line) => line.message === 'Agent running', 'running');
    assert.equal(await signalled.stop('SIGTERM'), 0);
  });

  it('rejects an invalid policy with one line naming file and field, exit code POLICY_INVALID', async (t) => {
    const dir = tempDir(t);
    const policy = path.join(dir, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ intervals: { scanSeconds: 1 } }));
    const agent = spawnAgent(['--policy', policy, '--data-dir', path.join(dir, 'data')], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.policyInvalid);
    assertOneCleanLine(agent.stderr().toString(), new RegExp(`^telltale-agent: POLICY_INVALID: ${policy.replace(/\//g, '\\/')}: /intervals/scanSeconds must be >= 5$`));
    assert.equal(agent.stdout().length, 0);
    assert.equal(fs.existsSync(path.join(dir, 'data')), false, 'nothing created before the policy is valid');
  });

  it('refuses a data folder under /proc in one line (DATABASE_UNWRITABLE) instead of spinning', async (t) => {
    const started = Date.now();
    const agent = spawnAgent(['--data-dir', '/proc/telltale-test/data', '--no-input'], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseUnwritable);
    assert.ok(Date.now() - started < 20_000, `exited after ${Date.now() - started} ms`);
    assertOneCleanLine(agent.stderr().toString(), /^telltale-agent: DATABASE_UNWRITABLE: Cannot create the data folder \/proc\/telltale-test\/data: ENOENT/);
  });

  it('logs enrolment and each delivery; the collector logs requests, the enrolment and rejections without secrets', async (t) => {
    const dir = tempDir(t);
    const secret = 'enrollment-secret-for-the-log-test';
    const itToken = 'it-token-for-the-log-test-0123456789';
    const collector = await startCollectorProcess({ dbFile: path.join(dir, 'collector.db'), enrollmentSecret: secret, itToken, logLevel: 'info' });
    t.after(() => collector.kill());
    const policy = path.join(dir, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ collectorUrl: collector.url, enrollmentSecret: secret, intervals: { reportSeconds: 10, heartbeatSeconds: 10 } }));
    const agent = spawnAgent(['--policy', policy, '--data-dir', path.join(dir, 'agent'), '--no-input'], headlessEnv(), t);
    const enrolled = await agent.waitForLine((line) => line.message === 'Enrolled', 'the enrolment line');
    assert.equal(enrolled.level, 'info');
    assert.equal(enrolled.collector, `${collector.url}/`);
    assert.match(String(enrolled.deviceId), /^[0-9a-f-]{36}$/);
    const delivered = await agent.waitForLine((line) => line.message === 'Report delivered', 'a delivery line');
    assert.equal(delivered.seq, 1);
    assert.equal(typeof delivered.roundTripMs, 'number');

    const refused = await fetch(`${collector.url}/v1/devices`, { headers: { authorization: 'Bearer not-the-token-0123456789' } });
    assert.equal(refused.status, 401);
    const deadline = Date.now() + 10_000;
    const logOf = () => collector.output.map((line) => JSON.parse(line) as Record<string, unknown>);
    while (!logOf().some((line) => line.msg === 'request rejected') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const log = logOf();
    assert.ok(log.some((line) => line.msg === 'device enrolled' && line.deviceId === enrolled.deviceId && line.level === 30), 'the enrolment, at info');
    assert.ok(log.some((line) => line.msg === 'incoming request' && (line.req as { url?: string } | undefined)?.url === '/v1/reports'), 'each request');
    const rejected = log.find((line) => line.msg === 'request rejected');
    assert.ok(rejected, 'the rejection');
    assert.equal(rejected.statusCode, 401);
    assert.equal(typeof rejected.code, 'string');
    const text = collector.output.join('\n');
    for (const hidden of [secret, itToken, 'not-the-token', '"body"', 'authorization']) assert.ok(!text.includes(hidden), `the collector log never holds ${hidden}`);
    assert.equal(await agent.stop('SIGTERM'), 0);
  });

  it('rejects a missing --policy file (POLICY_UNREADABLE) and bad arguments (usage)', async (t) => {
    const dir = tempDir(t);
    const missing = spawnAgent(['--policy', path.join(dir, 'absent.json'), '--data-dir', dir], headlessEnv(), t);
    assert.equal(await missing.exited, EXIT_CODES.policyUnreadable);
    assertOneCleanLine(missing.stderr().toString(), /POLICY_UNREADABLE: .*absent\.json: cannot read the policy \(the file does not exist\)/);
    const bad = spawnAgent(['--frobnicate'], headlessEnv(), t);
    assert.equal(await bad.exited, EXIT_CODES.usage);
    assert.match(bad.stderr().toString(), /frobnicate/);
    const duration = spawnAgent(['--duration-seconds', 'soon', '--data-dir', dir], headlessEnv(), t);
    assert.equal(await duration.exited, EXIT_CODES.usage);
    assertOneCleanLine(duration.stderr().toString(), /--duration-seconds must be a positive number, got "soon"/);
  });
});

describe('npm start', () => {
  it("says in one line that Electron's binary is missing and exits 1", () => {
    const result = spawnSync('npm', ['start', '--silent'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
    assert.equal(result.status, 1, result.stderr);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm warn'));
    assert.deepEqual(lines, [
      "telltale: Electron's binary is not installed here (ELECTRON_SKIP_BINARY_DOWNLOAD). Run the same agent headless with: npm run agent",
    ]);
    assert.equal(result.stdout.trim(), '');
  });
});
