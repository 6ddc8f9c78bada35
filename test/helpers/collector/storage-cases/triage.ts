/**
 * Storage cases: IT triage at fleet scale. The device list's sorts, filters, search and keyset pages;
 * the incident queue (newest change first, so a new finding is always on the first page); the triage
 * loop with its hash-chained audit log; and the signed audit feed a device fetches about itself.
 */
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DeviceAuditFeedSchema, type AuditEntry, type DeviceAuditFeed } from '../../../../common/audit';
import { deviceFilters, registerDeviceFilter } from '../../../../collector/device-filters';
import { verifyAuditChain } from '../../../../collector/storage/audit-log';
import { deleteDevice } from '../../../../collector/storage/devices';
import { listDevicePage, SEARCH_CANDIDATES, type DeviceQuery } from '../../../../collector/storage/fleet';
import { signDeviceAuditRequest, verifyAuditFeed } from '../../../../protocol/report-crypto';
import { ManualSchedule, startTestCollector, TEST_IT_TOKEN, TEST_TRIAGE_ACTOR, type TestCollector } from '../harness';
import { sampleFinding, type TestDevice } from '../make-reports';
import { errorCode, type StorageCase, type StorageKit } from '../storage-kit';

// A registered filter, as the laptop-farm module adds one: devices whose hostname starts with a prefix.
if (!deviceFilters().some((filter) => filter.name === 'hostPrefix')) {
  registerDeviceFilter({
    name: 'hostPrefix',
    description: 'letters only',
    maxLength: 20,
    toSql: (value) => (/^[a-z]+$/.test(value) ? { where: 'd.hostname LIKE ?', params: [`${value}%`] } : null),
  });
}

interface ListedDevice {
  id: string;
  hostname: string;
  risk: string;
  silent: boolean;
  tags: string[];
  retiredAt: number | null;
}
interface DevicePage {
  devices: ListedDevice[];
  nextCursor: string | null;
}

async function list(collector: TestCollector, query: string): Promise<DevicePage> {
  const response = await collector.itGet(`/v1/devices?${query}`);
  assert.equal(response.statusCode, 200, `${query}: ${response.body}`);
  return response.json<DevicePage>();
}

async function hosts(collector: TestCollector, query: string): Promise<string[]> {
  return (await list(collector, query)).devices.map((device) => device.hostname);
}

