/**
 * Which storage errors are the disk's or database's fault (503 STORAGE_UNAVAILABLE) and which stay
 * bugs (500), checked on errors the real drivers raise.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { storageFaultOf } from '../../collector/storage/faults';
import { freePort } from '../../lab/free-port';
import { tempDir } from '../helpers/temp-dir';

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

it('a read-only SQLite file is a storage fault; a constraint violation or a bad query is not', (t) => {
  const file = path.join(tempDir(t), 'x.db');
  const writer = new Database(file);
  writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  writer.exec('INSERT INTO t VALUES (1)');
  const readonly = new Database(file, { readonly: true });
  t.after(() => {
    readonly.close();
    writer.close();
  });
  assert.match(storageFaultOf(thrown(() => readonly.exec('INSERT INTO t VALUES (2)'))) ?? '', /read-only \(SQLITE_READONLY/);
  assert.equal(storageFaultOf(thrown(() => writer.exec('INSERT INTO t VALUES (1)'))), null);
  assert.equal(storageFaultOf(thrown(() => writer.exec('SELECT nope FROM t'))), null);
  assert.equal(storageFaultOf(new Error('bug')), null);
  assert.equal(storageFaultOf(null), null);
});

it('a refused PostgreSQL connection and the SQLSTATEs of a full disk or a shutdown are storage faults', async () => {
  const client = new pg.Client({ connectionString: `postgres://nobody:x@127.0.0.1:${await freePort()}/none`, connectionTimeoutMillis: 3000 });
  const refused = await client.connect().then(() => null, (error: unknown) => error);
  assert.match(storageFaultOf(refused) ?? '', /refused the connection \(ECONNREFUSED\)/);
  assert.match(storageFaultOf(Object.assign(new Error('could not extend file'), { code: '53100' })) ?? '', /disk is full \(53100\)/);
  assert.match(storageFaultOf(Object.assign(new Error('terminating connection'), { code: '57P01' })) ?? '', /shutting down/);
  assert.match(storageFaultOf(new Error('Connection terminated unexpectedly')) ?? '', /connection failed/);
  assert.match(storageFaultOf(new Error('wrapped', { cause: Object.assign(new Error('full'), { code: 'SQLITE_FULL' }) })) ?? '', /SQLITE_FULL/);
  assert.equal(storageFaultOf(Object.assign(new Error('duplicate key'), { code: '23505' })), null);
});
