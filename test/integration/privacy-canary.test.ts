/**
 * Privacy canary: type a secret into a real X session while the real agent runs, then prove no
 * output of the agent holds the secret or its key identity, while proving the keystrokes WERE
 * captured (so the test cannot pass by capturing nothing).
 *
 * Outputs scanned: the database, -wal and -shm files (copied while the agent runs, right after the
 * secret's window is committed, and again after exit), stdout and stderr; and, in the second test,
 * every HTTP output: each call of the transparency view's bridge API (the same dispatcher the
 * Electron IPC handlers use), its live event stream, the data export, the signed reports as the
 * collector stored them (database and WAL) and as the IT API serves them.
 *
 * The input-attribution path is covered too: the secret is typed through XTEST, so the agent's
 * XInput2 helper sees every key (its counts must reach the secret's window), and a second copy of
 * the helper on the same display records its raw output (counts), which must hold no keycode (X's
 * or uiohook's) and no pointer position of a move made to a known spot.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { assertNoPosition, assertNoSecret, secretNeedles, uiohookKeycodesOf, x11KeycodesOf, type Haystack } from '../helpers/privacy';
import { tempDir } from '../helpers/temp-dir';
import { requireCondition, requireTools } from '../helpers/tools';
import { inject } from '../../lab/injector';
import { startXvfb } from '../../lab/xvfb';
import { startCollectorProcess, type CollectorProcess } from '../helpers/collector-process';
import { REQUEST_CHANNELS } from '../../common/ipc-contract';

const SECRET = 'quokka-zebra-7731';
/** A pointer position the attribution path must not keep. */
const SPOT = { x: 613, y: 487 } as const;
const XI2_HELPER = path.resolve(import.meta.dirname, '..', '..', 'dist', 'native', 'telltale-xi2');

function fileHaystacks(databasePath: string, label: string): Haystack[] {
  return ['', '-wal', '-shm']
    .map((suffix) => `${databasePath}${suffix}`)
    .filter((file) => fs.existsSync(file))
    .map((file) => ({ name: `${path.basename(file)} (${label})`, data: fs.readFileSync(file) }));
}

