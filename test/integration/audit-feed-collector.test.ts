/**
 * The agent's side of audit transparency against the real collector over HTTP: the agent's own
 * uploader asks for its device's feed, and what comes back is signed by the collector's stored key,
 * holds what IT did and looked at on this device (by token name), and nothing about other devices.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FetchUploader } from '../../agent/sync/uploader';
import { signDeviceAuditRequest, verifyAuditFeed } from '../../protocol/report-crypto';
import { startTestCollector, TEST_TRIAGE_ACTOR } from '../helpers/collector/harness';
import { sampleFinding } from '../helpers/collector/make-reports';

test("the agent's uploader fetches its device's signed audit feed from the real collector", async (t) => {
  const collector = await startTestCollector(t);
  const mine = await collector.enroll({ hostname: 'mine' });
  const other = await collector.enroll({ hostname: 'other' });
  for (const device of [mine, other]) assert.equal((await collector.postReport(device.nextReport({ findings: [sampleFinding()] }))).statusCode, 200);
  const incidents = (await collector.itGet('/v1/incidents')).json<{ incidents: { finding: { id: number; deviceId: string } }[] }>().incidents;
  const myFinding = incidents.find((incident) => incident.finding.deviceId === mine.deviceId)!.finding;
  assert.equal((await collector.itSend('POST', `/v1/findings/${myFinding.id}/resolve`, { reason: 'approved support session' })).statusCode, 200);
  assert.equal((await collector.itGet(`/v1/devices/${other.deviceId}`)).statusCode, 200);
  await collector.app.listen({ port: 0, host: '127.0.0.1' });
  const address = collector.app.server.address();
  const uploader = new FetchUploader(new URL(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`));

  const outcome = await uploader.fetchDeviceAudit(signDeviceAuditRequest({ deviceId: mine.deviceId, after: 0, signedAt: Date.now() }, mine.privateKey));
  assert.equal(outcome.kind, 'ok');
  if (outcome.kind !== 'ok') return;
  const feed = outcome.value;
  assert.ok(verifyAuditFeed(feed, null));
  assert.deepEqual(feed.body.entries.map((entry) => [entry.action, entry.actor, entry.detail, entry.findingId]), [['resolve', TEST_TRIAGE_ACTOR, 'approved support session', myFinding.id]]);
  // The next fetch is pinned to the same key and sees nothing new.
  const again = await uploader.fetchDeviceAudit(signDeviceAuditRequest({ deviceId: mine.deviceId, after: feed.body.entries.at(-1)!.seq, signedAt: Date.now() }, mine.privateKey));
  assert.ok(again.kind === 'ok' && verifyAuditFeed(again.value, feed.collectorKey) && again.value.body.entries.length === 0);
});
