/**
 * Fuzzing every collector route through inject with a fixed seed: random and mutated bodies (bit
 * flips, truncations, type swaps, huge numbers, deep nesting, unicode, wrong content types). The
 * collector must never answer 5xx, every error must have the JSON error shape, and the rows stored
 * must match exactly the reports it acknowledged as stored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestCollector, TEST_ENROLLMENT_SECRET, TEST_IT_TOKEN } from '../helpers/collector/harness';
import { sampleFinding } from '../helpers/collector/make-reports';
import { sealReport } from '../../protocol/report-crypto';

const SEED = 0x7e11_7a1e;
const CASES = 3000;

/** mulberry32: small, fast, deterministic. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD_VALUES: readonly unknown[] = [
  null, true, false, 0, -0, -1, 1.5, 2 ** 53 + 1, Number.MAX_VALUE, '', 'x', '\u0000', '\ud800', '👀'.repeat(50), 'ß\u2028\u2029', [], {}, [[[]]],
  { __proto__x: 1 }, 'a'.repeat(5000),
];
const RAW_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '1e-400', '-0.0', '0x10', 'NaN', 'Infinity'];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/octet-stream', 'multipart/form-data; boundary=x', ''];

test('fuzzed requests never cause 5xx and always get the JSON error shape', async (t) => {
  const collector = await startTestCollector(t, { rateLimit: { perIp: 1_000_000, reportsPerDevice: 1_000_000 } });
  const device = await collector.enroll();
  const next = () => device.nextReport({ findings: [sampleFinding()] });
  const rand = random(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

  function swapRandomValue(value: unknown, depth = 0): unknown {
    if (value === null || typeof value !== 'object' || depth > 4 || rand() < 0.25) return pick(WEIRD_VALUES);
    if (Array.isArray(value)) {
      if (value.length === 0) return [pick(WEIRD_VALUES)];
      const copy = [...value];
      const index = Math.floor(rand() * copy.length);
      copy[index] = swapRandomValue(copy[index], depth + 1);
      return copy;
    }
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (rand() < 0.1) copy[`extra${Math.floor(rand() * 10)}`] = pick(WEIRD_VALUES);
    else if (rand() < 0.1 && keys.length > 0) delete copy[pick(keys)];
    else if (keys.length > 0) {
      const key = pick(keys);
      copy[key] = swapRandomValue(copy[key], depth + 1);
    }
    return copy;
  }

  function mutateText(text: string): string {
    switch (Math.floor(rand() * 6)) {
      case 0: {
        // Bit flips.
        const bytes = Buffer.from(text, 'utf8');
        for (let flips = 1 + Math.floor(rand() * 4); flips > 0; flips--) bytes[Math.floor(rand() * bytes.length)]! ^= 1 << Math.floor(rand() * 8);
        return bytes.toString('latin1');
      }
      case 1:
        return text.slice(0, Math.floor(rand() * text.length));
      case 2: {
        // A raw huge / odd number literal in place of a number.
        const numbers = [...text.matchAll(/-?\d+(\.\d+)?/g)];
        if (numbers.length === 0) return text;
        const match = pick(numbers);
        return text.slice(0, match.index) + pick(RAW_NUMBERS) + text.slice(match.index! + match[0].length);
      }
      case 3: {
        const depth = pick([10, 1000, 50_000]);
        return text.replace('"timing":[]', `"timing":[${'['.repeat(depth)}${']'.repeat(depth)}]`);
      }
      case 4:
        return text.replace(/"[a-zA-Z]+"/, '"__proto__"');
      default:
        return pick(['', 'null', '[]', '{}', '"string"', '12', '{"body":null,"sig":null}', '\u0000\u0001', '{'.repeat(100)]);
    }
  }

  const itUrls = [
    '/v1/devices',
    `/v1/devices/${device.deviceId}/findings?limit=`,
    `/v1/devices/${encodeURIComponent('../..%00')}/reports`,
    '/v1/findings/stream?cursor=-1',
    '/v1/findings/stream?cursor=99999999999999999999',
    '/v1/findings/ocsf?limit=0&cursor=1e3',
    `/v1/reports/${device.deviceId}/0`,
    `/v1/reports/${device.deviceId}/abc`,
    '/v1/findings/stream?cursor[]=1',
    '/nope',
  ];

  let acknowledgedStored = 0;
  const statuses = new Map<number, number>();
  for (let index = 0; index < CASES; index++) {
    const kind = rand();
    let response;
    if (kind < 0.04) {
      // A genuine report, then a validly signed rewrite of it (a fork) and an oversized body.
      const report = next();
      response = await collector.postReport(report);
      if (response.statusCode === 200 && response.json<{ status: string }>().status === 'stored') acknowledgedStored++;
      const fork = sealReport({ ...report.body, createdAt: report.body.createdAt + 1 }, device.privateKey).report;
      const forkResponse = await collector.postReport(fork);
      assert.equal(forkResponse.statusCode, 409, forkResponse.body);
      const oversized = await collector.postReport(`{"pad":"${'x'.repeat(300_000 + Math.floor(rand() * 1000))}"}`);
      assert.equal(oversized.statusCode, 413);
      statuses.set(409, (statuses.get(409) ?? 0) + 1);
      statuses.set(413, (statuses.get(413) ?? 0) + 1);
    } else if (kind < 0.5) {
      const report = next();
      const mutated = rand() < 0.5 ? JSON.stringify(swapRandomValue(report)) : mutateText(JSON.stringify(report));
      response = await collector.app.inject({ method: 'POST', url: '/v1/reports', headers: { 'content-type': rand() < 0.85 ? 'application/json' : pick(CONTENT_TYPES) }, payload: mutated });
      if (response.statusCode === 200 && response.json<{ status: string }>().status === 'stored') acknowledgedStored++;
    } else if (kind < 0.7) {
      const enroll = device.enrollRequest(rand() < 0.5 ? TEST_ENROLLMENT_SECRET : 'wrong-secret-x');
      const mutated = rand() < 0.5 ? JSON.stringify(swapRandomValue(enroll)) : mutateText(JSON.stringify(enroll));
      response = await collector.app.inject({ method: 'POST', url: '/v1/enroll', headers: { 'content-type': pick(CONTENT_TYPES) }, payload: mutated });
    } else if (kind < 0.9) {
      const token = pick([TEST_IT_TOKEN, '', 'x', `${TEST_IT_TOKEN}\u0000`, 'Bearer', 'ü'.repeat(10)]);
      response = await collector.app.inject({ method: pick(['GET', 'GET', 'POST', 'DELETE', 'PUT']) as 'GET', url: pick(itUrls), headers: { authorization: `Bearer ${token}` } });
    } else {
      response = await collector.app.inject({ method: pick(['POST', 'PATCH', 'OPTIONS']) as 'POST', url: pick(['/v1/reports', '/v1/enroll', '/', '/v1/health']), headers: { 'content-type': pick(CONTENT_TYPES) }, payload: mutateText('{"a":1}') });
    }
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    assert.ok(response.statusCode < 500, `case ${index}: ${response.statusCode} ${response.body.slice(0, 300)}`);
    if (response.statusCode >= 400) {
      const body = response.json<{ error?: { code?: unknown; message?: unknown } }>();
      assert.equal(typeof body.error?.code, 'string', `case ${index}: ${response.body.slice(0, 300)}`);
      assert.equal(typeof body.error?.message, 'string', `case ${index}: ${response.body.slice(0, 300)}`);
    }
  }
  assert.equal(await collector.count('reports'), acknowledgedStored, 'stored rows equal acknowledged stores');
  t.diagnostic(`status counts: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  // The generator must reach the interesting answers, or the fuzz is not testing much.
  for (const status of [400, 401, 404, 409, 413, 415]) assert.ok((statuses.get(status) ?? 0) > 0, `no ${status} seen`);
});
