/**
 * Unusable databases: the CLI exits once with one clear line and a distinct code, and never
 * modifies the file it refused.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODES } from '../../agent/exit-codes';
import Database from 'better-sqlite3';
import { openDatabase, SCHEMA_VERSION } from '../../agent/store/database';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { sampleWindow } from '../helpers/sample-window';
import { headlessEnv, oneStderrLine, spawnAgent } from '../helpers/agent-process';
import { tempDir } from '../helpers/temp-dir';

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('corrupt and unusable databases', () => {
  it('garbage bytes: DATABASE_CORRUPT, its own exit code, file byte-identical, no side files', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'telltale.db');
    fs.writeFileSync(file, crypto.randomBytes(64 * 1024));
    const before = sha256(file);
    const agent = spawnAgent(['--data-dir', dir], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseCorrupt);
    assert.match(oneStderrLine(agent.stderr()), /^telltale-agent: DATABASE_CORRUPT: .*telltale\.db is not a readable Telltale database .*will not overwrite it\.$/);
    assert.equal(sha256(file), before);
    // Only the data folder's lock file (agent/store/data-folder.ts) joins it: no -wal, no -shm.
    assert.deepEqual(fs.readdirSync(dir).sort(), ['telltale.db', 'telltale.lock']);
  });

  it('garbage in the middle of a real database (header and schema intact) is refused the same way', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'telltale.db');
    const db = openDatabase(file);
    insertTimingWindows(db, Array.from({ length: 400 }, (_, index) => sampleWindow(1_700_000_000_000 + index * 1000)));
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = fs.readFileSync(file);
    const pages = bytes.length / pageSize;
    assert.ok(pages >= 20, `a database of many pages (${pages})`);
    // One page of table data in the middle: the header, the schema and user_version still read fine.
    const middle = Math.floor(pages / 2);
    crypto.randomFillSync(bytes, middle * pageSize, pageSize);
    fs.writeFileSync(file, bytes);
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'the header and schema are intact');
    check.close();
    const before = sha256(file);
    const agent = spawnAgent(['--data-dir', dir, '--no-input'], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseCorrupt, agent.stderr().toString());
    assert.match(oneStderrLine(agent.stderr()), /^telltale-agent: DATABASE_CORRUPT: .*telltale\.db is not a readable Telltale database \(.+\)\. Move it aside/);
    assert.equal(sha256(file), before);
  });

  it('a truncated real database is refused the same way', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'telltale.db');
    const db = openDatabase(file);
    db.exec("INSERT INTO kv (key, value) VALUES ('k', '\"v\"')");
    db.pragma('journal_mode = DELETE');
    db.close();
    // Keep the header's first bytes but smash the rest of page 1 (the schema).
    const bytes = fs.readFileSync(file);
    crypto.randomFillSync(bytes, 100, bytes.length - 100);
    fs.writeFileSync(file, bytes);
    const before = sha256(file);
    const agent = spawnAgent(['--data-dir', dir], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseCorrupt, agent.stderr().toString());
    oneStderrLine(agent.stderr());
    assert.equal(sha256(file), before);
  });

  it('a database from newer code: DATABASE_TOO_NEW, its own exit code, byte-identical', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'telltale.db');
    const db = openDatabase(file);
    db.pragma('user_version = 4242');
    db.pragma('journal_mode = DELETE');
    db.close();
    const before = sha256(file);
    const agent = spawnAgent(['--data-dir', dir], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseTooNew);
    assert.match(oneStderrLine(agent.stderr()), /^telltale-agent: DATABASE_TOO_NEW: .*schema version 4242, newer than this Telltale understands/);
    assert.equal(sha256(file), before);
  });

  it('an unwritable data folder: DATABASE_UNWRITABLE, its own exit code', async (t) => {
    const dir = tempDir(t);
    // Tests may run as root, which ignores permission bits: a data folder "inside" a regular file
    // cannot be created by anyone.
    const blocker = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocker, 'x');
    const agent = spawnAgent(['--data-dir', path.join(blocker, 'data')], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseUnwritable);
    assert.match(oneStderrLine(agent.stderr()), /^telltale-agent: DATABASE_UNWRITABLE: Cannot create the data folder .*not-a-folder\/data: /);
    assert.equal(fs.readFileSync(blocker, 'utf8'), 'x');
  });

  it('a folder the database cannot be written in: DATABASE_UNWRITABLE', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'telltale.db');
    openDatabase(file).close();
    // A read-only bind is what root cannot write through; without one, permission bits serve for other users.
    const isRoot = process.getuid?.() === 0;
    if (isRoot) {
      // Root writes through 0400 files; prove the coded path with a folder SQLite cannot create files in instead:
      // /proc/self is a directory where creating the -wal file fails for everyone.
      const agent = spawnAgent(['--data-dir', '/proc/self/fdinfo'], headlessEnv(), t);
      const code = await agent.exited;
      assert.equal(code, EXIT_CODES.databaseUnwritable, agent.stderr().toString());
      assert.match(oneStderrLine(agent.stderr()), /^telltale-agent: DATABASE_UNWRITABLE: /);
      return;
    }
    fs.chmodSync(file, 0o400);
    fs.chmodSync(dir, 0o500);
    t.after(() => fs.chmodSync(dir, 0o700));
    const agent = spawnAgent(['--data-dir', dir], headlessEnv(), t);
    assert.equal(await agent.exited, EXIT_CODES.databaseUnwritable, agent.stderr().toString());
    oneStderrLine(agent.stderr());
  });
});
