/**
 * Limits that count outcomes, per source address (inject's remoteAddress) and per device: junk
 * naming a victim's device id does not spend its budget, failed IT tokens and failed enrolments are
 * throttled per address, and reports have a per-address limit of their own.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { parseCollectorConfig } from '../../collector/config';
import { sealReport } from '../../protocol/report-crypto';
import { startTestCollector, TEST_ENROLLMENT_SECRET, TEST_IT_TOKEN, type TestCollector } from '../helpers/collector/harness';
import { TestDevice } from '../helpers/collector/make-reports';
import { errorCode } from '../helpers/collector/storage-kit';

const address = (index: number) => `10.0.${Math.floor(index / 250)}.${(index % 250) + 1}`;

function post(collector: TestCollector, url: string, payload: object, remoteAddress: string) {
  return collector.app.inject({ method: 'POST', url, payload, remoteAddress });
}

test("the defaults: 720 failed attempts an hour per address, a fleet's worth of reports per address", () => {
  const config = parseCollectorConfig({ storage: { kind: 'sqlite', file: ':memory:' }, enrollmentSecret: TEST_ENROLLMENT_SECRET });
  assert.equal(config.rateLimit.failuresPerIp, 720);
  assert.equal(config.rateLimit.failureWindowMs, 3_600_000);
  assert.ok(config.rateLimit.reportsPerIp > config.rateLimit.reportsPerDevice);
});

test("junk reports naming a victim's device id from many addresses do not lock the victim out", async (t) => {
  const collector = await startTestCollector(t, { rateLimit: { reportsPerDevice: 3 } });
  const victim = await collector.enroll();
  const forger = crypto.generateKeyPairSync('ed25519');
  for (let index = 0; index < 600; index++) {
    const junk = sealReport({ ...victim.peekReport().body, createdAt: 1_700_000_000_000 + index }, forger.privateKey).report;
    const response = await post(collector, '/v1/reports', junk, address(index));
    assert.equal(response.statusCode, 401, `junk ${index}: ${response.body}`);
  }
  // The victim's real reports use its whole budget, and only verified reports count against it.
  const codes: number[] = [];
  for (let index = 0; index < 4; index++) codes.push((await post(collector, '/v1/reports', victim.nextReport(), '192.0.2.7')).statusCode);
  assert.deepEqual(codes, [200, 200, 200, 429]);
  assert.equal(await collector.count('reports'), 3);
});

test('reports have a per-address limit: 429 with Retry-After, other addresses unaffected', async (t) => {
  const collector = await startTestCollector(t, { rateLimit: { reportsPerIp: 5 } });
  const device = await collector.enroll();
  const codes: number[] = [];
  for (let index = 0; index < 7; index++) codes.push((await post(collector, '/v1/reports', { body: {}, sig: '' }, '198.51.100.1')).statusCode);
  assert.deepEqual(codes, [400, 400, 400, 400, 400, 429, 429]);
  const limited = await post(collector, '/v1/reports', device.peekReport(), '198.51.100.1');
  assert.equal(errorCode(limited), 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  assert.equal((await post(collector, '/v1/reports', device.nextReport(), '198.51.100.2')).statusCode, 200);
});

test('failed IT-token attempts are counted per address and throttled, even for a right token afterwards', async (t) => {
  const collector = await startTestCollector(t, { rateLimit: { failuresPerIp: 5 } });
  const get = (token: string, remoteAddress: string) =>
    collector.app.inject({ method: 'GET', url: '/v1/devices', headers: { authorization: `Bearer ${token}` }, remoteAddress });
  for (let index = 0; index < 5; index++) assert.equal((await get(`guess-${index}-0123456789abcdef`, '203.0.113.9')).statusCode, 401);
  const throttled = await get(TEST_IT_TOKEN, '203.0.113.9');
  assert.equal(throttled.statusCode, 429);
  assert.equal(errorCode(throttled), 'RATE_LIMITED');
  assert.match(throttled.body, /failed IT-token attempts/);
  assert.ok(Number(throttled.headers['retry-after']) > 60, 'the failure window is long');
  assert.equal((await get(TEST_IT_TOKEN, '203.0.113.10')).statusCode, 200, 'another address is not throttled');
  // A right token does not count as a failure, nor does a wrong scope.
  for (let index = 0; index < 10; index++) assert.equal((await get(TEST_IT_TOKEN, '203.0.113.11')).statusCode, 200);
});

test('failed enrolments are counted per address and throttled; all addresses together have a budget too', async (t) => {
  const collector = await startTestCollector(t, { rateLimit: { failuresPerIp: 5 }, enrollment: { attemptsPerWindow: 12 } });
  for (let index = 0; index < 5; index++) {
    assert.equal((await post(collector, '/v1/enroll', new TestDevice().enrollRequest(`wrong-secret-${index}`), '203.0.113.20')).statusCode, 401);
  }
  const throttled = await post(collector, '/v1/enroll', new TestDevice().enrollRequest(TEST_ENROLLMENT_SECRET), '203.0.113.20');
  assert.equal(throttled.statusCode, 429);
  assert.match(throttled.body, /failed enrolment attempts/);
  // A wrong proof is a failure too.
  const stranger = new TestDevice();
  const badProof = { ...new TestDevice().enrollRequest(TEST_ENROLLMENT_SECRET), publicKey: stranger.publicKeySpki };
  assert.equal((await post(collector, '/v1/enroll', badProof, '203.0.113.21')).statusCode, 401);
  assert.equal((await post(collector, '/v1/enroll', new TestDevice().enrollRequest(TEST_ENROLLMENT_SECRET), '203.0.113.21')).statusCode, 200);
  // 7 attempts counted so far (the throttled one was refused before counting); guesses spread over
  // addresses run into the collector-wide budget of 12.
  const codes: number[] = [];
  for (let index = 0; index < 6; index++) codes.push((await post(collector, '/v1/enroll', new TestDevice().enrollRequest('wrong-secret-x'), address(index))).statusCode);
  assert.deepEqual(codes, [401, 401, 401, 401, 401, 429]);
});
