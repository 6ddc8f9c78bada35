/**
 * The device verdict end to end, on a real relayed session: the whole headless agent (every service,
 * real /proc and socket scans, real hook, real SQLite) runs on the lab's target display while a
 * held-out typist is relayed to it through the TigerVNC viewer, the delay proxy (110 ms, 40 ms
 * jitter) and x11vnc. The agent must find the tool, its live session and the relayed-looking typing
 * on its own, and combine them into a high verdict whose chain names both.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { openDatabase } from '../../agent/store/database';
import { listOpenFindings } from '../../agent/store/findings';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { tempDir } from '../helpers/temp-dir';
import { requireTools } from '../helpers/tools';
import { LAB_TOOLS, startLab, type Lab } from '../lab/lab';
import { loadFineTypingSessions, typingSchedule } from '../lab/schedules';

describe('device verdict on a relayed session (full agent in the lab)', () => {
  it('finds x11vnc in a live session and relayed typing, and calls the device high risk', async (t) => {
    if (!requireTools(t, LAB_TOOLS)) return;
    let lab: Lab | null = null;
    let agent: AgentProcess | null = null;
    t.after(async () => {
      // The hooked agent must exit before its X server does.
      await agent?.stop('SIGKILL');
      await lab?.stop();
    });
    lab = await startLab({ upstream: { delayMs: 110, jitterMs: 40 }, seed: 5, verbose: true });
    const dir = tempDir(t);
    const policy = path.join(dir, 'policy.json');
    // 10 s windows: the typing's last partial window is flushed (and scored) before the agent stops,
    // so the final decision pools all 40 s of it, not only the first 50 keystrokes.
    fs.writeFileSync(policy, JSON.stringify({ intervals: { scanSeconds: 5, windowSeconds: 10 } }));
    const dataDir = path.join(dir, 'data');
    agent = spawnAgent(['--policy', policy, '--data-dir', dataDir], lab.target.env, t);
    await agent.waitForLine((line) => line.message === 'Input timing capture started', 'capture to start');

    // User 3's held-out session 4, 40 s of it (the CI lab's typist; see lab-relay.test.ts).
    const session = loadFineTypingSessions().find((s) => s.user === 3 && s.session === 4)!;
    await lab.run(typingSchedule(session.keystrokes, { maxDurationMs: 40_000 }).lines, 'remote');
    // Let the last window flush (10 s) and one more detection scan run, then stop the agent cleanly.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    assert.equal(await agent.stop('SIGTERM'), 0, 'the agent stops cleanly');

    const db = openDatabase(path.join(dataDir, 'telltale.db'));
    t.after(() => db.close());
    const open = listOpenFindings(db);
    const kinds = new Set(open.map((f) => f.kind));
    const windows = agent.lines.filter((line) => line.message === 'window');
    const seen = `${windows.length} windows, ${windows.reduce((n, line) => n + Number(line.keystrokes ?? 0), 0)} keystrokes, ${windows.reduce((n, line) => n + Number(line.coincidentEvents ?? 0), 0)} ties`;
    assert.ok(kinds.has('relayed-input-timing'), `relayed typing found; open: ${[...kinds].join(', ')}; the agent saw ${seen}`);
    const vncSession = open.find((f) => f.kind === 'remote-session-active');
    assert.ok(vncSession, `x11vnc's live session found; open: ${[...kinds].join(', ')}`);
    assert.match(vncSession.title, /x11vnc/);
    const verdict = open.find((f) => f.kind === 'device-verdict');
    assert.ok(verdict, 'a verdict is open');
    assert.equal(verdict.severity, 'high');
    const chain = (verdict.evidence as { chain?: string[] }).chain ?? [];
    assert.ok(chain.some((line) => /relayed/i.test(line)) && chain.some((line) => /x11vnc/.test(line)), `chain: ${chain.join(' | ')}`);
    t.diagnostic(`the agent saw ${seen}; verdict: ${verdict.explanation}`);
  });
});
