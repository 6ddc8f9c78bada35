/**
 * Storage cases: the edge refuses what a store would treat differently or choke on. A NUL anywhere,
 * a number or string beyond its bound, evidence nested too deep: each is a 400 that names the field,
 * identical on SQLite and PostgreSQL, and stores nothing.
 */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { MAX_EVIDENCE_DEPTH } from '../../../../common/findings';
import { sealReport } from '../../../../protocol/report-crypto';
import { TEST_ENROLLMENT_SECRET } from '../harness';
import { sampleFinding, TestDevice } from '../make-reports';
import { assertUnchanged, errorCode, snapshot, type StorageCase, type StorageKit } from '../storage-kit';

function assertRefused(response: LightMyRequestResponse, message: RegExp, what: string): void {
  assert.equal(response.statusCode, 400, `${what}: ${response.body}`);
  assert.equal(errorCode(response), 'PAYLOAD_INVALID', what);
  assert.match(response.json<{ error: { message: string } }>().error.message, message, what);
}

async function nulRefusedEverywhere(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const before = await snapshot(collector);
  const devicesBefore = await collector.count('devices');
  // Each body is correctly signed at the next chain position: only the NUL is wrong.
  const sealed = (findings = [sampleFinding()]) => sealReport({ ...device.peekReport().body, findings }, device.privateKey).report;
  const cases: [string, ReturnType<typeof sealed>, RegExp][] = [
    ['title', sealed([sampleFinding({ title: 'remote\u0000session' })]), /body\/body\/findings\/0\/title contains a NUL/],
    ['evidence value', sealed([sampleFinding({ evidence: { tool: ['x', 'a\u0000'] } })]), /body\/body\/findings\/0\/evidence\/tool\/1 contains a NUL/],
    ['evidence key', sealed([sampleFinding({ evidence: { 'k\u0000': 1 } })]), /property name/],
  ];
  for (const [what, report, message] of cases) assertRefused(await collector.postReport(report), message, what);

  const enroll = await collector.app.inject({
    method: 'POST',
    url: '/v1/enroll',
    payload: new TestDevice({ hostname: 'lap\u0000top' }).enrollRequest(TEST_ENROLLMENT_SECRET),
  });
  assertRefused(enroll, /body\/hostname contains a NUL/, 'enroll hostname');
  assertRefused(await collector.itGet(`/v1/devices/${encodeURIComponent('a\u0000b')}/reports`), /params\/id contains a NUL/, 'IT path parameter');
  assertRefused(await collector.itGet(`/v1/reports/${encodeURIComponent('\u0000')}/1`), /params\/deviceId contains a NUL/, 'report path parameter');
  assertRefused(await collector.itGet('/v1/findings/stream?cursor=%00'), /query\/cursor contains a NUL/, 'IT query');

  await assertUnchanged(collector, before);
  assert.equal(await collector.count('devices'), devicesBefore);
  const fine = await collector.postReport(device.nextReport({ findings: [sampleFinding()] }));
  assert.equal(fine.statusCode, 200, fine.body);
}

async function loneSurrogateRefusedEverywhere(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const before = await snapshot(collector);
  const devicesBefore = await collector.count('devices');
  // A lone surrogate has no canonical form to sign, so these carry the unchanged report's signature: the edge answers before it is checked.
  const withFinding = (overrides: object) => {
    const report = device.peekReport({ findings: [sampleFinding()] });
    return JSON.stringify({ body: { ...report.body, findings: [{ ...report.body.findings[0], ...overrides }] }, sig: report.sig });
  };
  const cases: [string, string, RegExp][] = [
    ['high surrogate in a title', withFinding({ title: 'remote \ud800 session' }), /body\/body\/findings\/0\/title contains a lone UTF-16 surrogate/],
    ['low surrogate in an evidence value', withFinding({ evidence: { tool: ['x', '\udc00a'] } }), /body\/body\/findings\/0\/evidence\/tool\/1 contains a lone UTF-16 surrogate/],
    ['surrogate in an evidence key', withFinding({ evidence: { 'k\udbff': 1 } }), /property name\) contains a lone UTF-16 surrogate/],
  ];
  for (const [what, payload, message] of cases) assertRefused(await collector.postReport(payload), message, what);
  const enroll = await collector.app.inject({
    method: 'POST',
    url: '/v1/enroll',
    payload: new TestDevice({ hostname: 'lap\ud83dtop' }).enrollRequest(TEST_ENROLLMENT_SECRET),
  });
  assertRefused(enroll, /body\/hostname contains a lone UTF-16 surrogate/, 'enroll hostname');

  await assertUnchanged(collector, before);
  assert.equal(await collector.count('devices'), devicesBefore);
  // A whole pair (an emoji) is fine.
  const fine = await collector.postReport(device.nextReport({ findings: [sampleFinding({ title: 'remote 👀 session' })] }));
  assert.equal(fine.statusCode, 200, fine.body);
}

