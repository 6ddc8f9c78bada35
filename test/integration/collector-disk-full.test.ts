/**
 * The collector on a disk that fills up: the real collector process over real HTTP, its SQLite
 * database on a tiny tmpfs the test mounts. Full: reports get 503 STORAGE_UNAVAILABLE with
 * Retry-After (never 500), one log line each, and /v1/health says degraded with the reason. Space
 * back: the refused reports, sent again as an agent would, are stored, and nothing acknowledged
 * before is lost.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import type { SignedReport } from '../../common/report';
import { TestDevice } from '../../lab/collector/make-reports';
import { readCollectorDatabase, startCollectorProcess } from '../helpers/collector-process';
import { mountTinyFs } from '../helpers/tiny-fs';

const SECRET = 'collector-disk-full-secret';
const IT_TOKEN = 'collector-disk-full-it-token-0123';

it('a full disk answers 503 STORAGE_UNAVAILABLE with Retry-After, health says why, and nothing acknowledged is lost once space returns', async (t) => {
  const tiny = mountTinyFs(t, 6 * 1024 * 1024);
  if (tiny === null) return;
  const dbFile = path.join(tiny.dir, 'collector.db');
  const collector = await startCollectorProcess({ dbFile, enrollmentSecret: SECRET, itToken: IT_TOKEN });
  t.after(() => collector.stop());
  const post = (report: SignedReport) =>
    fetch(`${collector.url}/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });

  const device = new TestDevice({ hostname: 'disk-full' });
  const enrolled = await fetch(`${collector.url}/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(device.enrollRequest(SECRET)) });
  assert.equal(enrolled.status, 200, await enrolled.clone().text());
  device.deviceId = ((await enrolled.json()) as { deviceId: string }).deviceId;

  const acknowledged: number[] = [];
  for (let index = 0; index < 3; index++) {
    const report = device.nextReport({ padToBytes: 60_000 });
    assert.equal((await post(report)).status, 200);
    acknowledged.push(report.body.seq);
  }

  tiny.fill();
  // Space freed by SQLite's own files (WAL frames it may reuse) can take a few reports first; those must be stored too.
  const refused: SignedReport[] = [];
  for (let attempt = 0; attempt < 60 && refused.length === 0; attempt++) {
    const report = device.nextReport({ padToBytes: 60_000 });
    const response = await post(report);
    const text = await response.text();
    assert.notEqual(response.status, 500, text);
    if (response.status === 200) {
      acknowledged.push(report.body.seq);
      continue;
    }
    assert.equal(response.status, 503, text);
    assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'STORAGE_UNAVAILABLE');
    assert.match(response.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    refused.push(report);
  }
  assert.equal(refused.length, 1, 'the full disk refused a report');
  // A later report in the chain is refused too while the disk stays full.
  const next = device.nextReport({ padToBytes: 60_000 });
  assert.equal((await post(next)).status, 503);
  refused.push(next);

  const health = await fetch(`${collector.url}/v1/health`);
  const healthBody = (await health.json()) as { status: string; reasons: string[] };
  assert.equal(health.status, 503);
  assert.equal(healthBody.status, 'degraded');
  assert.ok(healthBody.reasons.some((reason) => /disk is full|SQLITE_FULL|SQLITE_IOERR/.test(reason)), JSON.stringify(healthBody.reasons));
  const faultLines = collector.output.filter((line) => line.includes('storage unavailable:'));
  assert.ok(faultLines.length >= 2, collector.output.slice(-5).join('\n'));
  for (const line of faultLines) assert.doesNotMatch(line, /"stack"|\n/, 'one line, no stack');

  tiny.free();
  for (const report of refused) {
    const response = await post(report);
    assert.equal(response.status, 200, await response.text());
    acknowledged.push(report.body.seq);
  }
  const after = device.nextReport({ padToBytes: 2000 });
  assert.equal((await post(after)).status, 200);
  acknowledged.push(after.body.seq);
  const healthy = await fetch(`${collector.url}/v1/health`);
  assert.equal(healthy.status, 200, await healthy.text());

  await collector.stop();
  const stored = readCollectorDatabase(dbFile).reports.filter((row) => row.device_id === device.deviceId).map((row) => row.seq).sort((a, b) => a - b);
  assert.deepEqual(stored, [...acknowledged].sort((a, b) => a - b));
});
