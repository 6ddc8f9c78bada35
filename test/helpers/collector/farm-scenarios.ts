/**
 * Farm correlation scenarios through the real collector (`inject`), run on SQLite
 * (test/unit/location-farm.test.ts) and PostgreSQL (test/integration/location-farm-postgres.test.ts):
 * clusters form at three hostnames, grow transitively, shrink when a laptop moves, close when IT
 * approves the place, and the unexpected-egress finding follows the egress country and ASN.
 * Expected clusters are worked out by hand in each step's comment.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { LocationBlock } from '../../../common/location';
import { AsnDatabase } from '../../../collector/location/asn-database';
import type { SqlDatabase } from '../../../collector/storage/sql';
import { ManualSchedule, startTestCollector, TEST_IT_TOKEN } from './harness';
import type { TestDevice } from './make-reports';

const WRITE_TOKEN = 'it-token-location-write-0123456789';
const hash = (n: number) => n.toString(16).padStart(64, '0');
const at = (gateway: number | null, bssid?: number): LocationBlock => ({
  ...(gateway === null ? {} : { gatewayHash: hash(gateway) }),
  ...(bssid === undefined ? {} : { bssidHash: hash(bssid) }),
  utcOffsetMinutes: 0,
  defaultRouteTunnel: false,
  interfaceKind: 'wired',
  unavailable: [],
});

/** Opens the store a scenario runs on (default: a temporary SQLite file). */
export type OpenStore = (t: TestContext) => Promise<SqlDatabase | undefined>;

async function farmCollector(t: TestContext, open: OpenStore, options: { clock?: () => number; schedule?: ManualSchedule['schedule'] } = {}) {
  const database = await open(t);
  const asn = AsnDatabase.load([path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'location', 'asn-synthesized')]);
  return startTestCollector(
    t,
    {
      itTokens: [
        { token: TEST_IT_TOKEN, scopes: ['devices:read', 'findings:read', 'reports:read'] },
        { token: WRITE_TOKEN, scopes: ['location:write'] },
      ],
      location: { trustedProxies: ['127.0.0.1'], privateEgress: true },
    },
    { asn, ...(database ? { database } : {}), ...options },
  );
}

interface Farm {
  clusterId: number;
  devices: { deviceId: string; hostname: string }[];
  sharedSignals: { kind: string; value: string; deviceIds: string[] }[];
}

