/**
 * The agent on a disk that fills up: the real CLI with its data folder on a tiny tmpfs the test
 * mounts, syncing to a real collector. Full while running: it stays up, says so once, and recovers
 * when space returns, with every report and window committed before still there. Full or read-only
 * at start: one line and DATABASE_UNWRITABLE's exit code.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { EXIT_CODES } from '../../agent/exit-codes';
import { acquireInstanceLock } from '../../agent/store/data-folder';
import { openDatabase } from '../../agent/store/database';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { headlessEnv, oneStderrLine, spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { startCollectorProcess } from '../helpers/collector-process';
import { sampleWindow } from '../helpers/sample-window';
import { tempDir } from '../helpers/temp-dir';
import { mountTinyFs } from '../helpers/tiny-fs';

const SECRET = 'disk-full-enrollment-secret';
const FULL_LINE = /^Cannot write local data: the disk is full\./;
const RECOVERED_LINE = 'Local data can be written again';

interface OutboxRow {
  seq: number;
  hash: string;
  state: string;
}

function readAgentDb(file: string): { outbox: OutboxRow[]; windows: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const outbox = db.prepare('SELECT seq, hash, state FROM outbox ORDER BY seq').all() as OutboxRow[];
    const windows = (db.prepare('SELECT count(*) AS n FROM timing_windows').get() as { n: number }).n;
    return { outbox, windows };
  } finally {
    db.close();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function messages(agent: AgentProcess, pattern: RegExp | string): Record<string, unknown>[] {
  return agent.lines.filter((line) => (typeof pattern === 'string' ? line.message === pattern : pattern.test(String(line.message))));
}

/** A data folder on the tiny file system with a database holding `windows` committed windows. */
function seededDataDir(dir: string, windows: number): string {
  const dataDir = path.join(dir, 'data');
  const db = openDatabase(path.join(dataDir, 'telltale.db'));
  const now = Date.now();
  insertTimingWindows(db, Array.from({ length: windows }, (_, index) => sampleWindow(now - 60_000 + index * 1000)));
  db.close();
  return dataDir;
}

async function policyFile(t: TestContext): Promise<string> {
  const work = tempDir(t);
  const collector = await startCollectorProcess({ dbFile: path.join(work, 'collector.db'), enrollmentSecret: SECRET, itToken: 'disk-full-it-token' });
  t.after(() => collector.stop());
  const file = path.join(work, 'policy.json');
  // Scans only at start: a later scan records what other processes on this host open and close, and
  // such a small write can fit the WAL's reused pages on a full disk and truly succeed, which would
  // blur this test's "no recovery while full".
  fs.writeFileSync(file, JSON.stringify({ collectorUrl: collector.url, enrollmentSecret: SECRET, intervals: { reportSeconds: 10, heartbeatSeconds: 10, scanSeconds: 3600 } }));
  return file;
}

describe('the agent on a full disk', () => {
  it('fills up while running: stays up, says so once, recovers, loses nothing committed', async (t) => {
    const tiny = mountTinyFs(t, 16 * 1024 * 1024);
    if (tiny === null) return;
    const dataDir = seededDataDir(tiny.dir, 3);
    const dbFile = path.join(dataDir, 'telltale.db');
    const agent = spawnAgent(['--data-dir', dataDir, '--policy', await policyFile(t), '--no-input'], headlessEnv(), t);
    await agent.waitForLine((line) => line.message === 'Agent running', 'agent running');

    // The catch-up report carries the seeded windows; wait until the collector has acknowledged it.
    const before = await waitFor('a delivered report', () => {
      const read = readAgentDb(dbFile);
      return read.outbox.some((row) => row.state === 'delivered' && row.seq >= 2) ? read : undefined;
    });
    assert.equal(before.windows, 3);

    tiny.fill();
    assert.equal(fs.statfsSync(tiny.dir).bavail, 0, 'the file system is full');
    // The next heartbeat (every 10 s) cannot be written.
    await agent.waitForLine((line) => FULL_LINE.test(String(line.message)), 'the disk-full line', 30_000);
    // Two more heartbeat periods on a full disk: still running, still one line.
    await new Promise((resolve) => setTimeout(resolve, 21_000));
    assert.equal(agent.child.exitCode, null, `agent still running; stderr: ${agent.stderr().toString()}`);
    const full = messages(agent, FULL_LINE);
    assert.equal(full.length, 1, 'one line for the condition, not one per failed write');
    assert.equal(full[0]!.level, 'error');
    assert.equal(full[0]!.condition, 'full');
    assert.equal(full[0]!.code, 'SQLITE_FULL');
    assert.equal(messages(agent, RECOVERED_LINE).length, 0);

    tiny.free();
    await agent.waitForLine((line) => line.message === RECOVERED_LINE, 'the recovery line', 30_000);
    const lastBefore = before.outbox[before.outbox.length - 1]!.seq;
    const after = await waitFor('a new report delivered after space returned', () => {
      const read = readAgentDb(dbFile);
      return read.outbox.some((row) => row.seq > lastBefore && row.state === 'delivered') ? read : undefined;
    });

    assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr().toString());
    assert.equal(agent.stderr().toString(), '');
    const final = readAgentDb(dbFile);
    for (const row of before.outbox) {
      const kept = final.outbox.find((candidate) => candidate.seq === row.seq);
      assert.equal(kept?.hash, row.hash, `report ${row.seq} kept with its hash`);
    }
    assert.ok(final.outbox.length >= after.outbox.length);
    assert.equal(final.windows, 3, 'the committed windows are still there');
  });

  for (const restart of [true, false]) {
    it(`starting on a full disk${restart ? ' after an earlier run' : ' with no lock file yet'}: DATABASE_UNWRITABLE in one line, its exit code`, async (t) => {
      const tiny = mountTinyFs(t, 4 * 1024 * 1024);
      if (tiny === null) return;
      const dataDir = seededDataDir(tiny.dir, 2);
      if (restart) acquireInstanceLock(dataDir).release();
      tiny.fill();
      const agent = spawnAgent(['--data-dir', dataDir, '--no-input'], headlessEnv(), t);
      assert.equal(await agent.exited, EXIT_CODES.databaseUnwritable, agent.stderr().toString());
      const line = oneStderrLine(agent.stderr());
      assert.match(line, /^telltale-agent: DATABASE_UNWRITABLE: The disk holding .*\/data.* is full .*Free some space and start again\.$/);
      if (restart) assert.match(line, /telltale\.db is full \(\d+ bytes free\)/);
      tiny.free();
      assert.equal(readAgentDb(path.join(dataDir, 'telltale.db')).windows, 2);
    });
  }

  it('starting on a read-only disk: DATABASE_UNWRITABLE in one line, its exit code', async (t) => {
    const tiny = mountTinyFs(t, 4 * 1024 * 1024);
    if (tiny === null) return;
    const dataDir = seededDataDir(tiny.dir, 2);
    tiny.setWritable(false);
    const agent = spawnAgent(['--data-dir', dataDir, '--no-input'], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseUnwritable, agent.stderr().toString());
    assert.match(oneStderrLine(agent.stderr()), /^telltale-agent: DATABASE_UNWRITABLE: /);
    tiny.setWritable(true);
    assert.equal(readAgentDb(path.join(dataDir, 'telltale.db')).windows, 2);
  });
});
