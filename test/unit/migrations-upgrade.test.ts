import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openDatabase, SCHEMA_VERSION } from '../../agent/store/database';
import { getValue, setValue } from '../../agent/store/kv';
import { MIGRATIONS } from '../../agent/store/migrations/index';
import { insertTimingWindows, listTimingWindows } from '../../agent/store/timing-windows';
import { TelltaleError } from '../../common/result';
import { sampleWindow } from '../helpers/sample-window';
import { tempDir } from '../helpers/temp-dir';

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('migrations', () => {
  it('has one step per version, in order', () => {
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
    MIGRATIONS.forEach((step, index) => assert.equal(step.version, index + 1, step.name));
  });

  it('creates a fresh database at the latest version with incremental auto-vacuum', (t) => {
    const file = path.join(tempDir(t), 'fresh.db');
    const db = openDatabase(file);
    t.after(() => db.close());
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  });

  for (let from = 1; from < MIGRATIONS.length; from++) {
    it(`upgrades a version-${from} database to ${MIGRATIONS.length} and keeps its data`, (t) => {
      const file = path.join(tempDir(t), `v${from}.db`);
      const old = openDatabase(file, { migrations: MIGRATIONS.slice(0, from) });
      assert.equal(old.pragma('user_version', { simple: true }), from);
      // Version 1 already has timing_windows and kv; rows written there must survive every later step.
      insertTimingWindows(old, [sampleWindow(1000), sampleWindow(2000)]);
      setValue(old, 'device', { id: 'abc' });
      old.close();

      const db = openDatabase(file);
      t.after(() => db.close());
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(
        listTimingWindows(db).map((row) => row.window),
        [sampleWindow(1000), sampleWindow(2000)],
      );
      assert.deepEqual(getValue(db, 'device'), { id: 'abc' });
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    });
  }

  it('refuses a database from a far newer version with DATABASE_TOO_NEW and leaves it byte-identical', (t) => {
    const file = path.join(tempDir(t), 'future.db');
    const db = openDatabase(file);
    insertTimingWindows(db, [sampleWindow(1000)]);
    db.pragma('user_version = 999');
    db.pragma('journal_mode = DELETE'); // fold the WAL in so the file alone is the whole state
    db.close();
    const before = sha256(file);
    assert.throws(
      () => openDatabase(file),
      (error: unknown) => error instanceof TelltaleError && error.code === 'DATABASE_TOO_NEW' && error.message.includes('999'),
    );
    assert.equal(sha256(file), before);
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), 999);
    check.close();
  });

  it('refuses garbage with DATABASE_CORRUPT and leaves it byte-identical', (t) => {
    const file = path.join(tempDir(t), 'garbage.db');
    fs.writeFileSync(file, crypto.randomBytes(8192));
    const before = sha256(file);
    assert.throws(
      () => openDatabase(file),
      (error: unknown) => error instanceof TelltaleError && error.code === 'DATABASE_CORRUPT' && error.message.includes(file),
    );
    assert.equal(sha256(file), before);
    assert.equal(fs.existsSync(`${file}-wal`), false);
  });
});