/** Clusters form at three hostnames, grow, shrink, and close for an approved place. */
export async function clusterLifecycleScenario(t: TestContext, open: OpenStore): Promise<void> {
  const collector = await farmCollector(t, open);
  const send = async (device: TestDevice, location: LocationBlock | undefined, ip = '10.0.0.1') => {
    const response = await collector.postReport(device.nextReport(location ? { location } : {}), { 'x-forwarded-for': ip });
    assert.equal(response.statusCode, 200, response.body);
  };
  const farms = async () => (await collector.itGet('/v1/farms')).json<{ farms: Farm[] }>().farms;
  const members = (farm: Farm | undefined) => (farm?.devices.map((device) => device.hostname) ?? []).sort();
  const openFarmFindings = async (device: TestDevice) =>
    (await collector.itGet(`/v1/devices/${device.deviceId}/findings`)).json<{ findings: { kind: string; closedAt: number | null }[] }>().findings.filter(
      (finding) => finding.kind === 'possible-laptop-farm' && finding.closedAt === null,
    );

  const a = await collector.enroll({ hostname: 'alice-laptop' });
  const b = await collector.enroll({ hostname: 'bob-laptop' });
  const b2 = await collector.enroll({ hostname: 'BOB-LAPTOP' });
  const c = await collector.enroll({ hostname: 'carol-laptop' });
  const d = await collector.enroll({ hostname: 'dave-laptop' });
  const e = await collector.enroll({ hostname: 'erin-laptop' });

  // a, b, b2 behind gateway 1: three devices but two hostnames (bob twice) → no farm.
  await send(a, at(1), '10.0.0.1');
  await send(b, at(1), '10.0.0.2');
  await send(b2, at(1), '10.0.0.3');
  assert.deepEqual(await farms(), []);
  // c joins gateway 1 → {a, b, b2, c}: three hostnames → one farm.
  await send(c, at(2, 7), '10.0.0.4');
  await send(c, at(1, 7), '10.0.0.4');
  let [farm] = await farms();
  assert.deepEqual(members(farm), ['BOB-LAPTOP', 'alice-laptop', 'bob-laptop', 'carol-laptop']);
  assert.deepEqual(farm!.sharedSignals.map((signal) => [signal.kind, signal.value, signal.deviceIds.length]), [['gateway', hash(1), 4]]);
  assert.equal((await openFarmFindings(a)).length, 1);
  // d elsewhere (gateway 3) but the same egress address as c → joins transitively; e alone stays out.
  await send(d, at(3), '10.0.0.4');
  await send(e, at(4), '10.0.0.9');
  [farm] = await farms();
  assert.deepEqual(members(farm), ['BOB-LAPTOP', 'alice-laptop', 'bob-laptop', 'carol-laptop', 'dave-laptop']);
  assert.deepEqual(farm!.sharedSignals.map((signal) => signal.kind).sort(), ['egress-ip', 'gateway']);
  assert.equal((await openFarmFindings(e)).length, 0);
  // a moves to gateway 5 on its own address → the farm shrinks without it and a's finding closes.
  await send(a, at(5), '10.0.0.5');
  [farm] = await farms();
  assert.deepEqual(members(farm), ['BOB-LAPTOP', 'bob-laptop', 'carol-laptop', 'dave-laptop']);
  assert.equal((await openFarmFindings(a)).length, 0);
  assert.equal((await openFarmFindings(b)).length, 1);
  // The device list filters by cluster: exactly its members, and `any` the same here (one cluster).
  const listed = async (value: string) =>
    (await collector.itGet(`/v1/devices?farmCluster=${value}`)).json<{ devices: { hostname: string }[] }>().devices.map((device) => device.hostname).sort();
  assert.deepEqual(await listed(String(farm!.clusterId)), members(farm));
  assert.deepEqual(await listed('any'), members(farm));
  assert.equal((await collector.itGet('/v1/devices?farmCluster=x')).statusCode, 400);
  // IT approves gateway 1 as the office: left are {b}, {b2}, {c, d} by egress → no farm, findings close.
  const approve = await collector.app.inject({
    method: 'PUT',
    url: '/v1/location/approved-places',
    headers: { authorization: `Bearer ${WRITE_TOKEN}` },
    payload: { kind: 'gateway', value: hash(1), label: 'Head office' },
  });
  assert.equal(approve.statusCode, 200, approve.body);
  await send(c, at(1, 7), '10.0.0.4');
  assert.deepEqual(await farms(), []);
  for (const device of [b, b2, c, d]) assert.equal((await openFarmFindings(device)).length, 0);
  // The NDJSON stream carried the finding's opening and closing.
  const stream = (await collector.itGet('/v1/findings/stream?limit=5000')).body.trim().split('\n').map((line) => JSON.parse(line) as { kind: string });
  assert.ok(stream.some((finding) => finding.kind === 'possible-laptop-farm'));
  const ocsf = (await collector.itGet('/v1/findings/ocsf?limit=5000')).json<{ finding_info: { types: string[] } }[]>();
  assert.ok(ocsf.some((event) => event.finding_info.types.includes('possible-laptop-farm')), 'the OCSF export carries it');
}

