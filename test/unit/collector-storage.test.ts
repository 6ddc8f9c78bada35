import { test } from 'node:test';
import { openSqliteStorage } from '../../collector/storage/sqlite';
import { tempDatabaseFile } from '../helpers/collector/harness';
import { SQLITE_FILE_CASES } from '../helpers/collector/storage-cases/isolation';
import { runStorageSuite } from '../helpers/collector/storage-suite';

test('collector storage behaviour (SQLite)', async (t) => {
  await runStorageSuite(t, async (t) => openSqliteStorage(tempDatabaseFile(t)), SQLITE_FILE_CASES);
});
