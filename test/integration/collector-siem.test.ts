/**
 * SIEM push against a real local HTTP receiver: only state changes are sent (new, severity changed,
 * resolved), as OCSF Detection Findings in HEC JSON; while the receiver is down (port closed), the
 * changes wait in the on-disk queue, survive a collector restart, and arrive in order once it is up.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { formatBatch } from '../../collector/siem/push';
import { ManualSchedule, startTestCollector, tempDatabaseFile } from '../helpers/collector/harness';
import { sampleFinding } from '../helpers/collector/make-reports';

interface Received {
  authorization: string | undefined;
  lines: { time: number; host: string; sourcetype: string; event: Record<string, unknown> & { activity_id: number; severity_id: number; status_id: number; finding_info: Record<string, unknown>; metadata: Record<string, unknown> } }[];
}

async function startReceiver(port = 0): Promise<{ server: http.Server; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Received['lines'][number]);
      received.push({ authorization: request.headers.authorization, lines });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, received };
}

const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

test('SIEM push: state changes only, HEC JSON, nothing lost while the receiver is down and the collector restarts', async (t) => {
  let receiver = await startReceiver();
  t.after(() => close(receiver.server));
  const file = tempDatabaseFile(t);
  const queueDir = path.join(path.dirname(file), 'siem-queue');
  let now = Date.now();
  const siem = { url: `http://127.0.0.1:${receiver.port}/services/collector/event`, format: 'hec' as const, token: 'hec-token-123', queueDir, intervalMs: 1000 };
  const start = (timer: ManualSchedule) => startTestCollector(t, { storage: { kind: 'sqlite', file }, siem }, { clock: () => now, schedule: timer.schedule });
  let timer = new ManualSchedule();
  let collector = await start(timer);
  const enrolled = await collector.enroll({ hostname: 'siem-host' });
  const finding = sampleFinding({ firstSeenAt: now - 1000, lastSeenAt: now });
  const send = async (findings: ReturnType<typeof sampleFinding>[]) =>
    assert.equal((await collector.postReport(enrolled.nextReport({ findings, createdAt: now }))).statusCode, 200);

  await send([finding]);
  await timer.tick();
  assert.equal(receiver.received.length, 1);
  assert.equal(receiver.received[0]!.authorization, 'Splunk hec-token-123');
  const created = receiver.received[0]!.lines;
  assert.deepEqual(created.map((line) => [line.host, line.sourcetype, line.event.activity_id, line.event.severity_id]), [['siem-host', 'ocsf:detection_finding', 1, 4]]);
  const event = created[0]!.event;
  for (const attribute of ['confidence_id', 'observables', 'status_detail', 'timezone_offset']) assert.ok(attribute in event, attribute);
  assert.deepEqual(event.finding_info.analytic, { name: 'remote-session-active', uid: 'remote-session-active', type_id: 1, type: 'Rule' });
  assert.equal(event.metadata.log_name, 'telltale-findings');
  assert.equal(event.metadata.original_time, new Date(finding.lastSeenAt).toISOString());

  // The same finding re-sent unchanged by the next reports is not an event.
  now += 60_000;
  await send([{ ...finding, lastSeenAt: now }]);
  await send([{ ...finding, lastSeenAt: now + 1 }]);
  await timer.tick();
  assert.equal(receiver.received.length, 1, 'unchanged findings are not pushed again');

  // The receiver goes away: its port is closed. The severity drops, then the condition ends.
  await close(receiver.server);
  now += 60_000;
  await send([{ ...finding, severity: 'medium', lastSeenAt: now }]);
  await timer.tick();
  now += 60_000;
  await send([{ ...finding, severity: 'medium', lastSeenAt: now, closedAt: now }]);
  await timer.tick();
  assert.equal(fs.readdirSync(queueDir).filter((name) => name.endsWith('.json')).length, 2, 'both changes wait on disk');
  assert.ok(collector.app.collector.siem!.stats.failedSends >= 1);

  // The collector restarts while the receiver is still down; then the receiver comes back on its port.
  await collector.app.close();
  timer = new ManualSchedule();
  collector = await start(timer);
  receiver = await startReceiver(receiver.port);
  now += 120_000;
  await timer.tick();
  const delivered = receiver.received.flatMap((batch) => batch.lines.map((line) => [line.event.activity_id, line.event.severity_id, line.event.status_id]));
  assert.deepEqual(delivered, [
    [2, 3, 1],
    [3, 3, 4],
  ], 'severity change then resolution, in order, each once');
  assert.deepEqual(fs.readdirSync(queueDir).filter((name) => name.endsWith('.json')), [], 'the queue drained');
  await timer.tick();
  assert.equal(receiver.received.flatMap((batch) => batch.lines).length, 2, 'nothing is sent twice');
});

test('webhook format: one JSON object with the events and a bearer token', () => {
  const { body, headers } = formatBatch('webhook', [], 'hook-token');
  assert.deepEqual(JSON.parse(body), { events: [] });
  assert.equal(headers.authorization, 'Bearer hook-token');
  assert.equal(formatBatch('hec', [], undefined).headers.authorization, undefined);
});