/** Every page of a query, following nextCursor. */
async function allPages(collector: TestCollector, query: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page: DevicePage = await list(collector, `${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
    pages.push(page.devices.map((device) => device.hostname));
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 20);
  return pages;
}

async function fleet(kit: StorageKit) {
  let now = Date.now();
  const timer = new ManualSchedule();
  const collector = await kit.start({ silentAfterMinutes: 10 }, { clock: () => now, schedule: timer.schedule });
  const report = async (device: TestDevice, findings: ReturnType<typeof sampleFinding>[] = []) =>
    assert.equal((await collector.postReport(device.nextReport({ findings, createdAt: now }))).statusCode, 200);
  const echo = await collector.enroll({ hostname: 'echo' });
  await report(echo);
  now += 11 * 60_000;
  const alpha = await collector.enroll({ hostname: 'alpha' });
  const bravo = await collector.enroll({ hostname: 'bravo' });
  const charlie = await collector.enroll({ hostname: 'charlie' });
  const delta = await collector.enroll({ hostname: 'delta' });
  await report(alpha, [sampleFinding({ firstSeenAt: now - 1000, lastSeenAt: now })]);
  now += 1000;
  await report(bravo, [sampleFinding({ key: 'tool', kind: 'remote-tool-installed', severity: 'medium', firstSeenAt: now - 1000, lastSeenAt: now })]);
  now += 1000;
  await report(charlie);
  now += 1000;
  await report(delta, [sampleFinding({ key: 'edid', kind: 'kvm-edid', severity: 'low', firstSeenAt: now - 1000, lastSeenAt: now })]);
  await timer.tick();
  return { collector, devices: { alpha, bravo, charlie, delta, echo }, advance: (ms: number) => (now += ms), now: () => now };
}

async function deviceListSortsFiltersAndPages(kit: StorageKit): Promise<void> {
  const { collector, devices } = await fleet(kit);
  assert.deepEqual(await hosts(collector, ''), ['alpha', 'bravo', 'charlie', 'delta', 'echo'], 'by host by default');
  assert.deepEqual(await allPages(collector, 'sort=risk&limit=2'), [['alpha', 'bravo'], ['echo', 'delta'], ['charlie']], 'risk, then last seen');
  assert.deepEqual((await allPages(collector, 'sort=last-seen&limit=3')).flat(), ['delta', 'charlie', 'bravo', 'alpha', 'echo']);
  assert.deepEqual(await allPages(collector, 'sort=host&limit=5'), [['alpha', 'bravo', 'charlie', 'delta', 'echo']], 'an exact last page has no next cursor');
  assert.deepEqual(await hosts(collector, 'risk=high,low'), ['alpha', 'delta']);
  assert.deepEqual(await hosts(collector, 'risk=medium'), ['bravo', 'echo'], 'silence shows as medium');
  assert.deepEqual(await hosts(collector, 'kind=remote-tool-installed'), ['bravo']);
  assert.deepEqual(await hosts(collector, 'kind=device-silent'), ['echo']);
  assert.deepEqual(await hosts(collector, 'silent=true'), ['echo']);
  assert.deepEqual(await hosts(collector, 'silent=false&sort=risk'), ['alpha', 'bravo', 'delta', 'charlie']);
  for (const [device, tag] of [[devices.bravo, 'site:lisbon'], [devices.charlie, 'site:lisbon'], [devices.delta, 'user:bob']] as const) {
    assert.equal((await collector.itSend('PUT', `/v1/devices/${device.deviceId}/tags/${tag}`)).json<{ changed: boolean }>().changed, true);
  }
  assert.equal((await collector.itSend('PUT', `/v1/devices/${devices.bravo.deviceId}/tags/site:lisbon`)).json<{ changed: boolean }>().changed, false, 'idempotent');
  assert.deepEqual(await hosts(collector, 'tag=site:lisbon'), ['bravo', 'charlie']);
  assert.deepEqual((await list(collector, 'tag=user:bob')).devices[0]?.tags, ['user:bob']);
  assert.deepEqual(await hosts(collector, 'q=ALP'), ['alpha'], 'search ignores case');
  assert.deepEqual(await hosts(collector, `q=${devices.charlie.deviceId.slice(0, 12)}`), ['charlie'], 'search by device id');
  assert.deepEqual(await hosts(collector, 'q=user:bo'), ['delta'], 'search by tag (the user)');
  assert.deepEqual(await hosts(collector, 'q=%25'), [], 'LIKE wildcards are literal');
  assert.deepEqual(await hosts(collector, 'hostPrefix=ch'), ['charlie'], 'a registered filter');
  assert.deepEqual(await hosts(collector, 'tag=site:lisbon&risk=medium&q=bra'), ['bravo'], 'filters combine');
  // Retired devices leave the default list and the incident queue, and stay listable.
  assert.equal((await collector.itSend('POST', `/v1/devices/${devices.alpha.deviceId}/retire`, { reason: 'returned laptop' })).statusCode, 200);
  assert.equal((await collector.itSend('POST', `/v1/devices/${devices.alpha.deviceId}/retire`, { reason: 'again' })).statusCode, 409);
  assert.deepEqual(await hosts(collector, 'sort=risk'), ['bravo', 'echo', 'delta', 'charlie']);
  assert.deepEqual(await hosts(collector, 'retired=only'), ['alpha']);
  const summary = (await collector.itGet('/v1/fleet/summary')).json<{ total: number; byRisk: Record<string, number>; silent: number; retired: number }>();
  assert.deepEqual([summary.total, summary.byRisk.medium, summary.byRisk.low, summary.silent, summary.retired], [4, 2, 1, 1, 1]);
  // Bad input is a 400 naming the problem; nothing else is affected.
  for (const query of ['cursor=bm90LWpzb24', 'sort=colour', 'risk=severe', 'kind=not-a-kind', 'hostPrefix=CAPS', 'unknown=1', 'limit=abc']) {
    const response = await collector.itGet(`/v1/devices?${query}`);
    assert.equal(response.statusCode, 400, query);
    assert.equal(errorCode(response), 'PAYLOAD_INVALID');
  }
  const cursor = (await list(collector, 'sort=risk&limit=1')).nextCursor!;
  assert.equal((await collector.itGet(`/v1/devices?sort=host&cursor=${cursor}`)).statusCode, 400, 'a cursor of another sort order');
}

interface IncidentList {
  incidents: { finding: { id: number; cursor: number; kind: string; severity: string; deviceId: string }; hostname: string; triage: { status: string; assignee: string | null } | null; suppressed: boolean }[];
  nextBefore: number | null;
}

async function incidents(collector: TestCollector, query = ''): Promise<IncidentList> {
  const response = await collector.itGet(`/v1/incidents?${query}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<IncidentList>();
}

async function incidentQueueNewestFirst(kit: StorageKit): Promise<void> {
  const { collector, devices, now } = await fleet(kit);
  const first = await incidents(collector);
  assert.deepEqual(first.incidents.map((item) => [item.hostname, item.finding.kind]), [
    ['echo', 'device-silent'],
    ['delta', 'kvm-edid'],
    ['bravo', 'remote-tool-installed'],
    ['alpha', 'remote-session-active'],
  ]);
  // Many findings later, a brand-new one is still first, and paging walks back through all of them.
  const many = Array.from({ length: 30 }, (_, index) => sampleFinding({ key: `old-${index}`, severity: 'info', kind: 'approved-tool', firstSeenAt: now() - 5000, lastSeenAt: now() }));
  assert.equal((await collector.postReport(devices.charlie.nextReport({ findings: many, createdAt: now() }))).statusCode, 200);
  assert.equal((await collector.postReport(devices.bravo.nextReport({ findings: [sampleFinding({ key: 'new', firstSeenAt: now(), lastSeenAt: now() })], createdAt: now() }))).statusCode, 200);
  const top = await incidents(collector, 'limit=1');
  assert.deepEqual([top.incidents[0]?.hostname, top.incidents[0]?.finding.severity], ['bravo', 'high']);
  assert.deepEqual((await incidents(collector, 'severity=high&limit=1')).incidents.map((item) => item.hostname), ['bravo'], 'the newest high incident');
  const seen: number[] = [];
  let before: number | null = null;
  do {
    const page: IncidentList = await incidents(collector, `limit=7${before === null ? '' : `&before=${before}`}`);
    seen.push(...page.incidents.map((item) => item.finding.cursor));
    before = page.nextBefore;
  } while (before !== null);
  assert.equal(seen.length, 4 + 30 + 1);
  assert.deepEqual(seen, [...seen].sort((a, b) => b - a), 'cursor descending, no repeats');
  assert.equal(new Set(seen).size, seen.length);
}

async function triageLoopIsAudited(kit: StorageKit): Promise<void> {
  const { collector, devices, advance, now } = await fleet(kit);
  const queue = await incidents(collector);
  const alphaFinding = queue.incidents.find((item) => item.hostname === 'alpha')!.finding;
  const deltaFinding = queue.incidents.find((item) => item.hostname === 'delta')!.finding;
  // A read-only token cannot change anything.
  const refused = await collector.itSend('POST', `/v1/findings/${alphaFinding.id}/acknowledge`, {}, TEST_IT_TOKEN);
  assert.equal(refused.statusCode, 403);
  assert.equal((await collector.itSend('POST', `/v1/findings/${alphaFinding.id}/acknowledge`, { note: 'looking' })).statusCode, 200);
  assert.equal((await collector.itSend('POST', `/v1/findings/${alphaFinding.id}/assign`, { assignee: 'bob' })).statusCode, 200);
  let alpha = (await incidents(collector)).incidents.find((item) => item.finding.id === alphaFinding.id)!;
  assert.deepEqual(alpha.triage && [alpha.triage.status, alpha.triage.assignee], ['acknowledged', 'bob']);
  assert.equal((await collector.itSend('POST', `/v1/findings/${alphaFinding.id}/resolve`, {})).statusCode, 400, 'a reason is required');
  assert.equal((await collector.itSend('POST', `/v1/findings/${alphaFinding.id}/resolve`, { reason: 'approved support session' })).statusCode, 200);
  assert.equal((await incidents(collector)).incidents.some((item) => item.finding.id === alphaFinding.id), false, 'resolved leaves the queue');
  alpha = (await incidents(collector, 'triage=all')).incidents.find((item) => item.finding.id === alphaFinding.id)!;
  assert.deepEqual(alpha.triage && [alpha.triage.status, alpha.triage.assignee], ['resolved', 'bob']);
  assert.equal((await collector.itSend('POST', `/v1/findings/${alphaFinding.id}/reopen`, {})).statusCode, 200);
  assert.equal((await incidents(collector)).incidents.find((item) => item.finding.id === alphaFinding.id)?.triage, null);
  assert.equal((await collector.itSend('POST', '/v1/findings/999999/acknowledge', {})).statusCode, 404);

  // Suppress kvm-edid for devices tagged lab, until an hour from now: delta's incident leaves the queue.
  assert.equal((await collector.itSend('PUT', `/v1/devices/${devices.delta.deviceId}/tags/lab`)).statusCode, 200);
  const suppressed = await collector.itSend('POST', '/v1/suppressions', { kind: 'kvm-edid', tag: 'lab', until: now() + 3_600_000, reason: 'EDID emulators in the lab' });
  assert.equal(suppressed.statusCode, 200, suppressed.body);
  assert.equal((await incidents(collector)).incidents.some((item) => item.finding.id === deltaFinding.id), false);
  assert.equal((await incidents(collector, 'triage=all')).incidents.find((item) => item.finding.id === deltaFinding.id)?.suppressed, true);
  assert.equal((await collector.itSend('POST', '/v1/suppressions', { kind: 'kvm-edid', tag: 'lab', deviceId: devices.delta.deviceId, until: now() + 1000, reason: 'x' })).statusCode, 400);
  assert.equal((await collector.itSend('POST', '/v1/suppressions', { kind: 'kvm-edid', tag: 'lab', until: now() - 1, reason: 'x' })).statusCode, 400);
  advance(3_600_001);
  assert.equal((await incidents(collector)).incidents.some((item) => item.finding.id === deltaFinding.id), true, 'an expired suppression no longer hides it');
  const again = (await collector.itSend('POST', '/v1/suppressions', { kind: 'kvm-edid', deviceId: devices.delta.deviceId, until: now() + 60_000, reason: 'one device' })).json<{ suppression: { id: number } }>();
  assert.equal((await incidents(collector)).incidents.some((item) => item.finding.id === deltaFinding.id), false);
  assert.equal((await collector.itSend('DELETE', `/v1/suppressions/${again.suppression.id}`)).statusCode, 200);
  assert.equal((await collector.itSend('DELETE', `/v1/suppressions/${again.suppression.id}`)).statusCode, 404, 'already lifted');
  assert.equal((await incidents(collector)).incidents.some((item) => item.finding.id === deltaFinding.id), true);

  const note = await collector.itSend('POST', `/v1/devices/${devices.delta.deviceId}/notes`, { text: 'Called the contractor.' });
  assert.equal(note.statusCode, 200);
  const detail = (await collector.itGet(`/v1/devices/${devices.delta.deviceId}`)).json<{ device: { tags: string[] }; notes: { text: string; author: string }[] }>();
  assert.deepEqual(detail.device.tags, ['lab']);
  assert.deepEqual(detail.notes.map((item) => [item.author, item.text]), [[TEST_TRIAGE_ACTOR, 'Called the contractor.']]);

  // Every action and device read is in the audit log, by token name, chained.
  const log = (await collector.itGet('/v1/audit?limit=100', 'it-token-triage-alice-0123456789')).json<{ entries: AuditEntry[] }>().entries.reverse();
  assert.deepEqual(
    log.map((entry) => entry.action),
    ['acknowledge', 'assign', 'resolve', 'reopen', 'tag', 'suppress', 'suppress', 'unsuppress', 'note', 'view-device'],
  );
  assert.deepEqual(new Set(log.slice(0, -1).map((entry) => entry.actor)), new Set([TEST_TRIAGE_ACTOR]));
  assert.equal(log.at(-1)?.actor, 'token-1', 'the read was by the unnamed read-only token');
  assert.equal(log.find((entry) => entry.action === 'resolve')?.detail, 'approved support session');
  assert.equal(JSON.stringify(log).includes('it-token-triage'), false, 'the token itself is never recorded');
  assert.equal((await collector.itGet('/v1/audit', TEST_IT_TOKEN)).statusCode, 403, 'audit:read is its own scope');
  const verified = (await collector.itGet('/v1/audit/verify', 'it-token-triage-alice-0123456789')).json<{ ok: boolean; entries: number }>();
  assert.deepEqual(verified, { ok: true, entries: log.length });
  // Editing one entry behind the collector's back breaks the chain at that entry.
  await collector.database.run("UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3");
  const broken = await verifyAuditChain(collector.database);
  assert.deepEqual(broken.ok ? null : [broken.brokenAt, broken.entries], [3, 2]);
}

async function deviceFetchesItsOwnSignedAudit(kit: StorageKit): Promise<void> {
  const database = await kit.openStorage(kit.t);
  let now = Date.now();
  const collector = await startTestCollector(kit.t, {}, { database, clock: () => now, schedule: new ManualSchedule().schedule });
  const mine = await collector.enroll({ hostname: 'mine' });
  const other = await collector.enroll({ hostname: 'other' });
  for (const device of [mine, other]) assert.equal((await collector.postReport(device.nextReport({ findings: [sampleFinding()] }))).statusCode, 200);
  assert.equal((await collector.itGet(`/v1/devices/${mine.deviceId}/findings`)).statusCode, 200);
  assert.equal((await collector.itGet(`/v1/devices/${other.deviceId}/reports`)).statusCode, 200);
  assert.equal((await collector.itSend('PUT', `/v1/devices/${mine.deviceId}/tags/finance`)).statusCode, 200);
  const fetchFeed = (device: TestDevice, after: number, signedAt = now) =>
    collector.app.inject({ method: 'POST', url: '/v1/device-audit', payload: signDeviceAuditRequest({ deviceId: device.deviceId, after, signedAt }, device.privateKey) });
  const response = await fetchFeed(mine, 0);
  assert.equal(response.statusCode, 200, response.body);
  const feed = response.json<DeviceAuditFeed>();
  assert.ok(Value.Check(DeviceAuditFeedSchema, feed));
  assert.ok(verifyAuditFeed(feed, null), 'signed by the collector key it names, every entry hash intact');
  assert.deepEqual(feed.body.entries.map((entry) => [entry.action, entry.deviceId, entry.actor]), [
    ['view-findings', mine.deviceId, 'token-1'],
    ['tag', mine.deviceId, TEST_TRIAGE_ACTOR],
  ]);
  assert.equal(feed.body.more, false);
  assert.deepEqual((await fetchFeed(mine, feed.body.entries[0]!.seq)).json<DeviceAuditFeed>().body.entries.map((entry) => entry.action), ['tag'], 'after a seq');
  // Forged or stale requests: a signature by another device's key, a request outside the window.
  const forged = signDeviceAuditRequest({ deviceId: mine.deviceId, after: 0, signedAt: now }, other.privateKey);
  const refusedForged = await collector.app.inject({ method: 'POST', url: '/v1/device-audit', payload: forged });
  assert.deepEqual([refusedForged.statusCode, errorCode(refusedForged)], [401, 'SIGNATURE_INVALID']);
  assert.equal((await fetchFeed(mine, 0, now - 11 * 60_000)).statusCode, 401);
  const unknown = signDeviceAuditRequest({ deviceId: 'no-such-device', after: 0, signedAt: now }, mine.privateKey);
  assert.equal((await collector.app.inject({ method: 'POST', url: '/v1/device-audit', payload: unknown })).statusCode, 401);
  assert.equal((await collector.app.inject({ method: 'POST', url: '/v1/device-audit', payload: { deviceId: mine.deviceId } })).statusCode, 400);
  // The signing key is the collector's, kept in its database: the same after a restart on it.
  now += 1000;
  const feedKey = feed.collectorKey;
  assert.ok(Value.Check(Type.String({ minLength: 40 }), feedKey));
  const stored = await database.get("SELECT count(*) AS n FROM collector_identity WHERE name = 'audit-signing-key'");
  assert.equal(Number(stored?.n), 1);
  assert.ok(verifyAuditFeed((await fetchFeed(mine, 0)).json<DeviceAuditFeed>(), feedKey), 'pinned key still matches');
}

/**
 * Search through the trigram index (migration 004) must answer exactly what reading every row
 * answers: rare terms (narrowed by the index), terms matching more than SEARCH_CANDIDATES devices and
 * terms too short for trigrams (read in sort order), case, LIKE wildcards and quotes; a renamed or
 * deleted device is found under its new name only, or not at all.
 */
async function searchAnswersLikeReadingEveryRow(kit: StorageKit): Promise<void> {
  const database = await kit.open();
  const count = SEARCH_CANDIDATES + 200;
  const names = new Map<string, string>();
  const now = Date.now();
  const rows: [string, string][] = [];
  for (let index = 0; index < count; index++) {
    const id = `dev-${index.toString(16).padStart(5, '0')}`;
    const hostname = index === 7 ? 'Quote"Host%_7' : `host-${index.toString().padStart(5, '0')}`;
    names.set(id, hostname);
    rows.push([id, hostname]);
  }
  await database.transaction(async (tx) => {
    for (let start = 0; start < rows.length; start += 200) {
      const part = rows.slice(start, start + 200);
      await tx.run(
        `INSERT INTO devices (id, public_key, hostname, platform, agent_version, enrolled_at, last_seen_at, head_seq, head_hash) VALUES ${part.map(() => "(?, ?, ?, 'linux', '0.1.0', ?, ?, 0, NULL)").join(', ')}`,
        part.flatMap(([id, hostname]) => [id, `key-${id}`, hostname, now, now]),
      );
    }
  });
  const base: DeviceQuery = { sort: 'host', retired: 'exclude', extra: [], cursor: null, limit: 50, silentBefore: now - 3_600_000 };
  const search = async (term: string): Promise<string[]> => (await listDevicePage(database, { ...base, search: term })).items.map((item) => item.hostname);
  const expected = (term: string): string[] =>
    [...names.entries()]
      .filter(([id, hostname]) => hostname.toLowerCase().includes(term.toLowerCase()) || id.includes(term.toLowerCase()))
      .map(([, hostname]) => hostname)
      .sort()
      .slice(0, base.limit);
  for (const term of ['host-0042', 'HOST-0119', '00042', 'dev-0003', 'host', 'ho', '7', 'ote"h', '%_7', '"', 'no-such-name']) {
    assert.deepEqual(await search(term), expected(term), `search ${JSON.stringify(term)}`);
  }
  await database.run("UPDATE devices SET hostname = 'renamed-laptop' WHERE id = 'dev-00010'");
  names.set('dev-00010', 'renamed-laptop');
  assert.deepEqual(await search('renamed'), ['renamed-laptop'], 'found under the new name');
  assert.deepEqual(await search('host-00016'), expected('host-00016'), 'not under the old one');
  await database.transaction((tx) => deleteDevice(tx, 'dev-00011'));
  names.delete('dev-00011');
  assert.deepEqual(await search('host-00017'), [], 'a deleted device is not found');
}

export const TRIAGE_CASES: readonly StorageCase[] = [
  { name: 'device list: keyset pages sorted by risk, last seen or host; filters by risk, kind, silence, tag, a registered filter; search; retired devices', run: deviceListSortsFiltersAndPages },
  { name: 'device search: the trigram index narrows rare terms and answers exactly what reading every row does; renames and deletes keep it in step', run: searchAnswersLikeReadingEveryRow },
  { name: 'incident queue: open findings newest change first, a new finding is always on the first page, paging sees each once', run: incidentQueueNewestFirst },
  { name: 'triage loop: acknowledge, assign, resolve, reopen, suppress by tag and device with expiry, notes; each audited by token name in a verifiable chain', run: triageLoopIsAudited },
  { name: 'device audit feed: a device-signed request gets only its own entries, signed by the collector key stored in the database', run: deviceFetchesItsOwnSignedAudit },
];
