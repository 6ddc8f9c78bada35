/**
 * Storage cases: enrolment proves possession of the key; knowing a device's public key is not enough
 * to rename it or keep it looking alive; enrolment limits; IT deletes a retired device.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ENROLL_PROOF_WINDOW_MS, enrollProofMessage, type EnrollRequest } from '../../../../common/report';
import { TEST_DEVICES_WRITE_TOKEN, TEST_ENROLLMENT_SECRET, TEST_IT_TOKEN, type TestCollector } from '../harness';
import { sampleFinding, TestDevice } from '../make-reports';
import { errorCode, type StorageCase, type StorageKit } from '../storage-kit';

const BASE = 1_700_000_000_000;

function enroll(collector: TestCollector, payload: object) {
  return collector.app.inject({ method: 'POST', url: '/v1/enroll', payload });
}

async function deviceRow(collector: TestCollector, id: string): Promise<{ hostname: string; lastSeenAt: number } | undefined> {
  const row = await collector.database.get('SELECT hostname, last_seen_at FROM devices WHERE id = ?', [id]);
  return row && { hostname: String(row.hostname), lastSeenAt: Number(row.last_seen_at) };
}

async function enrolmentProvesPossession(kit: StorageKit): Promise<void> {
  let now = BASE;
  const collector = await kit.start({}, { clock: () => now });
  const device = new TestDevice({ hostname: 'laptop-a' });
  const first = await enroll(collector, device.enrollRequest(TEST_ENROLLMENT_SECRET, { signedAt: now }));
  assert.equal(first.statusCode, 200, first.body);
  const deviceId = first.json<{ deviceId: string }>().deviceId;

  // An attacker who has only the public key (it is in every report's enrolment, the dashboard...).
  const attacker = crypto.generateKeyPairSync('ed25519');
  const claim = { publicKey: device.publicKeySpki, hostname: 'attacker-box', platform: 'linux', agentVersion: '6.6.6', signedAt: now };
  const withoutProof = await enroll(collector, { enrollmentSecret: TEST_ENROLLMENT_SECRET, ...claim });
  assert.equal(withoutProof.statusCode, 400, 'the proof is required');
  assert.match(withoutProof.body, /proof/);
  const forged: EnrollRequest = {
    enrollmentSecret: TEST_ENROLLMENT_SECRET,
    ...claim,
    proof: crypto.sign(null, Buffer.from(enrollProofMessage(claim)), attacker.privateKey).toString('base64url'),
  };
  now += 3_600_000;
  const renamed = await enroll(collector, { ...forged, signedAt: now });
  assert.equal(renamed.statusCode, 401, renamed.body);
  assert.equal(errorCode(renamed), 'ENROLLMENT_DENIED');
  // A genuine request altered after signing is refused too.
  const altered = await enroll(collector, { ...device.enrollRequest(TEST_ENROLLMENT_SECRET, { signedAt: now }), hostname: 'attacker-box' });
  assert.equal(altered.statusCode, 401, altered.body);
  // A captured genuine request replayed after the window.
  const stale = await enroll(collector, device.enrollRequest(TEST_ENROLLMENT_SECRET, { signedAt: now - ENROLL_PROOF_WINDOW_MS - 1 }));
  assert.equal(stale.statusCode, 401, stale.body);
  assert.match(stale.json<{ error: { message: string } }>().error.message, /minutes from the collector's clock/);
  assert.deepEqual(await deviceRow(collector, deviceId), { hostname: 'laptop-a', lastSeenAt: BASE }, 'neither renamed nor revived');

  // The key holder itself may re-enrol and rename; that is still not contact.
  const again = await enroll(collector, device.enrollRequest(TEST_ENROLLMENT_SECRET, { signedAt: now, hostname: 'laptop-a2' }));
  assert.equal(again.statusCode, 200, again.body);
  assert.equal(again.json<{ deviceId: string }>().deviceId, deviceId);
  assert.deepEqual(await deviceRow(collector, deviceId), { hostname: 'laptop-a2', lastSeenAt: BASE }, 'renamed by the key holder, last seen unchanged');
  assert.equal(await collector.count('devices'), 1);
}

async function enrolmentLimits(kit: StorageKit): Promise<void> {
  const collector = await kit.start({ enrollment: { maxDevices: 2, newDevicesPerWindow: 3 } });
  const devices = [new TestDevice(), new TestDevice(), new TestDevice(), new TestDevice()];
  for (const device of devices.slice(0, 2)) assert.equal((await enroll(collector, device.enrollRequest(TEST_ENROLLMENT_SECRET))).statusCode, 200);
  const full = await enroll(collector, devices[2]!.enrollRequest(TEST_ENROLLMENT_SECRET));
  assert.equal(full.statusCode, 403, full.body);
  assert.match(full.json<{ error: { message: string } }>().error.message, /maximum of 2 devices/);
  assert.equal((await enroll(collector, devices[0]!.enrollRequest(TEST_ENROLLMENT_SECRET))).statusCode, 200, 'a known device re-enrols at the cap');

  // Deleting one makes room; the per-secret budget (3 new devices a window) then runs out.
  const firstId = (await enroll(collector, devices[0]!.enrollRequest(TEST_ENROLLMENT_SECRET))).json<{ deviceId: string }>().deviceId;
  const deleted = await collector.app.inject({ method: 'DELETE', url: `/v1/devices/${firstId}`, headers: { authorization: `Bearer ${TEST_DEVICES_WRITE_TOKEN}` } });
  assert.equal(deleted.statusCode, 200, deleted.body);
  assert.equal((await enroll(collector, devices[2]!.enrollRequest(TEST_ENROLLMENT_SECRET))).statusCode, 200);
  const secondId = (await enroll(collector, devices[1]!.enrollRequest(TEST_ENROLLMENT_SECRET))).json<{ deviceId: string }>().deviceId;
  await collector.app.inject({ method: 'DELETE', url: `/v1/devices/${secondId}`, headers: { authorization: `Bearer ${TEST_DEVICES_WRITE_TOKEN}` } });
  const overBudget = await enroll(collector, devices[3]!.enrollRequest(TEST_ENROLLMENT_SECRET));
  assert.equal(overBudget.statusCode, 429, overBudget.body);
  assert.equal(errorCode(overBudget), 'RATE_LIMITED');
  assert.ok(Number(overBudget.headers['retry-after']) >= 1);
  assert.equal(await collector.count('devices'), 1);
}

async function itDeletesADevice(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const retired = await collector.enroll({ hostname: 'retired' });
  const kept = await collector.enroll({ hostname: 'kept' });
  for (const device of [retired, kept]) {
    assert.equal((await collector.postReport(device.nextReport({ findings: [sampleFinding()] }))).statusCode, 200);
    assert.equal((await collector.postReport(device.nextReport())).statusCode, 200);
  }
  const url = `/v1/devices/${retired.deviceId}`;
  const readOnly = await collector.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${TEST_IT_TOKEN}` } });
  assert.equal(readOnly.statusCode, 403, 'read scopes cannot delete');
  assert.match(readOnly.body, /devices:write/);
  assert.equal((await collector.app.inject({ method: 'DELETE', url })).statusCode, 401);

  const deleted = await collector.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${TEST_DEVICES_WRITE_TOKEN}` } });
  assert.equal(deleted.statusCode, 200, deleted.body);
  assert.deepEqual(deleted.json(), { deviceId: retired.deviceId, deleted: { reports: 2, findings: 1, gaps: 0 } });
  const listed = (await collector.itGet('/v1/devices')).json<{ devices: { hostname: string }[] }>().devices.map((device) => device.hostname);
  assert.deepEqual(listed, ['kept']);
  for (const table of ['reports', 'findings'] as const) assert.equal(await collector.count(table), table === 'reports' ? 2 : 1, `${table} of the kept device only`);

  const late = await collector.postReport(retired.nextReport());
  assert.equal(late.statusCode, 404, 'a deleted device cannot report');
  assert.equal(errorCode(late), 'DEVICE_UNKNOWN');
  assert.equal((await collector.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${TEST_DEVICES_WRITE_TOKEN}` } })).statusCode, 404);
  assert.equal((await collector.postReport(kept.nextReport())).statusCode, 200, 'the other device is untouched');

  // Its key enrols again only as a new device, starting a new chain.
  const back = await enroll(collector, retired.enrollRequest(TEST_ENROLLMENT_SECRET));
  assert.equal(back.statusCode, 200);
  assert.notEqual(back.json<{ deviceId: string }>().deviceId, retired.deviceId);
}

export const DEVICE_CASES: readonly StorageCase[] = [
  { name: 'enrolment proves possession of the key: without it a device is neither renamed nor revived', run: enrolmentProvesPossession },
  { name: 'enrolment limits: a device cap (403) and new devices per secret (429); known devices re-enrol', run: enrolmentLimits },
  { name: 'IT deletes a retired device (devices:write) with everything stored of it; it can no longer report', run: itDeletesADevice },
];
