/**
 * kill -9 while the agent is writing: every window the agent reported as committed is on disk,
 * and the database passes integrity_check, at several kill points, reopening the same files each
 * round (so each round also starts on a database the previous round killed).
 *
 * Input is real: the agent hooks a real Xvfb display while the XTEST injector types fast bursts,
 * so windows (10 keystrokes each) are committed every ~0.3 s while the kills land.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openDatabase } from '../../agent/store/database';
import { listTimingWindows } from '../../agent/store/timing-windows';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { tempDir } from '../helpers/temp-dir';
import { requireTools } from '../helpers/tools';
import { startXvfb } from '../../lab/xvfb';
import { buildInjector, inject } from '../../lab/injector';
import { steadyTyping } from '../../lab/schedules';

/** After how many windows (committed in this round) each round is killed. */
const KILL_AFTER_WINDOWS = [1, 3, 6, 2];

describe('kill -9 during writes', () => {
  it('keeps every committed window and an intact database across repeated SIGKILLs', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'gcc'])) return;
    buildInjector();
    const x = await startXvfb();
    let agent: AgentProcess | null = null;
    let typing: Promise<void> | null = null;
    t.after(async () => {
      await agent?.stop('SIGKILL');
      await typing?.catch(() => undefined);
      await x.stop();
    });
    const dir = tempDir(t);
    const policy = path.join(dir, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ intervals: { windowSeconds: 600, windowKeystrokes: 10 } }));
    const dataDir = path.join(dir, 'data');
    const databasePath = path.join(dataDir, 'telltale.db');
    const committed = new Set<number>();

    for (const [round, killAfter] of KILL_AFTER_WINDOWS.entries()) {
      agent = spawnAgent(['--policy', policy, '--data-dir', dataDir], x.env);
      await agent.waitForLine((line) => line.message === 'Input timing capture started', `round ${round}: capture`);
      // Keep typing through the round: 200 keystrokes, 30 ms apart (a window every 0.3 s).
      typing = inject(steadyTyping(200, { dwellMs: 15, flightMs: 30, keysyms: ['a', 's', 'd'] }), x.env).then(
        () => undefined,
        () => undefined,
      );
      const current = agent;
      const windowsThisRound = (): number => current.lines.filter((line) => line.message === 'window').length;
      const deadline = Date.now() + 60_000;
      while (windowsThisRound() < killAfter) {
        if (Date.now() > deadline) throw new Error(`round ${round}: no windows; stderr ${current.stderr().toString()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(await agent.stop('SIGKILL'), 'SIGKILL');
      for (const line of agent.lines) if (line.message === 'window') committed.add(line.id as number);
      await typing;

      // Check with a plain connection first (no migration, no writes), then through openDatabase.
      const check = new Database(databasePath);
      assert.equal(check.pragma('integrity_check', { simple: true }), 'ok', `round ${round}`);
      check.close();
      const db = openDatabase(databasePath);
      const stored = new Set(listTimingWindows(db, { limit: 100_000 }).map((row) => row.id));
      db.close();
      const missing = [...committed].filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], `round ${round}: committed windows missing after kill -9`);
      assert.ok(stored.size >= committed.size);
    }
    t.diagnostic(`${KILL_AFTER_WINDOWS.length} SIGKILL rounds, ${committed.size} committed windows all present, integrity ok`);
  });
});
