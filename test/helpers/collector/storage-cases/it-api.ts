/** Storage cases: the IT API's reads (auth and scopes, risk, the NDJSON stream, the OCSF export). */
import assert from 'node:assert/strict';
import { TEST_DEVICES_ONLY_TOKEN } from '../harness';
import { sampleFinding } from '../make-reports';
import { errorCode, ndjson, type StorageCase, type StorageKit } from '../storage-kit';

async function tokensAndScopes(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const none = await collector.app.inject({ method: 'GET', url: '/v1/devices' });
  assert.equal(none.statusCode, 401);
  assert.equal(errorCode(none), 'UNAUTHORIZED');
  const wrong = await collector.itGet('/v1/devices', 'not-a-real-token-at-all');
  assert.equal(wrong.statusCode, 401);
  assert.equal((await collector.itGet('/v1/devices', TEST_DEVICES_ONLY_TOKEN)).statusCode, 200);
  for (const url of [`/v1/devices/${device.deviceId}/findings`, `/v1/devices/${device.deviceId}/reports`, '/v1/findings/stream', '/v1/findings/ocsf', `/v1/reports/${device.deviceId}/1`]) {
    const response = await collector.itGet(url, TEST_DEVICES_ONLY_TOKEN);
    assert.equal(response.statusCode, 403, url);
    assert.equal(errorCode(response), 'FORBIDDEN');
  }
}

async function riskFromOpenFindings(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const risky = await collector.enroll({ hostname: 'risky' });
  const calm = await collector.enroll({ hostname: 'calm' });
  const opened = sampleFinding();
  assert.equal((await collector.postReport(risky.nextReport({ findings: [opened] }))).statusCode, 200);
  assert.equal((await collector.postReport(calm.nextReport({ findings: [sampleFinding({ key: 'approved', kind: 'approved-tool', severity: 'info' })] }))).statusCode, 200);
  const devices = (await collector.itGet('/v1/devices')).json<{ devices: { hostname: string; risk: string; openFindings: number; silent: boolean }[] }>().devices;
  assert.deepEqual(
    devices.map((device) => [device.hostname, device.risk, device.openFindings, device.silent]),
    [['calm', 'info', 1, false], ['risky', 'high', 1, false]],
  );
  const riskOf = async (hostname: string) =>
    (await collector.itGet('/v1/devices')).json<{ devices: { hostname: string; risk: string; openFindings: number }[] }>().devices.find((device) => device.hostname === hostname);
  // Seen again unchanged (the update that fires no risk trigger), then lowered: risk follows the severity.
  assert.equal((await collector.postReport(risky.nextReport({ findings: [{ ...opened, lastSeenAt: opened.lastSeenAt + 500 }] }))).statusCode, 200);
  const seenAgain = await riskOf('risky');
  assert.deepEqual([seenAgain?.risk, seenAgain?.openFindings], ['high', 1]);
  assert.equal((await collector.postReport(risky.nextReport({ findings: [{ ...opened, severity: 'low', lastSeenAt: opened.lastSeenAt + 700 }] }))).statusCode, 200);
  const lowered = await riskOf('risky');
  assert.deepEqual([lowered?.risk, lowered?.openFindings], ['low', 1]);
  // The agent closes the finding: risk drops.
  const closed = { ...opened, lastSeenAt: opened.lastSeenAt + 1000, closedAt: opened.lastSeenAt + 1000 };
  assert.equal((await collector.postReport(risky.nextReport({ findings: [closed] }))).statusCode, 200);
  const after = (await collector.itGet('/v1/devices')).json<{ devices: { hostname: string; risk: string }[] }>().devices;
  assert.equal(after.find((device) => device.hostname === 'risky')?.risk, 'none');
  assert.equal(await collector.count('findings'), 2, 'the closed finding updated its row');
}

