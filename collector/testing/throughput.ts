/**
 * Quick throughput probe (not a test): verified + stored reports per second over real HTTP, for the
 * collector on SQLite and on PostgreSQL, next to a bare Fastify hello-world, measured with autocannon.
 *
 *   npx tsx collector/testing/throughput.ts [--reports 10000] [--devices 500] [--connections 32] [--bytes 2048]
 *   (PostgreSQL runs when TELLTALE_TEST_PG_URL is set; a throwaway schema is created and dropped.)
 *
 * Each collector runs as a child process (`collector/server.ts`), so the load generator does not
 * share its event loop. Reports are pre-signed; request i goes to device i % devices, so each device's
 * reports arrive in seq order (devices are far apart in the rotation).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { enrollAndMakeReports } from './make-reports';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'throughput-enrollment-secret';

const { values } = parseArgs({
  options: {
    reports: { type: 'string', default: '10000' },
    devices: { type: 'string', default: '500' },
    connections: { type: 'string', default: '32' },
    bytes: { type: 'string', default: '2048' },
  },
});
const totalReports = Number(values.reports);
const deviceCount = Number(values.devices);
const connections = Number(values.connections);
const reportBytes = Number(values.bytes);

interface Started {
  readonly url: string;
  readonly child: ChildProcess;
}

async function startChild(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { listening: string }).listening));
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  return { url, child };
}

async function stop(started: Started): Promise<void> {
  const exited = new Promise((resolve) => started.child.once('exit', resolve));
  started.child.kill('SIGTERM');
  await exited;
}

const HELLO = `
import Fastify from 'fastify';
const app = Fastify();
app.get('/', async () => ({ hello: 'world' }));
app.post('/', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ listening: 'http://127.0.0.1:' + app.server.address().port }));
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

async function helloWorld(): Promise<{ perSecond: number; latencyP50: number; latencyP99: number }> {
  const started = await startChild(['--input-type=module', '-e', HELLO]);
  try {
    const result = await autocannon({ url: started.url, connections, duration: 5 });
    return { perSecond: result.requests.average, latencyP50: result.latency.p50, latencyP99: result.latency.p99 };
  } finally {
    await stop(started);
  }
}

async function collector(label: string, storageArgs: string[]): Promise<{ label: string; perSecond: number; ok: number; errors: number; latencyP50: number; latencyP99: number }> {
  const started = await startChild([
    '--import', 'tsx', 'collector/server.ts', '--port', '0', '--enrollment-secret', SECRET,
    '--rate-per-ip', '100000000', '--rate-per-device', '100000000', ...storageArgs,
  ]);
  try {
    const perDevice = Math.ceil(totalReports / deviceCount);
    const { reports } = await enrollAndMakeReports(started.url, SECRET, { devices: deviceCount, reportsPerDevice: perDevice, reportBytes });
    const bodies: string[] = [];
    for (let seqIndex = 0; seqIndex < perDevice; seqIndex++) for (const chain of reports) bodies.push(JSON.stringify(chain[seqIndex]));
    let next = 0;
    let ok = 0;
    const result = await autocannon({
      url: `${started.url}/v1/reports`,
      connections,
      amount: bodies.length,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
          onResponse: (status) => {
            if (status === 200) ok++;
          },
        },
      ],
    });
    return { label, perSecond: ok / (result.duration || 1), ok, errors: result.non2xx + result.errors, latencyP50: result.latency.p50, latencyP99: result.latency.p99 };
  } finally {
    await stop(started);
  }
}

const results: Record<string, unknown>[] = [];
const hello = await helloWorld();
results.push({ label: 'fastify hello-world GET', ...hello, perSecond: Math.round(hello.perSecond) });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-throughput-'));
try {
  const sqlite = await collector('collector sqlite', ['--db', path.join(dir, 'collector.db')]);
  results.push({ ...sqlite, perSecond: Math.round(sqlite.perSecond) });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const pgUrl = process.env.TELLTALE_TEST_PG_URL;
if (pgUrl) {
  const schema = `bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const separator = pgUrl.includes('?') ? '&' : '?';
    const postgres = await collector('collector postgres', ['--pg', `${pgUrl}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`]);
    results.push({ ...postgres, perSecond: Math.round(postgres.perSecond) });
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}
console.log(JSON.stringify({ reports: totalReports, devices: deviceCount, connections, reportBytes, cpus: os.cpus().length, results }, null, 2));
