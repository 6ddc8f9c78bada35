/**
 * `npm run agent` runs the bundled headless agent (dist/agent-cli/cli.js), not tsx: check that the
 * bundle builds, starts, serves the transparency view from the built renderer, answers the bridge
 * API with its token, and shuts down cleanly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/temp-dir';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('npm run agent (bundled)', () => {
  it('builds, serves the view and the bridge API, and stops on SIGTERM', async (t) => {
    const dir = tempDir(t);
    // Through npm exactly as the README says; no DISPLAY, so input capture only warns.
    const env = { ...process.env, DISPLAY: '' };
    const child = spawn('npm', ['run', '--silent', 'agent', '--', '--data-dir', path.join(dir, 'data')], { cwd: ROOT, env, detached: true });
    t.after(() => {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const lines = readline.createInterface({ input: child.stdout! });
    const messages: string[] = [];
    lines.on('line', (line) => messages.push((JSON.parse(line) as { message?: string }).message ?? ''));
    const url = await new Promise<URL>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no view URL within 90 s')), 90_000);
      lines.on('line', (line) => {
        const parsed = JSON.parse(line) as { url?: string; message?: string };
        if (parsed.url?.includes('#token=')) {
          clearTimeout(timer);
          resolve(new URL(parsed.url));
        }
      });
    });
    const base = `${url.protocol}//${url.host}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script src="renderer\.js"/);
    const script = await fetch(`${base}/renderer.js`);
    assert.equal(script.status, 200);
    assert.ok((await script.text()).length > 1000, 'the built renderer bundle is served');
    const token = url.hash.replace('#token=', '');
    const unauthorized = await fetch(`${base}/api/call/getOverview`, { method: 'POST', body: '{}' });
    assert.equal(unauthorized.status, 401);
    const overview = await fetch(`${base}/api/call/getOverview`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const answer = (await overview.json()) as { ok: boolean; value?: { agentVersion?: string } };
    assert.equal(answer.ok, true);
    assert.equal(answer.value?.agentVersion, '0.1.0', 'the bundle reports the package version');
    // SIGTERM to the whole group (npm, its shell, the agent), as a terminal's Ctrl-C would.
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    // npm can exit before the agent: the agent first lets a scan already under way finish (its
    // socket probes are bounded at 2 s each), so wait for its own last line rather than a fixed time.
    const stopped = await new Promise<boolean>((resolve) => {
      if (messages.includes('Agent stopped')) return resolve(true);
      const timer = setTimeout(() => resolve(false), 15_000);
      lines.on('line', () => {
        if (messages.includes('Agent stopped')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      lines.once('close', () => {
        clearTimeout(timer);
        resolve(messages.includes('Agent stopped'));
      });
    });
    assert.ok(stopped, `the agent stopped gracefully: ${messages.join(' | ')}`);
  });
});
