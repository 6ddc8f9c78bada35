/**
 * A seeded fuzz of every collector route through inject, run on each store (the CI tests at a
 * reduced size, `npm run bench -- --only fuzz` at full size): bodies built from the
 * wire schemas with values at and beyond every bound (numbers, string lengths, item counts, NULs)
 * and then correctly signed, so they reach the commit path whenever the schema lets them through;
 * random and mutated structures (bit flips, truncations, type swaps, huge literals, deep nesting);
 * random headers and content types; IT queries and a device delete. The collector must never answer
 * 5xx, every error must have the JSON error shape with a message, and the reports stored must be
 * exactly the ones acknowledged as stored (less those of devices IT deleted). The fuzz counts what
 * it sees; `fuzzProblems` says which of those promises the figures break.
 */
import crypto from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { LightMyRequestResponse } from 'fastify';
import { EnrollRequestSchema, enrollProofMessage, ReportBodySchema, type ReportBody } from '../../common/report';
import { canonicalBody, sealReport } from '../../protocol/report-crypto';
import { sampleWindow } from './sample-window';
import { TEST_DEVICES_WRITE_TOKEN, TEST_ENROLLMENT_SECRET, TEST_IT_TOKEN, TEST_TRIAGE_TOKEN, type LabCollector } from './harness';
import { sampleFinding, TestDevice } from './make-reports';

/** Limits high enough that the fuzz reaches every route's checks instead of 429s. */
export const FUZZ_LIMITS = {
  rateLimit: { perIp: 1_000_000, reportsPerIp: 1_000_000, reportsPerDevice: 1_000_000, failuresPerIp: 1_000_000 },
  enrollment: { attemptsPerWindow: 1_000_000, newDevicesPerWindow: 1_000_000 },
};

/** What one fuzz run saw. */
export interface FuzzFigures {
  /** Requests sent. */
  readonly inputs: number;
  /** Answers with a 5xx status. */
  readonly serverErrors: number;
  /** 4xx answers without the JSON error shape or with an empty code or message. */
  readonly malformedClientErrors: number;
  /** Report posts answered 200 `stored`. */
  readonly acknowledgedStored: number;
  /** Reports removed with devices IT deleted. */
  readonly deletedReports: number;
  /** Rows in `reports` at the end. */
  readonly stored: number;
  /** Acknowledged reports, not deleted, that are not stored (negative: more stored than acknowledged). */
  readonly lost: number;
  readonly statuses: Record<number, number>;
  /** The first few answers that broke a promise, for the message. */
  readonly samples: readonly string[];
}

/** The statuses the generator must reach, or the fuzz is not testing much. */
export const FUZZ_EXPECTED_STATUSES = [200, 400, 401, 403, 404, 409, 413, 415] as const;

/** Which promises `figures` break, one line each; empty when the collector held up. */
export function fuzzProblems(figures: FuzzFigures): string[] {
  const problems: string[] = [];
  if (figures.serverErrors > 0) problems.push(`${figures.serverErrors} answers were 5xx`);
  if (figures.malformedClientErrors > 0) problems.push(`${figures.malformedClientErrors} 4xx answers had no clear error code and message`);
  if (figures.lost !== 0) problems.push(`stored rows (${figures.stored}) differ from acknowledged stores (${figures.acknowledgedStored}) less deleted (${figures.deletedReports})`);
  for (const status of FUZZ_EXPECTED_STATUSES) if ((figures.statuses[status] ?? 0) === 0) problems.push(`no ${status} seen`);
  if (figures.samples.length > 0) problems.push(...figures.samples.map((sample) => `  ${sample}`));
  return problems;
}