/** Unexpected egress: another country than expected, or a hosting ASN; IT sets the country. */
export async function unexpectedEgressScenario(t: TestContext, open: OpenStore): Promise<void> {
  const collector = await farmCollector(t, open);
  const device = await collector.enroll({ hostname: 'frank-laptop' });
  const egressFindings = async () =>
    (await collector.itGet(`/v1/devices/${device.deviceId}/findings`)).json<{ findings: { kind: string; closedAt: number | null; evidence: Record<string, unknown> }[] }>().findings.filter(
      (finding) => finding.kind === 'unexpected-egress' && finding.closedAt === null,
    );
  const refused = await collector.app.inject({ method: 'PUT', url: '/v1/location/expected-country', headers: { authorization: `Bearer ${TEST_IT_TOKEN}` }, payload: { country: 'US' } });
  assert.equal(refused.statusCode, 403, 'location:write is needed');
  const bad = await collector.app.inject({ method: 'PUT', url: '/v1/location/expected-country', headers: { authorization: `Bearer ${WRITE_TOKEN}` }, payload: { country: 'usa' } });
  assert.equal(bad.statusCode, 400);
  const set = await collector.app.inject({ method: 'PUT', url: '/v1/location/expected-country', headers: { authorization: `Bearer ${WRITE_TOKEN}` }, payload: { country: 'US' } });
  assert.equal(set.statusCode, 200);

  await collector.postReport(device.nextReport(), { 'x-forwarded-for': '198.51.100.7' });
  assert.deepEqual(await egressFindings(), [], 'US broadband is expected');
  await collector.postReport(device.nextReport(), { 'x-forwarded-for': '203.0.113.9' });
  const [finding] = await egressFindings();
  assert.deepEqual(finding?.evidence.reasons, ['country', 'hosting']);
  assert.equal(finding?.evidence.asn, 64500);
  const location = (await collector.itGet(`/v1/devices/${device.deviceId}/location`)).json<{ egress: { country: string; hostingOrVpn: boolean } }>();
  assert.deepEqual([location.egress.country, location.egress.hostingOrVpn], ['NL', true]);
  // Setting the country and reading the device's location are both in the audit log.
  const audited = (await collector.database.all('SELECT action, device_id FROM audit_log ORDER BY seq')).map((row) => `${String(row.action)}:${String(row.device_id ?? 'fleet')}`);
  assert.ok(audited.includes('set-expected-country:fleet'), audited.join(' '));
  assert.ok(audited.includes(`view-location:${device.deviceId}`), audited.join(' '));
  await collector.postReport(device.nextReport(), { 'x-forwarded-for': '198.51.100.7' });
  assert.deepEqual(await egressFindings(), [], 'back home closes it');
  // A report repeating the device's last signals skips the walk; a change of IT's settings still
  // re-settles the device on its next report, though nothing about the device moved.
  await collector.postReport(device.nextReport(), { 'x-forwarded-for': '198.51.100.7' });
  assert.deepEqual(await egressFindings(), []);
  const moved = await collector.app.inject({ method: 'PUT', url: '/v1/location/expected-country', headers: { authorization: `Bearer ${WRITE_TOKEN}` }, payload: { country: 'DE' } });
  assert.equal(moved.statusCode, 200);
  await collector.postReport(device.nextReport(), { 'x-forwarded-for': '198.51.100.7' });
  assert.deepEqual((await egressFindings()).map((finding) => finding.evidence.reasons), [['country']]);
}

/** Members that stop reporting leave their cluster on the timed sweep: 4 → 3 after 25 h, then closed. */
export async function staleClusterScenario(t: TestContext, open: OpenStore): Promise<void> {
  let now = Date.now();
  const sweeps = new ManualSchedule();
  const collector = await farmCollector(t, open, { clock: () => now, schedule: sweeps.schedule });
  const send = async (device: TestDevice) => assert.equal((await collector.postReport(device.nextReport({ location: at(9) }), { 'x-forwarded-for': '10.9.9.9' })).statusCode, 200);
  const devices = [];
  for (const hostname of ['h1', 'h2', 'h3', 'h4']) {
    const device = await collector.enroll({ hostname });
    await send(device);
    devices.push(device);
  }
  const farms = async () => (await collector.itGet('/v1/farms')).json<{ farms: Farm[] }>().farms;
  assert.deepEqual((await farms()).map((farm) => farm.devices.length), [4]);
  // 25 h later only h1, h2, h3 have reported again: h4 drops out on the sweep, the farm stays at 3.
  now += 25 * 3_600_000;
  for (const device of devices.slice(0, 3)) await send(device);
  await sweeps.tick();
  assert.deepEqual((await farms()).map((farm) => farm.devices.map((device) => device.hostname).sort()), [['h1', 'h2', 'h3']]);
  // Another 25 h of silence from everyone: the sweep closes the farm and every finding.
  now += 25 * 3_600_000;
  await sweeps.tick();
  assert.deepEqual(await farms(), []);
  for (const device of devices) {
    const open = (await collector.itGet(`/v1/devices/${device.deviceId}/findings`)).json<{ findings: { kind: string; closedAt: number | null }[] }>().findings;
    assert.equal(open.filter((finding) => finding.kind === 'possible-laptop-farm' && finding.closedAt === null).length, 0);
  }
}
