/**
 * Injected input under a real X server, end to end: the headless agent with the real hook and the
 * real XInput2 helper (dist/native/telltale-xi2, built by scripts/build.mjs), real SQLite.
 *
 * 1. Keys typed through XTEST (lab/injector.c) open an `injected-input` finding, and the stored
 *    windows count them as injected, never as device presses.
 * 2. A real x11vnc serves the display and a real VNC viewer on a second display is connected (the
 *    agent's scanner sees the live session); keys typed into the viewer reach the served display
 *    the way every VNC server delivers them, through XTEST, and the verdict turns high.
 *
 * Xvfb has no physical input devices, so the device side (a person's own keyboard and mouse) is
 * covered by the decision logic's unit tests (test/unit/input-attribution.test.ts), not here.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { buildInjector, inject } from '../../lab/injector';
import { lineMovement, steadyTyping } from '../../lab/schedules';
import { freePort } from '../../lab/free-port';
import { startXvfb, type XDisplay } from '../../lab/xvfb';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { tempDir } from '../helpers/temp-dir';
import { requireCondition, requireTools } from '../helpers/tools';

const HELPER = path.resolve(import.meta.dirname, '..', '..', 'dist', 'native', 'telltale-xi2');

interface OpenFinding {
  readonly key: string;
  readonly kind: string;
  readonly severity: string;
  readonly evidence: Record<string, unknown>;
}

/** The agent's open findings, read through a second, read-only connection (WAL lets it read live). */
function openFindings(databasePath: string): OpenFinding[] {
  if (!fs.existsSync(databasePath)) return [];
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT key, kind, severity, evidence FROM findings WHERE closed_at IS NULL').all() as { key: string; kind: string; severity: string; evidence: string }[];
    return rows.map((row) => ({ ...row, evidence: JSON.parse(row.evidence) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

async function pollUntil<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = probe();
    } catch {
      // The agent may hold a write lock for a moment: read again.
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function startAgent(t: { after(fn: () => unknown): void }, env: NodeJS.ProcessEnv, injectedInput: Record<string, unknown> = {}): { agent: AgentProcess; databasePath: string } {
  const dir = tempDir(t);
  const policy = path.join(dir, 'policy.json');
  fs.writeFileSync(policy, JSON.stringify({ intervals: { windowSeconds: 5, windowKeystrokes: 12, scanSeconds: 5 }, injectedInput }));
  const dataDir = path.join(dir, 'data');
  const agent = spawnAgent(['--policy', policy, '--data-dir', dataDir], env);
  return { agent, databasePath: path.join(dataDir, 'telltale.db') };
}

describe('injected input under Xvfb', () => {
  it('XTEST-typed keys and moves open injected-input findings, counted as injected (policy injectedInput.pointerMotion)', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool', 'gcc'])) return;
    if (!requireCondition(t, fs.existsSync(HELPER), `${HELPER} was not built (needs cc and libxi-dev)`)) return;
    buildInjector();
    const x = await startXvfb();
    let agent: AgentProcess | null = null;
    t.after(async () => {
      await agent?.stop('SIGKILL');
      await x.stop();
    });
    const started = startAgent(t, x.env, { pointerMotion: true });
    agent = started.agent;
    await agent.waitForLine((line) => line.message === 'Input attribution started', 'attribution to start');

    const typing = steadyTyping(24, { dwellMs: 60, flightMs: 150 });
    const moves = lineMovement(60, { from: [100, 100], dx: 3, dy: 2, intervalMs: 10, startMs: 24 * 150 + 200 });
    await inject([...typing, ...moves], x.env);
    const keys = await pollUntil('an injected-input finding for keys', 30_000, () =>
      openFindings(started.databasePath).find((finding) => finding.key === 'injected:input:keys'),
    );
    assert.equal(keys.kind, 'injected-input');
    assert.equal(keys.severity, 'high');
    assert.equal(keys.evidence.device, 0, JSON.stringify(keys.evidence));
    assert.ok((keys.evidence.injected as number) >= 12, JSON.stringify(keys.evidence));
    await pollUntil('an injected-input finding for the pointer', 30_000, () =>
      openFindings(started.databasePath).find((finding) => finding.key === 'injected:input:pointer'),
    );
    // The CLI's window lines carry the counts: injected presses, no device presses.
    const windows = agent.lines.filter((line) => line.message === 'window');
    const injectedKeys = windows.reduce((sum, line) => sum + Number(line.injectedKeyPresses ?? 0), 0);
    assert.ok(injectedKeys >= 12, `injected key presses in windows: ${injectedKeys}`);
    assert.equal(windows.reduce((sum, line) => sum + Number(line.deviceKeyPresses ?? 0), 0), 0);
    assert.equal(await agent.stop('SIGTERM'), 0);
  });

  it('by default XTEST clicks open the pointer finding and XTEST motion is not counted', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool', 'gcc'])) return;
    if (!requireCondition(t, fs.existsSync(HELPER), `${HELPER} was not built (needs cc and libxi-dev)`)) return;
    buildInjector();
    const x = await startXvfb();
    let agent: AgentProcess | null = null;
    t.after(async () => {
      await agent?.stop('SIGKILL');
      await x.stop();
    });
    const started = startAgent(t, x.env);
    agent = started.agent;
    await agent.waitForLine((line) => line.message === 'Input attribution started', 'attribution to start');

    const moves = lineMovement(100, { from: [300, 300], dx: 2, dy: 1, intervalMs: 10 });
    const clicks: string[] = [];
    for (let i = 0; i < 45; i++) clicks.push(`${1200 + i * 60} click 1`);
    await inject([...moves, ...clicks], x.env);
    const pointer = await pollUntil('an injected-input finding for the pointer', 30_000, () =>
      openFindings(started.databasePath).find((finding) => finding.key === 'injected:input:pointer'),
    );
    assert.equal(pointer.evidence.device, 0, JSON.stringify(pointer.evidence));
    const windows = () => agent!.lines.filter((line) => line.message === 'window');
    await pollUntil('windows holding the clicks', 15_000, () => (windows().reduce((sum, line) => sum + Number(line.injectedClicks ?? 0), 0) >= 45 ? true : undefined));
    assert.ok(windows().reduce((sum, line) => sum + Number(line.moves ?? 0), 0) >= 90, 'the hook saw the moves');
    assert.equal(windows().reduce((sum, line) => sum + Number(line.injectedPointerEvents ?? 0), 0), 0, 'no motion counted without pointerMotion');
    assert.equal(await agent.stop('SIGTERM'), 0);
  });

  it('keys typed through a live VNC session make the verdict high', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool', 'x11vnc', 'vncviewer', 'ss'])) return;
    if (!requireCondition(t, fs.existsSync(HELPER), `${HELPER} was not built (needs cc and libxi-dev)`)) return;
    let served: XDisplay | undefined = undefined;
    let viewing: XDisplay | undefined = undefined;
    let server: ChildProcess | undefined = undefined;
    let viewer: ChildProcess | undefined = undefined;
    let agent: AgentProcess | null = null;
    t.after(async () => {
      await agent?.stop('SIGKILL');
      await stopChild(viewer);
      await stopChild(server);
      await viewing?.stop();
      await served?.stop();
    });
    served = await startXvfb();
    viewing = await startXvfb({ focusWindow: false });
    const port = await freePort();
    server = spawn('x11vnc', ['-display', served.display, '-rfbport', String(port), '-localhost', '-forever', '-shared', '-nopw', '-quiet'], { env: served.env, stdio: 'ignore' });
    const started = startAgent(t, served.env);
    agent = started.agent;
    await agent.waitForLine((line) => line.message === 'Input attribution started', 'attribution to start');

    viewer = spawn('vncviewer', ['-SecurityTypes', 'None', '-Shared', `127.0.0.1::${port}`], { env: viewing.env, stdio: 'ignore' });
    const session = await pollUntil('the agent to see our VNC session', 60_000, () =>
      openFindings(started.databasePath).find((finding) => finding.kind === 'remote-session-active' && finding.evidence.localPort === port),
    );
    // Nobody has typed yet: no injected input.
    assert.equal(openFindings(started.databasePath).filter((finding) => finding.kind === 'injected-input').length, 0);

    // Type into the viewer's window on the second display; x11vnc injects the keys on the first.
    const window = await pollUntil('the viewer window', 30_000, () => {
      const found = spawnSync('xdotool', ['search', '--name', 'TigerVNC'], { env: viewing!.env }).stdout.toString().trim().split('\n')[0];
      return found ? found : undefined;
    });
    spawnSync('xdotool', ['windowfocus', '--sync', window], { env: viewing.env });
    const firstKeyAt = Date.now();
    const typed = spawnSync('xdotool', ['type', '--delay', '60', 'the quick brown fox jumps'], { env: viewing.env });
    assert.equal(typed.status, 0, typed.stderr.toString());
    const verdict = await pollUntil('verdict high on injected input with our session', 60_000, () =>
      openFindings(started.databasePath).find(
        (finding) =>
          finding.kind === 'device-verdict' &&
          finding.severity === 'high' &&
          (finding.evidence.basis as string[]).includes('injected:input:keys') &&
          (finding.evidence.basis as string[]).includes(session.key),
      ),
    );
    t.diagnostic(`first injected key to verdict high: ${Date.now() - firstKeyAt} ms (12 keystrokes close a window; machine under load)`);
    assert.match(String(verdict.evidence.reason), /input produced by a program/);
    assert.equal(await agent.stop('SIGTERM'), 0);
  });
});