/** A small seeded generator (mulberry32), so a seed replays the same inputs. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

type Schema = TSchema & {
  type?: string;
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  items?: Schema;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  const?: unknown;
};

const WEIRD_VALUES: readonly unknown[] = [
  null, true, false, 0, -0, -1, 1.5, 2 ** 53 + 1, Number.MAX_VALUE, '', 'x', '\u0000', '\ud800', '👀'.repeat(50), 'ß\u2028\u2029', [], {}, [[[]]],
  { __proto__x: 1 }, 'a'.repeat(5000),
];
const RAW_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '1e-400', '-0.0', '0x10', 'NaN', 'Infinity', '9223372036854775808'];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/octet-stream', 'multipart/form-data; boundary=x', ''];
const QUERY_VALUES = ['0', '1', '999999999999999', '9999999999999999', '-1', '1e3', '', '%00', 'abc', '1.5', `${'9'.repeat(400)}`];
const RANDOM_HEADERS: readonly Record<string, string>[] = [
  {},
  { 'x-forwarded-for': '1.2.3.4, ::1, junk' },
  { authorization: `Bearer ${'a'.repeat(600)}` },
  { authorization: 'Basic dXNlcjpwYXNz' },
  { 'content-encoding': 'gzip' },
  { accept: 'application/xml' },
  { 'x-next-cursor': '-1' },
  { cookie: 'a=b; '.repeat(200) },
];

/** Every leaf and container of `value` with the schema node that governs it. */
function schemaPaths(schema: Schema, value: unknown, path: (string | number)[] = [], out: { path: (string | number)[]; schema: Schema }[] = []) {
  if (schema.anyOf) {
    const branch = schema.anyOf.find((option) => Value.Check(option, value));
    if (branch) schemaPaths(branch, value, path, out);
    else out.push({ path, schema });
    return out;
  }
  out.push({ path, schema });
  if (schema.type === 'object' && schema.properties && value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(schema.properties)) if (key in value) schemaPaths(child, (value as Record<string, unknown>)[key], [...path, key], out);
  } else if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    value.forEach((item, index) => schemaPaths(schema.items!, item, [...path, index], out));
  }
  return out;
}

/** Values at and just beyond a schema node's bounds, and some of the wrong type. */
function boundaryValues(schema: Schema, current: unknown): unknown[] {
  const values: unknown[] = [null, 'x', 7, {}];
  if (schema.type === 'integer' || schema.type === 'number') {
    const min = schema.minimum ?? 0;
    const max = schema.maximum ?? Number.MAX_SAFE_INTEGER;
    values.push(min, max, min - 1, max + 1, max * 2, -max, 2 ** 53, 2 ** 63, 1e300, 0.5, min + 0.5, -0);
  } else if (schema.type === 'string') {
    const max = schema.maxLength ?? 64;
    values.push('', 'x'.repeat(max), 'x'.repeat(max + 1), 'é'.repeat(max), `${String(current)}\u0000`, '\ud800', '0'.repeat(64), 'A'.repeat(86));
  } else if (schema.type === 'array') {
    const first = Array.isArray(current) ? current[0] : undefined;
    const max = Math.min(schema.maxItems ?? 10, 2001);
    values.push([], Array.from({ length: max }, () => first ?? 1), Array.from({ length: max + 1 }, () => first ?? 1));
  } else if (schema.type === 'object') {
    values.push({ ...(current as object), extra: 1 }, []);
  } else if ('const' in schema) {
    values.push(2, 'report ', 'HEARTBEAT');
  }
  return values;
}

