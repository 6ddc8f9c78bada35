/**
 * The data folder: one agent at a time (its lock), and modes 0700 / 0600 whatever the umask and
 * whatever was there before. The collector's SQLite files too.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Agent, DATABASE_FILE_NAME } from '../../agent/agent';
import { PLAIN_KEY_FILE } from '../../agent/identity/key-protector';
import { createMemoryLogger } from '../../agent/log';
import { LOCK_FILE_NAME } from '../../agent/store/data-folder';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import { sampleWindow } from '../helpers/sample-window';
import { tempDir } from '../helpers/temp-dir';

function create(dir: string) {
  return Agent.create({ dataDir: dir, managedPolicyPath: path.join(dir, 'none.json'), inputSource: null, view: null, logger: createMemoryLogger() });
}

function modeOf(file: string): string {
  return (fs.statSync(file).mode & 0o777).toString(8);
}

/** Run `fn` under a wide-open umask, so only explicit modes can make files private. */
async function withUmask<T>(umask: number, fn: () => Promise<T>): Promise<T> {
  const previous = process.umask(umask);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}

describe('the data folder', () => {
  it('holds one agent at a time: a second gets AGENT_ALREADY_RUNNING until the first stops', async (t) => {
    const dir = tempDir(t);
    const first = await create(dir);
    assert.ok(first.ok);
    t.after(() => first.value.stop());
    const second = await create(dir);
    assert.equal(!second.ok && second.error.code, 'AGENT_ALREADY_RUNNING');
    assert.match(!second.ok ? second.error.message : '', /Another Telltale agent is already running on .* \(it holds telltale\.lock\)/);
    assert.equal(first.value.context.db.open, true, 'the first agent is untouched');

    await first.value.stop();
    const third = await create(dir);
    assert.ok(third.ok, 'the lock is released on stop');
    await third.value.stop();
  });

  it('releases the lock when creation fails after taking it', async (t) => {
    const dir = tempDir(t);
    fs.writeFileSync(path.join(dir, DATABASE_FILE_NAME), Buffer.alloc(8192, 7));
    const corrupt = await create(dir);
    assert.equal(!corrupt.ok && corrupt.error.code, 'DATABASE_CORRUPT');
    fs.rmSync(path.join(dir, DATABASE_FILE_NAME));
    const next = await create(dir);
    assert.ok(next.ok, JSON.stringify(!next.ok && next.error));
    await next.value.stop();
  });

  it('creates the folder 0700 and every file 0600 under a 000 umask, and tightens an existing 0755 folder and 0644 files', async (t) => {
    if (process.platform === 'win32') return t.skip('modes are ACLs on Windows');
    const parent = tempDir(t);
    for (const existing of [false, true]) {
      const dir = path.join(parent, existing ? 'existing' : 'fresh', 'data');
      if (existing) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
        fs.chmodSync(dir, 0o755);
        for (const name of [DATABASE_FILE_NAME, LOCK_FILE_NAME]) {
          fs.writeFileSync(path.join(dir, name), '');
          fs.chmodSync(path.join(dir, name), 0o644);
        }
      }
      await withUmask(0, async () => {
        const created = await create(dir);
        assert.ok(created.ok, JSON.stringify(!created.ok && created.error));
        const agent = created.value;
        await agent.start();
        insertTimingWindows(agent.context.db, [sampleWindow(Date.now())]);
        const files = [DATABASE_FILE_NAME, `${DATABASE_FILE_NAME}-wal`, `${DATABASE_FILE_NAME}-shm`, LOCK_FILE_NAME, PLAIN_KEY_FILE];
        assert.deepEqual(
          files.map((name) => [name, modeOf(path.join(dir, name))]),
          files.map((name) => [name, '600']),
          existing ? 'tightened' : 'created private',
        );
        assert.equal(modeOf(dir), '700');
        await agent.stop();
      });
    }
  });

  it('leaves a shared sticky folder (a /tmp-like --data-dir) as it is', async (t) => {
    if (process.platform === 'win32') return t.skip('modes are ACLs on Windows');
    const dir = path.join(tempDir(t), 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o1777);
    const created = await create(dir);
    assert.ok(created.ok);
    await created.value.stop();
    assert.equal((fs.statSync(dir).mode & 0o7777).toString(8), '1777');
    assert.equal(modeOf(path.join(dir, DATABASE_FILE_NAME)), '600');
  });

  it('the collector database and its -wal/-shm are 0600 under a 000 umask, an older 0644 file tightened', async (t) => {
    if (process.platform === 'win32') return t.skip('modes are ACLs on Windows');
    const dir = tempDir(t);
    const fresh = path.join(dir, 'new-folder', 'collector.db');
    const old = path.join(dir, 'old.db');
    fs.writeFileSync(old, '');
    fs.chmodSync(old, 0o644);
    await withUmask(0, async () => {
      for (const file of [fresh, old]) {
        const storage = openSqliteStorage(file);
        try {
          for (const name of [file, `${file}-wal`, `${file}-shm`]) assert.equal(modeOf(name), '600', name);
        } finally {
          await storage.close();
        }
      }
    });
    assert.equal(modeOf(path.dirname(fresh)), '700');
  });
});