describe('privacy canary', () => {
  it('keeps no trace of a typed secret in the database, WAL, shm, stdout, stderr or the attribution helper output', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool', 'gcc'])) return;
    if (!requireCondition(t, fs.existsSync(XI2_HELPER), `${XI2_HELPER} was not built (needs cc and libxi-dev)`)) return;
    const keycodes = uiohookKeycodesOf(SECRET);
    assert.equal(keycodes.length, SECRET.length);
    const x = await startXvfb();
    let agent: AgentProcess | null = null;
    t.after(async () => {
      await agent?.stop('SIGKILL');
      await x.stop();
    });
    const dir = tempDir(t);
    const policy = path.join(dir, 'policy.json');
    // A window closes at exactly the secret's keystroke count, so its window proves capture.
    fs.writeFileSync(policy, JSON.stringify({ intervals: { windowSeconds: 600, windowKeystrokes: SECRET.length } }));
    const dataDir = path.join(dir, 'data');
    const databasePath = path.join(dataDir, 'telltale.db');
    agent = spawnAgent(['--policy', policy, '--data-dir', dataDir], x.env);
    await agent.waitForLine((line) => line.message === 'Input timing capture started', 'capture to start');
    await agent.waitForLine((line) => line.message === 'Input attribution started', 'attribution to start');
    // A second helper on the same display: its raw output is what the agent's helper pipes to it
    // (with pointer motion, so the moves below reach its output too).
    const helper = spawn(XI2_HELPER, ['--pointer-motion'], { env: x.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const helperOut: Buffer[] = [];
    helper.stdout.on('data', (chunk: Buffer) => helperOut.push(chunk));
    t.after(() => helper.kill('SIGKILL'));
    await new Promise<void>((resolve) => helper.stdout.once('data', () => resolve()));

    // Probe window (17 harmless keystrokes) so the hook is live before the secret is typed.
    const probe = spawnSync('xdotool', ['type', '--delay', '40', 'x'.repeat(SECRET.length)], { env: x.env });
    assert.equal(probe.status, 0);
    await agent.waitForLine((line) => line.message === 'window' && line.id === 1, 'the probe window');

    const typed = spawnSync('xdotool', ['type', '--delay', '60', SECRET], { env: x.env });
    assert.equal(typed.status, 0, typed.stderr.toString());
    const window = await agent.waitForLine((line) => line.message === 'window' && line.id === 2, "the secret's window");
    assert.equal(window.keystrokes, SECRET.length, 'every keystroke of the secret was captured');
    assert.equal(window.keyDowns, SECRET.length);
    assert.ok(Number(window.injectedKeyPresses) > 0, 'the attribution path saw the secret typed');
    assert.equal(window.deviceKeyPresses, 0);
    // Pointer moves (through XTEST, as the helper sees them) to a known spot.
    await inject(['0 move 600 480', '10 move 607 484', `20 move ${SPOT.x} ${SPOT.y}`], x.env);
    // The helper writes its counts within 250 ms.
    await new Promise((resolve) => setTimeout(resolve, 600));
    helper.kill('SIGTERM');
    const helperOutput = Buffer.concat(helperOut);
    const seen = helperOutput
      .toString()
      .split('\n')
      .map((line) => /^n (\d+) \d+ (\d+) /.exec(line))
      .reduce((total, match) => ({ keys: total.keys + Number(match?.[1] ?? 0), pointer: total.pointer + Number(match?.[2] ?? 0) }), { keys: 0, pointer: 0 });
    assert.ok(seen.keys >= SECRET.length, `the second helper saw the secret typed: ${JSON.stringify(seen)}`);
    assert.ok(seen.pointer >= 3, `the second helper saw the moves: ${JSON.stringify(seen)}`);
    const whileRunning = fileHaystacks(databasePath, 'while running');
    assert.ok(whileRunning.length >= 2, 'database and WAL captured while running');

    assert.equal(await agent.stop('SIGTERM'), 0);
    const haystacks: Haystack[] = [
      ...whileRunning,
      ...fileHaystacks(databasePath, 'after exit'),
      { name: 'stdout', data: agent.stdout() },
      { name: 'stderr', data: agent.stderr() },
      { name: 'attribution helper output', data: helperOutput },
    ];
    assertNoSecret(haystacks, SECRET, keycodes);
    assertNoSecret(haystacks, SECRET, x11KeycodesOf(SECRET));
    assertNoPosition(haystacks, SPOT.x, SPOT.y);
    assert.throws(() => assertNoPosition([{ name: 'planted', data: `n 0 0 1 0 0 0 ${SPOT.x},${SPOT.y}` }], SPOT.x, SPOT.y), /planted contains the position/);

    // The scanner itself must be able to see a leak: every needle finds the secret in a planted copy.
    const planted = Buffer.concat([
      Buffer.from(`${SECRET} ${keycodes.join(',')} ${keycodes.join(', ')} ${keycodes.join(' ')} ${JSON.stringify(keycodes)} `),
      Buffer.from(keycodes),
    ]);
    const le = Buffer.alloc(keycodes.length * 2);
    const be = Buffer.alloc(keycodes.length * 2);
    keycodes.forEach((code, index) => (le.writeUInt16LE(code, index * 2), be.writeUInt16BE(code, index * 2)));
    for (const needle of secretNeedles(SECRET, keycodes)) {
      assert.ok(needle.found(Buffer.concat([planted, le, be])), `scanner finds ${needle.label}`);
    }
    assert.throws(() => assertNoSecret([{ name: 'planted', data: planted }], SECRET, keycodes), /planted contains the phrase/);
  });

  it('keeps no trace of it in HTTP outputs: the view API, its event stream, the export, reports at the collector', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool'])) return;
    const keycodes = uiohookKeycodesOf(SECRET);
    const x = await startXvfb();
    const dir = tempDir(t);
    let agent: AgentProcess | null = null;
    let collector: CollectorProcess | null = null;
    const abort = new AbortController();
    t.after(async () => {
      abort.abort();
      await agent?.stop('SIGKILL');
      await collector?.stop();
      await x.stop();
    });
    const collectorDb = path.join(dir, 'collector.db');
    const itToken = 'canary-it-token-0123456789';
    collector = await startCollectorProcess({ dbFile: collectorDb, enrollmentSecret: 'canary-enrollment-secret', itToken });
    const policy = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policy,
      JSON.stringify({
        collectorUrl: collector.url,
        enrollmentSecret: 'canary-enrollment-secret',
        intervals: { windowSeconds: 600, windowKeystrokes: SECRET.length, reportSeconds: 10 },
      }),
    );
    agent = spawnAgent(['--policy', policy, '--data-dir', path.join(dir, 'data')], x.env);
    const announced = await agent.waitForLine((line) => typeof line.url === 'string' && String(line.url).includes('#token='), 'the view URL');
    const viewUrl = new URL(String(announced.url));
    const token = viewUrl.hash.replace('#token=', '');
    const base = `${viewUrl.protocol}//${viewUrl.host}`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await agent.waitForLine((line) => line.message === 'Input timing capture started', 'capture to start');

    // The live event stream, read for the whole run: what a browser tab would receive.
    const streamChunks: Buffer[] = [];
    const stream = await fetch(`${base}/api/events`, { headers, signal: abort.signal });
    assert.equal(stream.status, 200);
    const streaming = (async () => {
      try {
        for await (const chunk of stream.body as AsyncIterable<Uint8Array>) streamChunks.push(Buffer.from(chunk));
      } catch {
        // Aborted at the end of the test.
      }
    })();

    const probe = spawnSync('xdotool', ['type', '--delay', '40', 'x'.repeat(SECRET.length)], { env: x.env });
    assert.equal(probe.status, 0);
    await agent.waitForLine((line) => line.message === 'window' && line.id === 1, 'the probe window');
    const typed = spawnSync('xdotool', ['type', '--delay', '60', SECRET], { env: x.env });
    assert.equal(typed.status, 0, typed.stderr.toString());
    const window = await agent.waitForLine((line) => line.message === 'window' && line.id === 2, "the secret's window");
    assert.equal(window.keystrokes, SECRET.length, 'every keystroke of the secret was captured');

    // Wait until a report carrying the secret's window has been stored by the collector.
    const deadline = Date.now() + 120_000;
    let reportBodies: string[] = [];
    for (;;) {
      await fetch(`${base}/api/call/syncNow`, { method: 'POST', headers, body: '{}' });
      const database = new (await import('better-sqlite3')).default(collectorDb, { readonly: true });
      reportBodies = (database.prepare('SELECT body FROM reports ORDER BY seq').all() as { body: string }[]).map((row) => row.body);
      database.close();
      const timingCount = reportBodies.reduce((sum, body) => sum + (JSON.parse(body) as { timing: unknown[] }).timing.length, 0);
      if (timingCount >= 2) break;
      assert.ok(Date.now() < deadline, `the collector stored reports with both windows (has ${reportBodies.length} reports)`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }

    const haystacks: Haystack[] = [];
    for (const channel of REQUEST_CHANNELS) {
      const response = await fetch(`${base}/api/call/${channel}`, { method: 'POST', headers, body: '{}' });
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(response.status, 200, `${channel}: ${body.toString()}`);
      haystacks.push({ name: `view API ${channel}`, data: body });
    }
    const exported = haystacks.find((haystack) => haystack.name === 'view API exportData')!;
    // The audit path (what IT looked at and did) is searched too: its view answer, and the export's
    // audit entries, baseline and agent state.
    assert.ok(haystacks.some((haystack) => haystack.name === 'view API getAudit'));
    assert.ok(/"auditEntries":\[/.test(exported.data.toString()) && exported.data.toString().includes('"agentState":'), 'the export carries the audit entries and the agent state');
    assert.ok(exported.data.toString().includes('"keystrokes":17'), 'the export holds the captured windows');
    const devices = (await (await fetch(`${collector.url}/v1/devices`, { headers: { authorization: `Bearer ${itToken}` } })).json()) as {
      devices: { id: string }[];
    };
    assert.equal(devices.devices.length, 1);
    const itReports = await fetch(`${collector.url}/v1/devices/${devices.devices[0]!.id}/reports`, {
      headers: { authorization: `Bearer ${itToken}` },
    });
    assert.equal(itReports.status, 200);
    haystacks.push({ name: 'collector IT API reports', data: Buffer.from(await itReports.arrayBuffer()) });

    abort.abort();
    await streaming;
    assert.ok(Buffer.concat(streamChunks).toString().includes('windowFlushed'), 'the event stream carried the windows');
    haystacks.push({ name: 'view event stream', data: Buffer.concat(streamChunks) });
    assert.equal(await agent.stop('SIGTERM'), 0);
    await collector.stop();
    haystacks.push(
      { name: 'collector reports', data: reportBodies.join('\n') },
      ...fileHaystacks(collectorDb, 'collector'),
      { name: 'agent stdout', data: agent.stdout() },
      { name: 'agent stderr', data: agent.stderr() },
    );
    assertNoSecret(haystacks, SECRET, keycodes);
  });
});