async function boundsAtTheEdge(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const device = await collector.enroll();
  const before = await snapshot(collector);
  const signed = (change: (body: ReturnType<TestDevice['nextReport']>['body']) => unknown) => {
    const report = device.peekReport({ findings: [sampleFinding()] });
    return JSON.stringify({ body: change(structuredClone(report.body)), sig: report.sig });
  };
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let level = 0; level < MAX_EVIDENCE_DEPTH + 2; level++) deep = { nested: deep };
  const findingWith = (overrides: object) => (body: { findings: object[] }) => ({ ...body, findings: [{ ...body.findings[0], ...overrides }] });

  const cases: [string, string, RegExp][] = [
    ['seq 2^53', signed((body) => ({ ...body, seq: 2 ** 53 })), /seq/],
    ['seq 2^63 as a literal', signed((body) => body).replace(/"seq":\d+/, '"seq":9223372036854775808'), /seq/],
    ['createdAt 1e300', signed((body) => ({ ...body, createdAt: 1e300 })), /createdAt/],
    ['negative window', signed((body) => ({ ...body, window: { from: -1, to: 0 } })), /window\/from/],
    ['finding time 1e20', signed(findingWith({ lastSeenAt: 1e20 }) as never), /lastSeenAt/],
    ['key of 513 characters', signed(findingWith({ key: 'k'.repeat(513) }) as never), /key/],
    ['1001 findings', signed((body) => ({ ...body, findings: Array.from({ length: 1001 }, () => ({ ...body.findings[0], title: '', explanation: '', evidence: {} })) })), /findings/],
    ['evidence too deep', signed(findingWith({ evidence: deep }) as never), new RegExp(`nests deeper than ${MAX_EVIDENCE_DEPTH} levels`)],
    ['evidence number 1e400', signed(findingWith({ evidence: { rtt: 7 } }) as never).replace('"rtt":7', '"rtt":1e400'), /evidence\/rtt is not a finite number/],
    ['device id of 65 characters', signed((body) => ({ ...body, deviceId: 'd'.repeat(65) })), /deviceId/],
  ];
  for (const [what, payload, message] of cases) assertRefused(await collector.postReport(payload), message, what);

  const enroll = (overrides: object) =>
    collector.app.inject({ method: 'POST', url: '/v1/enroll', payload: { ...new TestDevice().enrollRequest(TEST_ENROLLMENT_SECRET), ...overrides } });
  assertRefused(await enroll({ hostname: 'h'.repeat(256) }), /hostname/, 'hostname of 256 characters');
  assertRefused(await enroll({ enrollmentSecret: 's'.repeat(257) }), /enrollmentSecret/, 'secret of 257 characters');
  assertRefused(await enroll({ platform: 7 }), /platform/, 'platform as a number');
  assertRefused(await collector.itGet('/v1/findings/stream?cursor=9999999999999999'), /cursor/, 'cursor of 16 digits');
  assertRefused(await collector.itGet(`/v1/devices/${device.deviceId}/findings?limit=-1`), /limit/, 'negative limit');
  assertRefused(await collector.itGet(`/v1/devices/${'d'.repeat(65)}/reports`), /id/, 'device id parameter of 65 characters');

  await assertUnchanged(collector, before);
  const fine = await collector.postReport(device.nextReport({ findings: [sampleFinding()] }));
  assert.equal(fine.statusCode, 200, fine.body);
}

async function healthProbesThisStore(kit: StorageKit): Promise<void> {
  const collector = await kit.start();
  const response = await collector.app.inject({ method: 'GET', url: '/v1/health' });
  assert.equal(response.statusCode, 200, response.body);
  assert.deepEqual(response.json<{ reasons: string[] }>().reasons, []);
  const probe = await collector.database.get("SELECT value FROM counters WHERE name = 'health_probe'");
  assert.equal(Number(probe?.value), 1, 'health wrote its probe and read it back');
}

export const EDGE_CASES: readonly StorageCase[] = [
  { name: 'a NUL in any string (report, evidence, enrolment, IT parameters) is a 400 naming the field, on every store', run: nulRefusedEverywhere },
  { name: 'a lone UTF-16 surrogate in any string of a report or an enrolment is a 400 naming the field, on every store', run: loneSurrogateRefusedEverywhere },
  { name: 'numbers, strings, counts and evidence depth beyond their bounds are 400s naming the field and store nothing', run: boundsAtTheEdge },
  { name: 'health writes a probe to this store and reads it back before saying ok', run: healthProbesThisStore },
];