async function streamPagesByCursor(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const findings = ['a', 'b', 'c', 'd', 'e'].map((key) => sampleFinding({ key: `k-${key}` }));
  assert.equal((await collector.postReport(device.nextReport({ findings: findings.slice(0, 3) }))).statusCode, 200);
  assert.equal((await collector.postReport(device.nextReport({ findings: findings.slice(3) }))).statusCode, 200);
  const seen: { cursor: number; key: string }[] = [];
  let cursor = 0;
  for (let page = 0; page < 10; page++) {
    const response = await collector.itGet(`/v1/findings/stream?cursor=${cursor}&limit=2`);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/x-ndjson/);
    const lines = ndjson(response.body);
    const next = Number(response.headers['x-next-cursor']);
    if (lines.length === 0) {
      assert.equal(next, cursor);
      break;
    }
    assert.ok(lines.length <= 2);
    seen.push(...lines.map((line) => ({ cursor: line.cursor, key: line.key })));
    assert.equal(next, lines.at(-1)!.cursor);
    cursor = next;
  }
  assert.deepEqual(seen.map((item) => item.key), ['k-a', 'k-b', 'k-c', 'k-d', 'k-e']);
  assert.ok(seen.every((item, index) => index === 0 || item.cursor > seen[index - 1]!.cursor));
  // An update to k-b shows up after the cursor we stopped at.
  assert.equal((await collector.postReport(device.nextReport({ findings: [{ ...findings[1]!, lastSeenAt: findings[1]!.lastSeenAt + 5000 }] }))).statusCode, 200);
  const lines = ndjson((await collector.itGet(`/v1/findings/stream?cursor=${cursor}`)).body);
  assert.deepEqual(lines.map((line) => [line.key, line.lastSeenAt]), [['k-b', findings[1]!.lastSeenAt + 5000]]);
  assert.ok(lines[0]!.cursor > cursor);
}

interface OcsfEvent {
  class_uid: number;
  category_uid: number;
  activity_id: number;
  type_uid: number;
  severity_id: number;
  status_id: number;
  time: number;
  finding_info: { uid: string; title: string; desc: string; created_time: number; first_seen_time: number; last_seen_time: number };
  metadata: { product: { name: string }; version: string };
  device: { uid: string; hostname: string };
  evidences: { data: unknown }[];
}

async function ocsfDetectionFinding(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll({ hostname: 'ocsf-host' });
  const finding = sampleFinding();
  assert.equal((await collector.postReport(device.nextReport({ findings: [finding] }))).statusCode, 200);
  const response = await collector.itGet('/v1/findings/ocsf');
  assert.equal(response.statusCode, 200);
  const events = response.json<OcsfEvent[]>();
  assert.equal(events.length, 1);
  const event = events[0]!;
  assert.equal(event.class_uid, 2004);
  assert.equal(event.category_uid, 2);
  assert.equal(event.activity_id, 1);
  assert.equal(event.type_uid, 200401);
  assert.equal(event.severity_id, 4);
  assert.equal(event.status_id, 1);
  assert.equal(event.finding_info.title, finding.title);
  assert.equal(event.finding_info.desc, finding.explanation);
  assert.equal(event.finding_info.first_seen_time, finding.firstSeenAt);
  assert.equal(event.finding_info.last_seen_time, finding.lastSeenAt);
  assert.equal(typeof event.finding_info.created_time, 'number');
  assert.ok(event.finding_info.uid.includes(finding.key));
  assert.equal(event.metadata.product.name, 'Telltale');
  assert.match(event.metadata.version, /^1\.\d+\.\d+$/);
  assert.deepEqual(event.device, { uid: device.deviceId, hostname: 'ocsf-host', type_id: 3 });
  assert.deepEqual(event.evidences[0]!.data, finding.evidence);
}

export const IT_API_CASES: readonly StorageCase[] = [
  { name: 'IT API: missing or wrong token 401, wrong scope 403', run: tokensAndScopes },
  { name: 'device list shows risk from open findings', run: riskFromOpenFindings },
  { name: 'NDJSON stream pages by cursor and shows updates again with a larger cursor', run: streamPagesByCursor },
  { name: 'OCSF export maps findings to Detection Finding 2004', run: ocsfDetectionFinding },
];
