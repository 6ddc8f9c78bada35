/**
 * The agent's audit fetch over real HTTP: a real SQLite file, the real FetchUploader, and a server
 * that signs feeds with protocol/ (test/helpers/audit-feed-server.ts). `startFeed` is the one line
 * to change to run these against the real collector's /v1/device-audit.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { AUDIT_COLLECTOR_KEY, AuditFetchService } from '../../agent/audit/audit-fetch-service';
import { loadOrCreateIdentity, type DeviceIdentity } from '../../agent/identity/device-identity';
import { DEVICE_ID_KEY, ENROLLMENT_KEY } from '../../agent/identity/enrollment';
import { createMemoryLogger } from '../../agent/log';
import { countAuditEntries, listAllAuditEntries } from '../../agent/store/audit-entries';
import { getValue, setValue } from '../../agent/store/kv';
import type { AuditEntry } from '../../common/audit';
import { hashAuditEntry, spkiOf } from '../../protocol/report-crypto';
import { testContext } from '../helpers/agent-context';
import { startAuditFeedServer, type AuditFeedServer } from '../helpers/audit-feed-server';

const DEVICE = 'device-audit-test';

async function setUp(t: { after(fn: () => void | Promise<void>): void }, options: { enrolled?: boolean } = {}) {
  const logger = createMemoryLogger();
  const base = testContext(t, { logger });
  const startFeed = (): Promise<AuditFeedServer> => startAuditFeedServer({ now: () => base.clock.now() });
  const feed = await startFeed();
  t.after(() => feed.close());
  const ctx = { ...base, policy: { ...base.policy, collectorUrl: feed.url } };
  const identity: DeviceIdentity = loadOrCreateIdentity({ dataDir: ctx.dataDir });
  feed.addDevice(DEVICE, identity.publicKey);
  if (options.enrolled !== false) {
    setValue(ctx.db, ENROLLMENT_KEY, { deviceId: DEVICE, publicKey: identity.publicKeySpki, collectorUrl: feed.url, enrolledAt: ctx.clock.now() });
    setValue(ctx.db, DEVICE_ID_KEY, DEVICE);
  }
  const changes: { added: number; newestSeq: number }[] = [];
  ctx.events.on('auditChanged', (change) => changes.push(change));
  // A long period: each test drives fetches itself.
  const service = new AuditFetchService(ctx, { identity, intervalMs: 3_600_000, afterDeliveryDelayMs: 10 });
  return { ctx, logger, feed, identity, service, changes };
}

describe('audit fetch (agent ← collector audit feed over HTTP)', () => {
  it('stores this device\'s entries in pages, pins the collector key, links adjacent entries, and asks only for what is new', async (t) => {
    const { ctx, feed, service, changes } = await setUp(t);
    feed.pageSize = 2;
    // Another device's entries sit between this device's in the one chain.
    feed.record({ action: 'view-device', deviceId: DEVICE });
    feed.record({ action: 'view-reports', deviceId: DEVICE });
    feed.record({ action: 'view-device', deviceId: 'someone-else' });
    feed.record({ action: 'acknowledge', deviceId: DEVICE, findingId: 12, detail: 'Looking into it' });
    feed.record({ action: 'tag', deviceId: DEVICE, detail: 'team-berlin' });
    service.start();
    t.after(() => service.stop());
    const outcome = await service.fetchNow();
    assert.deepEqual(outcome, { kind: 'fetched', stored: 4, pages: 2 });
    assert.deepEqual(listAllAuditEntries(ctx.db).map((entry) => [entry.seq, entry.action]), [[1, 'view-device'], [2, 'view-reports'], [4, 'acknowledge'], [5, 'tag']]);
    assert.deepEqual(listAllAuditEntries(ctx.db), feed.entries.filter((entry) => entry.deviceId === DEVICE), 'stored exactly as signed');
    assert.ok((getValue<string>(ctx.db, AUDIT_COLLECTOR_KEY) ?? '').length > 40, 'the collector key is pinned');
    assert.ok(changes.length >= 1 && changes.at(-1)!.newestSeq === 5);

    feed.record({ action: 'resolve', deviceId: DEVICE, findingId: 12, detail: 'Support session with IT confirmed' });
    const again = await service.fetchNow();
    assert.deepEqual(again, { kind: 'fetched', stored: 1, pages: 1 });
    assert.equal(feed.requests.at(-1)!.after, 5, 'asks from the newest stored entry');
    assert.equal(countAuditEntries(ctx.db), 5);
    // Privacy: the request names the device, a cursor and a time, signed; nothing else can ride along.
    for (const request of feed.requests) assert.deepEqual(request.fields, ['after', 'deviceId', 'sig', 'signedAt']);
  });

  it('a collector without the audit feed (404 on the route) is not an error: one info line, nothing stored', async (t) => {
    const { ctx, feed, service, logger } = await setUp(t);
    feed.routeMissing = true;
    service.start();
    t.after(() => service.stop());
    assert.deepEqual(await service.fetchNow(), { kind: 'unsupported' });
    assert.deepEqual(await service.fetchNow(), { kind: 'unsupported' });
    assert.equal(logger.lines.filter((line) => /no audit feed/.test(line.message)).length, 1);
    assert.equal(logger.lines.filter((line) => line.level === 'error').length, 0);
    assert.equal(countAuditEntries(ctx.db), 0);
  });

  it('fetches after a delivered report', async (t) => {
    const { ctx, feed, service } = await setUp(t);
    service.start();
    t.after(() => service.stop());
    await service.fetchNow();
    feed.record({ action: 'view-report', deviceId: DEVICE, detail: 'report 3' });
    ctx.events.emit('reportDelivered', { seq: 3, duplicate: false });
    const deadline = Date.now() + 10_000;
    while (countAuditEntries(ctx.db) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(countAuditEntries(ctx.db), 1);
  });

  it('refuses a feed signed by another collector key, with one log line however often it is sent, and stores nothing', async (t) => {
    const { ctx, feed, service, logger } = await setUp(t);
    feed.record({ action: 'view-device', deviceId: DEVICE });
    service.start();
    t.after(() => service.stop());
    assert.equal((await service.fetchNow()).kind, 'fetched');
    const pinned = getValue<string>(ctx.db, AUDIT_COLLECTOR_KEY);

    const impostor = crypto.generateKeyPairSync('ed25519');
    feed.useKey(impostor.privateKey);
    feed.record({ action: 'resolve', deviceId: DEVICE, detail: 'forged' });
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await service.fetchNow();
      assert.equal(outcome.kind, 'refused');
    }
    assert.equal(countAuditEntries(ctx.db), 1);
    assert.equal(getValue<string>(ctx.db, AUDIT_COLLECTOR_KEY), pinned, 'the pin never moves');
    const refusals = logger.lines.filter((line) => line.message === 'Audit feed refused');
    assert.equal(refusals.length, 1);
    assert.match(String(refusals[0]!.fields.reason), /other than the one pinned/);
    assert.ok(!String(refusals[0]!.fields.reason).includes(spkiOf(impostor.publicKey)), 'the log names keys by a short tail only');
  });

  it('refuses entries that do not link, are about another device, or were altered, and stores none of the page', async (t) => {
    const { ctx, feed, service } = await setUp(t);
    feed.record({ action: 'view-device', deviceId: DEVICE });
    feed.record({ action: 'acknowledge', deviceId: DEVICE });
    service.start();
    t.after(() => service.stop());
    assert.equal((await service.fetchNow()).kind, 'fetched');
    feed.record({ action: 'note', deviceId: DEVICE, detail: 'n1' });
    feed.record({ action: 'note', deviceId: DEVICE, detail: 'n2' });

    // Re-hashed so each entry verifies alone, but the link to entry 2 is broken.
    feed.alterEntries = (entries) => entries.map((entry, index) => (index === 0 ? rehash({ ...entry, prevHash: 'f'.repeat(64) }) : entry));
    const broken = await service.fetchNow();
    assert.equal(broken.kind, 'refused');
    assert.match(broken.kind === 'refused' ? broken.reason : '', /does not link to entry 2/);

    feed.alterEntries = (entries) => entries.map((entry, index) => (index === 1 ? rehash({ ...entry, deviceId: 'someone-else' }) : entry));
    const foreign = await service.fetchNow();
    assert.match(foreign.kind === 'refused' ? foreign.reason : '', /about another device/);

    feed.alterEntries = (entries) => entries.map((entry) => ({ ...entry, detail: 'never happened' }));
    const altered = await service.fetchNow();
    assert.match(altered.kind === 'refused' ? altered.reason : '', /does not verify/);
    assert.equal(countAuditEntries(ctx.db), 2);

    feed.alterEntries = null;
    assert.deepEqual(await service.fetchNow(), { kind: 'fetched', stored: 2, pages: 1 });
  });

  it('asks nothing before enrollment and nothing without a collector', async (t) => {
    const { feed, service } = await setUp(t, { enrolled: false });
    service.start();
    t.after(() => service.stop());
    assert.deepEqual(await service.fetchNow(), { kind: 'not-enrolled' });
    assert.equal(feed.requests.length, 0);

    const base = testContext(t);
    const quiet = new AuditFetchService(base, { identity: loadOrCreateIdentity({ dataDir: base.dataDir }) });
    quiet.start();
    assert.equal((await quiet.fetchNow()).kind, 'disabled');
    await quiet.stop();
  });

  it('an unreachable collector is an outcome, not an error, and moves nothing', async (t) => {
    const { ctx, feed, service } = await setUp(t);
    await feed.close();
    service.start();
    t.after(() => service.stop());
    const outcome = await service.fetchNow();
    assert.equal(outcome.kind, 'unreachable');
    assert.equal(countAuditEntries(ctx.db), 0);
    assert.equal(getValue(ctx.db, AUDIT_COLLECTOR_KEY), undefined);
  });
});

function rehash(entry: AuditEntry): AuditEntry {
  const { hash: _old, ...fields } = entry;
  return { ...fields, hash: hashAuditEntry(fields) };
}
