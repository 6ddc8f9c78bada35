/**
 * `npm run demo` end to end, without an X display: the collector and the headless agent come up,
 * the agent enrolls and its first signed report reaches the collector (seen through the IT API
 * with the printed token), and Ctrl-C (SIGINT) stops both and removes the temporary data.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface DemoLine {
  readonly dashboardUrl: string;
  readonly collectorUrl: string;
  readonly itToken: string;
  readonly viewUrl: string | null;
  readonly dataDir: string;
}

describe('npm run demo', () => {
  it('starts a collector and a headless agent that enrolls and reports, and stops cleanly on SIGINT', async (t) => {
    const env = { ...process.env };
    delete env.DISPLAY;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'demo.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const logLines: Record<string, unknown>[] = [];
    const demo = await new Promise<DemoLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no demo line within 90 s: ${stderr}`)), 90_000);
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        logLines.push(parsed);
        if (parsed.demo) {
          clearTimeout(timer);
          resolve(parsed.demo as DemoLine);
        }
      });
      child.once('exit', (code) => reject(new Error(`demo exited early (${code}): ${stderr}`)));
    });
    assert.match(demo.collectorUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(demo.itToken.length >= 20);

    // The agent enrolls and its first report arrives, seen with the printed IT token.
    const deadline = Date.now() + 60_000;
    let device: { id: string; headSeq: number } | undefined;
    while (Date.now() < deadline) {
      const response = await fetch(`${demo.collectorUrl}/v1/devices`, { headers: { authorization: `Bearer ${demo.itToken}` } });
      assert.equal(response.status, 200);
      device = ((await response.json()) as { devices: { id: string; headSeq: number }[] }).devices[0];
      if (device && device.headSeq >= 1) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(device && device.headSeq >= 1, `a report arrived: ${JSON.stringify(device)}`);
    assert.match(stderr, /IT token:\s+\S+/, 'the banner shows the IT token');
    const unauthorized = await fetch(`${demo.collectorUrl}/v1/devices`);
    assert.equal(unauthorized.status, 401, 'the IT API needs the token');
    // Without a display the agent warns and carries on.
    assert.ok(logLines.some((line) => line.level === 'warn' && /Input timing capture is unavailable/.test(String(line.message))));
    if (demo.viewUrl !== null) {
      const view = await fetch(demo.viewUrl.split('#')[0]!);
      assert.equal(view.status, 200, 'the transparency view answers');
    }

    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.equal(fs.existsSync(demo.dataDir), false, 'temporary data removed');
    assert.match(stderr, /Telltale demo stopped/);
  });
});
