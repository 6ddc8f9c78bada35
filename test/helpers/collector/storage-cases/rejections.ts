/** Storage cases: what the collector refuses (bad signatures, bad bodies, overload, rate limits) stores nothing. */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { MAX_REPORT_BYTES } from '../../../../common/report';
import { sampleFinding } from '../make-reports';
import { sealReport } from '../../../../protocol/report-crypto';
import { assertUnchanged, errorCode, snapshot, type StorageCase, type StorageKit } from '../storage-kit';

async function forgedTamperedReplayed(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const victim = await collector.enroll({ hostname: 'victim' });
  const report = device.nextReport({ findings: [sampleFinding()] });
  const before = await snapshot(collector);

  const forger = crypto.generateKeyPairSync('ed25519');
  const forged = await collector.postReport(sealReport(report.body, forger.privateKey).report);
  assert.equal(forged.statusCode, 401);
  assert.equal(errorCode(forged), 'SIGNATURE_INVALID');

  const tampered = await collector.postReport({ body: { ...report.body, findings: [{ ...report.body.findings[0]!, severity: 'low' }] }, sig: report.sig });
  assert.equal(tampered.statusCode, 401);
  assert.equal(errorCode(tampered), 'SIGNATURE_INVALID');

  const replayed = await collector.postReport({ body: { ...report.body, deviceId: victim.deviceId }, sig: report.sig });
  assert.equal(replayed.statusCode, 401);

  const unknown = await collector.postReport({ body: { ...report.body, deviceId: 'no-such-device' }, sig: report.sig });
  assert.equal(unknown.statusCode, 404);
  assert.equal(errorCode(unknown), 'DEVICE_UNKNOWN');

  // A non-canonical spelling of the signature's last base64url character is refused too.
  const last = report.sig.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
  const respelled = await collector.postReport({ body: report.body, sig: report.sig.slice(0, -1) + sibling });
  assert.equal(respelled.statusCode, 401);

  await assertUnchanged(collector, before);
  assert.equal((await collector.postReport(report)).statusCode, 200, 'the genuine report is still accepted');
}

async function badBodies(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const before = await snapshot(collector);

  const huge = await collector.postReport(JSON.stringify({ pad: 'x'.repeat(MAX_REPORT_BYTES + 8192) }));
  assert.equal(huge.statusCode, 413);
  assert.equal(errorCode(huge), 'PAYLOAD_TOO_LARGE');

  // Under the transport limit but a canonical body over MAX_REPORT_BYTES.
  const big = device.nextReport({ findings: [sampleFinding({ evidence: { blob: 'y'.repeat(MAX_REPORT_BYTES) } })] });
  const bigResponse = await collector.postReport(big);
  assert.equal(bigResponse.statusCode, 413, bigResponse.body);

  const malformed = await collector.postReport('{"body": {"v": 1,');
  assert.equal(malformed.statusCode, 400);
  assert.equal(errorCode(malformed), 'PAYLOAD_INVALID');

  const wrongType = await collector.postReport(JSON.stringify({ body: { ...big.body, seq: '1' }, sig: big.sig }));
  assert.equal(wrongType.statusCode, 400);
  assert.match(wrongType.json<{ error: { message: string } }>().error.message, /seq/);

  const extra = await collector.postReport(JSON.stringify({ body: { ...big.body, extra: true }, sig: big.sig }));
  assert.equal(extra.statusCode, 400);

  const text = await collector.app.inject({ method: 'POST', url: '/v1/reports', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
  assert.equal(text.statusCode, 415);
  assert.equal(errorCode(text), 'UNSUPPORTED_MEDIA_TYPE');
  await assertUnchanged(collector, before);
}

async function fullQueue(kit: StorageKit): Promise<void> {
  const collector = await kit.start({ queue: { maxPending: 2, maxBatch: 2, retryAfterSeconds: 3 } });
  const devices = await Promise.all([1, 2, 3, 4, 5, 6].map(() => collector.enroll()));
  const responses = await Promise.all(devices.map((device) => collector.postReport(device.nextReport())));
  const codes = responses.map((response) => response.statusCode);
  assert.ok(codes.includes(429), `expected some 429s, got ${codes.join(',')}`);
  for (const response of responses.filter((item) => item.statusCode === 429)) {
    assert.equal(response.headers['retry-after'], '3');
    assert.equal(errorCode(response), 'OVERLOADED');
  }
  assert.equal(await collector.count('reports'), codes.filter((code) => code === 200).length);
}

async function perDeviceRateLimit(kit: StorageKit): Promise<void> {
  const collector = await kit.start({ rateLimit: { reportsPerDevice: 2 } });
  const device = await collector.enroll();
  const other = await collector.enroll();
  const codes: number[] = [];
  let limited;
  for (let index = 0; index < 3; index++) {
    const response = await collector.postReport(device.nextReport());
    codes.push(response.statusCode);
    if (response.statusCode === 429) limited = response;
  }
  assert.deepEqual(codes, [200, 200, 429]);
  assert.ok(Number(limited!.headers['retry-after']) >= 1);
  assert.equal(errorCode(limited!), 'RATE_LIMITED');
  assert.equal((await collector.postReport(other.nextReport())).statusCode, 200, 'another device has its own budget');
  assert.equal(await collector.count('reports'), 3);
}

export const REJECTION_CASES: readonly StorageCase[] = [
  { name: 'forged, tampered and replayed reports are refused with 401/404 and store nothing', run: forgedTamperedReplayed },
  { name: 'oversized, malformed and mistyped bodies get the JSON error shape and store nothing', run: badBodies },
  { name: 'a full commit queue answers 429 with Retry-After and stores only what it acknowledged', run: fullQueue },
  { name: 'per-device rate limit answers 429 with Retry-After', run: perDeviceRateLimit },
];
