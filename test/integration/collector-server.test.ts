/**
 * The collector over real HTTP on 127.0.0.1: the `npm run collector` entry as a child process
 * (startup line, graceful SIGTERM that commits everything it acknowledged), and the app listening
 * on port 0 in-process for transport-level errors.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { buildCollector } from '../../collector/app';
import { tempDatabaseFile, TEST_ENROLLMENT_SECRET, TEST_IT_TOKEN } from '../helpers/collector/harness';
import { enrollAndMakeReports, TestDevice } from '../helpers/collector/make-reports';

const ROOT = path.resolve(import.meta.dirname, '../..');

function startServer(args: string[]): { child: ChildProcess; listening: Promise<string>; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'collector/server.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  const listening = new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    // Log lines (JSON too) come before and after it.
    lines.on('line', (line) => {
      const { listening } = JSON.parse(line) as { listening?: string };
      if (listening) resolve(listening);
    });
    void exited.then(({ code }) => reject(new Error(`collector exited (${code}) before listening: ${stderr}`)));
  });
  listening.catch(() => undefined); // A test that expects a startup failure awaits `exited` instead.
  return { child, listening, exited };
}

test('npm run collector: prints its URL, serves, and on SIGTERM commits every acknowledged report', async (t) => {
  const file = tempDatabaseFile(t);
  const server = startServer(['--port', '0', '--host', '127.0.0.1', '--db', file, '--enrollment-secret', TEST_ENROLLMENT_SECRET, '--it-token', TEST_IT_TOKEN]);
  t.after(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });
  const url = await server.listening;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const { devices, reports } = await enrollAndMakeReports(url, TEST_ENROLLMENT_SECRET, { devices: 4, reportsPerDevice: 15, reportBytes: 2048 });
  // Deliver in parallel per device (each device in order), and ask the server to stop midway.
  const acks: { status: number; stored: boolean }[] = [];
  const deliveries = reports.map(async (chain) => {
    for (const report of chain) {
      try {
        const response = await fetch(`${url}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });
        const body = (await response.json()) as { status?: string };
        acks.push({ status: response.status, stored: response.status === 200 && body.status === 'stored' });
      } catch {
        return; // The server closed: the rest of this chain stays in the agent's outbox.
      }
    }
  });
  const devicesResponse = await fetch(`${url}/v1/devices`, { headers: { authorization: `Bearer ${TEST_IT_TOKEN}` } });
  assert.equal(devicesResponse.status, 200);
  assert.equal(((await devicesResponse.json()) as { devices: unknown[] }).devices.length, devices.length);
  while (acks.length < 10) await new Promise((resolve) => setTimeout(resolve, 5));
  server.child.kill('SIGTERM');
  await Promise.all(deliveries);
  const { code, stderr } = await server.exited;
  assert.equal(code, 0, stderr);
  const stored = acks.filter((ack) => ack.stored).length;
  assert.ok(stored >= 10, `at least the first acknowledgements: ${stored}`);
  assert.ok(acks.every((ack) => ack.status === 200 || ack.status === 503), JSON.stringify(acks));
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number };
    assert.equal(row.n, stored, 'every acknowledged report is in the database after shutdown');
  } finally {
    db.close();
  }
});

test('npm run collector refuses a bad configuration as a usage error naming the flags typed', async () => {
  const server = startServer(['--port', '0', '--db', ':memory:', '--it-token', 'short']);
  const { code, stderr } = await server.exited;
  assert.equal(code, 2);
  assert.match(stderr, /^collector: --enrollment-secret \(TELLTALE_ENROLLMENT_SECRET\): required; --it-token #1 \(TELLTALE_IT_TOKENS\): must be at least 16 characters \(see `npm run collector -- --help`\)$/m);
  assert.doesNotMatch(stderr, /itTokens|enrollmentSecret|INTERNAL/, 'no schema paths');
});

test('over real HTTP: malformed JSON 400, oversized 413, rate limit 429 with Retry-After, all as JSON errors', async (t) => {
  const app = await buildCollector({
    storage: { kind: 'sqlite', file: tempDatabaseFile(t) },
    enrollmentSecret: TEST_ENROLLMENT_SECRET,
    rateLimit: { perIp: 5 },
  });
  t.after(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const post = (path: string, body: string) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  const malformed = await post('/v1/reports', '{"body":');
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'PAYLOAD_INVALID');
  const oversized = await post('/v1/reports', JSON.stringify({ pad: 'x'.repeat(400_000) }));
  assert.equal(oversized.status, 413);
  assert.equal(((await oversized.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
  const enroll = () => post('/v1/enroll', JSON.stringify(new TestDevice().enrollRequest(TEST_ENROLLMENT_SECRET)));
  let limited: Response | undefined;
  for (let attempt = 0; attempt < 10 && !limited; attempt++) {
    const response = await enroll();
    if (response.status === 429) limited = response;
    else await response.arrayBuffer();
  }
  assert.ok(limited, 'the per-IP limit was reached');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
});