function getPath(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

function setPath(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

function storedAck(response: LightMyRequestResponse): boolean {
  return response.statusCode === 200 && response.json<{ status: string }>().status === 'stored';
}

/**
 * Run `cases` fuzz inputs against `collector` (started with FUZZ_LIMITS) and count what it answers.
 * `onProgress` is called every 1000 inputs.
 */
export async function fuzzCollector(collector: LabCollector, cases: number, seed: number, onProgress?: (inputs: number) => void): Promise<FuzzFigures> {
  const rand = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const device = await collector.enroll();
  // Boundary reports come from a device of their own, whose chain follows what the collector stored.
  let boundaryDevice = await collector.enroll();
  let boundaryBody: ReportBody | null = null;
  const extra: TestDevice[] = [];
  const statuses = new Map<number, number>();
  let acknowledgedStored = 0;
  let deletedReports = 0;
  let inputs = 0;
  let serverErrors = 0;
  let malformedClientErrors = 0;
  const samples: string[] = [];
  const sample = (text: string): void => {
    if (samples.length < 5) samples.push(text);
  };

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
        const bytes = Buffer.from(text, 'utf8');
        for (let flips = 1 + Math.floor(rand() * 4); flips > 0; flips--) bytes[Math.floor(rand() * bytes.length)]! ^= 1 << Math.floor(rand() * 8);
        return bytes.toString('latin1');
      }
      case 1:
        return text.slice(0, Math.floor(rand() * text.length));
      case 2: {
        const numbers = [...text.matchAll(/-?\d+(\.\d+)?/g)];
        if (numbers.length === 0) return text;
        const match = pick(numbers);
        return text.slice(0, match.index) + pick(RAW_NUMBERS) + text.slice(match.index! + match[0].length);
      }
      case 3: {
        const depth = pick([10, 1000, 50_000]);
        return text.replace('"evidence":{', `"evidence":{"deep":${'['.repeat(depth)}${']'.repeat(depth)},`);
      }
      case 4:
        return text.replace(/"[a-zA-Z]+"/, '"__proto__"');
      default:
        return pick(['', 'null', '[]', '{}', '"string"', '12', '{"body":null,"sig":null}', '\u0000\u0001', '{'.repeat(100)]);
    }
  }

  /** A body of the next report with findings and timing, one node set to a boundary value, signed by the device. */
  function boundaryReport(): string {
    const report = boundaryDevice.peekReport({ findings: [sampleFinding(), sampleFinding({ key: 'second', evidence: { nested: { list: [1, 'two', null] } } })] });
    const body: ReportBody = { ...report.body, timing: [sampleWindow(report.body.window.from, 40)] };
    const target = pick(schemaPaths(ReportBodySchema as Schema, body));
    const mutated = setPath(body, target.path, pick(boundaryValues(target.schema, getPath(body, target.path)))) as ReportBody;
    let sig = report.sig;
    boundaryBody = mutated;
    try {
      sig = sealReport(mutated, boundaryDevice.privateKey).report.sig;
    } catch {
      // Not signable (no canonical form): sent with a stale signature.
      boundaryBody = null;
    }
    return JSON.stringify({ body: mutated, sig });
  }

  /** An enrolment with one field at a boundary value, the proof signed over whatever the fields now are. */
  function boundaryEnrollment(): string {
    const subject = new TestDevice({ hostname: `fuzz-${inputs}` });
    const request = subject.enrollRequest(rand() < 0.8 ? TEST_ENROLLMENT_SECRET : 'wrong-secret-x', { signedAt: collector.app.collector.clock() });
    const target = pick(schemaPaths(EnrollRequestSchema as Schema, request));
    const mutated = setPath(request, target.path, pick(boundaryValues(target.schema, getPath(request, target.path)))) as typeof request;
    if (target.path[0] !== 'proof') {
      try {
        mutated.proof = crypto.sign(null, Buffer.from(enrollProofMessage(mutated)), subject.privateKey).toString('base64url');
      } catch {
        // A field of the wrong type: the stale proof stays.
      }
    }
    extra.push(subject);
    return JSON.stringify(mutated);
  }

  const itUrl = (): string => {
    const id = pick([device.deviceId, extra.at(-1)?.deviceId ?? 'none', '..%2F..', 'x'.repeat(65), '%00', '']);
    return pick([
      '/v1/devices',
      `/v1/devices/${id}/findings?limit=${pick(QUERY_VALUES)}`,
      `/v1/devices/${id}/reports?before=${pick(QUERY_VALUES)}&limit=${pick(QUERY_VALUES)}`,
      `/v1/findings/stream?cursor=${pick(QUERY_VALUES)}`,
      `/v1/findings/ocsf?limit=${pick(QUERY_VALUES)}&cursor=${pick(QUERY_VALUES)}`,
      `/v1/reports/${id}/${pick(QUERY_VALUES)}`,
      `/v1/devices?sort=${pick(['risk', 'last-seen', 'host', 'x'])}&limit=${pick(QUERY_VALUES)}&cursor=${pick(['', 'abc', 'WzEsMiwieCJd', '%00', 'x'.repeat(3000)])}`,
      `/v1/devices?risk=${pick(['high', 'high,low', 'none,,', '%00'])}&kind=${pick(['device-silent', 'nope'])}&silent=${pick(['true', 'false', '1'])}&q=${pick(['%25', '_', 'x'.repeat(300), '%00', 'ü'])}&tag=${pick(['site:lab', '', '../x'])}`,
      `/v1/devices/${id}`,
      '/v1/fleet/summary',
      `/v1/incidents?before=${pick(QUERY_VALUES)}&limit=${pick(QUERY_VALUES)}&severity=${pick(['high', 'severe'])}`,
      `/v1/findings?open=${pick(['true', 'yes'])}&triage=${pick(['all', 'active', 'none'])}&kind=${pick(['chain-gap', 'x'])}`,
      `/v1/audit?before=${pick(QUERY_VALUES)}&deviceId=${id}`,
      `/v1/findings/${pick(QUERY_VALUES)}/${pick(['acknowledge', 'assign', 'resolve', 'reopen'])}`,
      `/v1/devices/${id}/tags/${pick(['lab', '%00', 'a/b', 'x'.repeat(80)])}`,
      `/v1/suppressions/${pick(QUERY_VALUES)}`,
      '/v1/findings/stream?cursor[]=1',
      '/v1/health',
      '/',
      '/nope',
    ]);
  };

  for (let index = 0; index < cases; index++) {
    const kind = rand();
    const headers = pick(RANDOM_HEADERS);
    const reportPost = kind < 0.5;
    let method = 'POST';
    let response: LightMyRequestResponse;
    if (kind < 0.03) {
      // A genuine report, a validly signed rewrite of it (a fork), and an oversized body.
      const report = device.nextReport({ findings: [sampleFinding()] });
      response = await collector.postReport(report);
      const fork = await collector.postReport(sealReport({ ...report.body, createdAt: report.body.createdAt + 1 }, device.privateKey).report);
      if (fork.statusCode !== 409) sample(`case ${index}: a fork answered ${fork.statusCode}, not 409: ${fork.body.slice(0, 200)}`);
      const oversized = await collector.postReport(`{"pad":"${'x'.repeat(300_000 + Math.floor(rand() * 1000))}"}`);
      if (oversized.statusCode !== 413) sample(`case ${index}: an oversized body answered ${oversized.statusCode}, not 413`);
      for (const extraResponse of [fork, oversized]) {
        statuses.set(extraResponse.statusCode, (statuses.get(extraResponse.statusCode) ?? 0) + 1);
        if (extraResponse.statusCode >= 500) serverErrors++;
      }
      inputs += 2;
    } else if (kind < 0.3) {
      response = await collector.postReport(boundaryReport(), headers);
      if (storedAck(response) && boundaryBody) {
        const body: ReportBody = boundaryBody;
        boundaryDevice.seq = body.seq;
        boundaryDevice.headHash = canonicalBody(body)!.hash;
        if (body.seq > 1_000_000) boundaryDevice = await collector.enroll();
      }
    } else if (kind < 0.5) {
      const report = device.peekReport({ findings: [sampleFinding()] });
      const payload = rand() < 0.5 ? JSON.stringify(swapRandomValue(report)) : mutateText(JSON.stringify(report));
      response = await collector.app.inject({ method: 'POST', url: '/v1/reports', headers: { ...headers, 'content-type': rand() < 0.85 ? 'application/json' : pick(CONTENT_TYPES) }, payload });
    } else if (kind < 0.65) {
      const boundary = rand() < 0.6;
      const payload = boundary ? boundaryEnrollment() : mutateText(JSON.stringify(device.enrollRequest(TEST_ENROLLMENT_SECRET)));
      response = await collector.app.inject({ method: 'POST', url: '/v1/enroll', headers: { ...headers, 'content-type': rand() < 0.85 ? 'application/json' : pick(CONTENT_TYPES) }, payload });
      if (boundary && response.statusCode === 200) extra.at(-1)!.deviceId = response.json<{ deviceId: string }>().deviceId;
    } else if (kind < 0.68) {
      // IT deletes a device the fuzz enrolled, now and then the one sending boundary reports; its reports leave the stored count.
      const retireBoundary = rand() < 0.3;
      const subject = retireBoundary ? boundaryDevice : (extra.find((candidate) => candidate.deviceId !== '') ?? boundaryDevice);
      response = await collector.app.inject({ method: 'DELETE', url: `/v1/devices/${subject.deviceId}`, headers: { authorization: `Bearer ${pick([TEST_DEVICES_WRITE_TOKEN, TEST_IT_TOKEN])}` } });
      if (response.statusCode === 200) {
        deletedReports += response.json<{ deleted: { reports: number } }>().deleted.reports;
        if (subject === boundaryDevice) boundaryDevice = await collector.enroll();
        else subject.deviceId = '';
      }
    } else if (kind < 0.9) {
      const token = pick([TEST_IT_TOKEN, TEST_DEVICES_WRITE_TOKEN, TEST_TRIAGE_TOKEN, '', 'x', `${TEST_IT_TOKEN}\u0000`, 'Bearer', 'ü'.repeat(10)]);
      method = pick(['GET', 'GET', 'GET', 'POST', 'PUT']);
      // Triage writes get a body now and then: a valid one, a mutated one, or one of the wrong type.
      const payload = method === 'POST' && rand() < 0.5 ? mutateText(pick(['{"reason":"approved"}', '{"assignee":"bob"}', '{"note":"x"}', '{"text":"note"}', '[]'])) : undefined;
      response = await collector.app.inject({
        method: method as 'GET',
        url: itUrl(),
        headers: { ...headers, authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(payload === undefined ? {} : { payload }),
      });
    } else {
      method = pick(['POST', 'PATCH', 'OPTIONS', 'HEAD']);
      response = await collector.app.inject({
        method: method as 'POST',
        url: pick(['/v1/reports', '/v1/enroll', '/', '/v1/health', `/v1/devices/${device.deviceId}`]),
        headers: { ...headers, 'content-type': pick(CONTENT_TYPES) },
        payload: mutateText('{"a":1}'),
      });
    }
    inputs++;
    if (reportPost && storedAck(response)) acknowledgedStored++;
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    if (response.statusCode >= 500) {
      serverErrors++;
      sample(`case ${index}: ${method} answered ${response.statusCode} ${response.body.slice(0, 200)}`);
    } else if (response.statusCode >= 400 && method !== 'HEAD' && !hasClearError(response)) {
      malformedClientErrors++;
      sample(`case ${index}: ${method} answered ${response.statusCode} without a clear error: ${response.body.slice(0, 200)}`);
    }
    if (onProgress && inputs % 1000 === 0) onProgress(inputs);
  }
  const stored = await collector.count('reports');
  return {
    inputs,
    serverErrors,
    malformedClientErrors,
    acknowledgedStored,
    deletedReports,
    stored,
    lost: acknowledgedStored - deletedReports - stored,
    statuses: Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])),
    samples,
  };
}

/** Whether a 4xx answer carries the JSON error shape with a non-empty code and message. */
function hasClearError(response: LightMyRequestResponse): boolean {
  try {
    const body = response.json<{ error?: { code?: unknown; message?: unknown } }>();
    return typeof body.error?.code === 'string' && body.error.code !== '' && typeof body.error.message === 'string' && body.error.message.trim() !== '';
  } catch {
    return false;
  }
}

/** Fuzz size: TELLTALE_FUZZ_CASES from the environment (a larger run), else the CI size. */
export function fuzzCases(ciSize: number): number {
  const fromEnv = Number(process.env.TELLTALE_FUZZ_CASES);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : ciSize;
}
