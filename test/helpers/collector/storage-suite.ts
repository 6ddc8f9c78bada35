/**
 * The collector's storage behaviour suite, run against SQLite (test/unit/collector-storage.test.ts)
 * and a real PostgreSQL (test/integration/collector-postgres.test.ts), mostly through the HTTP API
 * via inject. Every rejection case also checks that nothing was stored.
 */
import type { TestContext } from 'node:test';
import { BATCH_CASES } from './storage-cases/batch';
import { CHAIN_CASES } from './storage-cases/chain';
import { DEVICE_CASES } from './storage-cases/devices';
import { EDGE_CASES } from './storage-cases/edge';
import { IT_API_CASES } from './storage-cases/it-api';
import { ISOLATION_CASES } from './storage-cases/isolation';
import { REJECTION_CASES } from './storage-cases/rejections';
import { SILENCE_CASES } from './storage-cases/silence';
import { TRIAGE_CASES } from './storage-cases/triage';
import { StorageKit, type OpenStorage, type StorageCase } from './storage-kit';

export type { OpenStorage } from './storage-kit';

/** Every case against `openStorage`, plus `extra` cases that apply to this storage only. */
export async function runStorageSuite(t: TestContext, openStorage: OpenStorage, extra: readonly StorageCase[] = []): Promise<void> {
  for (const storageCase of [...CHAIN_CASES, ...REJECTION_CASES, ...IT_API_CASES, ...SILENCE_CASES, ...BATCH_CASES, ...ISOLATION_CASES, ...EDGE_CASES, ...DEVICE_CASES, ...TRIAGE_CASES, ...extra]) {
    await t.test(storageCase.name, (t) => storageCase.run(new StorageKit(t, openStorage)));
  }
}
