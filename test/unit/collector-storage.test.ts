import { test } from 'node:test';
import { runStorageSuite } from '../../collector/testing/storage-suite';

test('collector storage behaviour (SQLite)', async (t) => {
  await runStorageSuite(t, async () => undefined);
});
