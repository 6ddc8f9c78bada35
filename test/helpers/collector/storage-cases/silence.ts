/** Storage cases: silent devices, and IT reads that never write (silence is swept on the app's timer). */
import assert from 'node:assert/strict';
import { insertDevice } from '../../../../collector/storage/devices';
import { ManualSchedule, startTestCollector, type TestCollector } from '../harness';
import { sampleFinding } from '../make-reports';
import { dumpState, ndjson, WriteCountingDatabase, type StorageCase, type StorageKit } from '../storage-kit';

interface DeviceListItem {
  readonly hostname: string;
  readonly silent: boolean;
  readonly risk: string;
}

async function devices(collector: TestCollector): Promise<DeviceListItem[]> {
  return (await collector.itGet('/v1/devices')).json<{ devices: DeviceListItem[] }>().devices;
}

async function silenceOpensAndCloses(kit: StorageKit): Promise<void> {
  let now = Date.now();
  const timer = new ManualSchedule();
  const collector = await kit.start({ silentAfterMinutes: 10 }, { clock: () => now, schedule: timer.schedule });
  assert.equal(timer.intervalMs, 60_000, 'a quarter of the silence threshold, at most a minute');
  const device = await collector.enroll({ hostname: 'quiet' });
  assert.equal((await collector.postReport(device.nextReport())).statusCode, 200);
  assert.deepEqual((await devices(collector)).map((row) => [row.silent, row.risk]), [[false, 'none']]);
  now += 11 * 60_000;
  assert.deepEqual((await devices(collector)).map((row) => [row.silent, row.risk]), [[true, 'medium']]);
  await timer.tick();
  // Repeated sweeps do not open it twice.
  await timer.tick();
  const stream = ndjson((await collector.itGet('/v1/findings/stream')).body);
  assert.deepEqual(stream.map((finding) => [finding.kind, finding.closedAt]), [['device-silent', null]]);
  assert.equal((await collector.postReport(device.nextReport({ kind: 'heartbeat' }))).statusCode, 200);
  assert.deepEqual((await devices(collector)).map((row) => [row.silent, row.risk]), [[false, 'none']]);
  const ocsf = (await collector.itGet('/v1/findings/ocsf')).json<{ activity_id: number; finding_info: { types: string[] } }[]>();
  assert.deepEqual(ocsf.map((event) => [event.finding_info.types[0], event.activity_id]), [['device-silent', 3]]);
}

async function itReadsDoNotWrite(kit: StorageKit): Promise<void> {
  let now = Date.now();
  const timer = new ManualSchedule();
  const database = new WriteCountingDatabase(await kit.openStorage(kit.t));
  const collector = await startTestCollector(kit.t, { silentAfterMinutes: 10 }, { clock: () => now, schedule: timer.schedule, database });
  const device = await collector.enroll({ hostname: 'quiet' });
  const report = device.nextReport({ findings: [sampleFinding({ severity: 'low' })] });
  assert.equal((await collector.postReport(report)).statusCode, 200);
  now += 11 * 60_000;

  const writesBefore = database.writes;
  const stateBefore = await dumpState(database);
  const reads = [
    '/v1/devices',
    `/v1/devices/${device.deviceId}/reports`,
    `/v1/devices/${device.deviceId}/findings`,
    '/v1/findings/stream',
    '/v1/findings/ocsf',
    `/v1/reports/${device.deviceId}/1`,
  ];
  for (const url of reads) assert.equal((await collector.itGet(url)).statusCode, 200, url);
  // The three reads of one device's data each append one audit entry (one transaction); nothing else is written.
  assert.equal(database.writes, writesBefore + 3, 'an IT read wrote more than its audit entry');
  assert.deepEqual(
    (await database.all('SELECT action FROM audit_log ORDER BY seq')).map((row) => row.action),
    ['view-reports', 'view-findings', 'view-report'],
  );
  assert.deepEqual(await dumpState(database), stateBefore, 'an IT read changed stored rows');

  // Silent on read already (its silence outranks the low finding); its finding arrives with the next sweep.
  assert.deepEqual((await devices(collector)).map((row) => [row.silent, row.risk]), [[true, 'medium']]);
  const kinds = async () => ndjson((await collector.itGet('/v1/findings/stream')).body).map((finding) => [finding.kind, finding.closedAt]);
  assert.deepEqual(await kinds(), [[report.body.findings[0]!.kind, null]]);
  await timer.tick();
  assert.deepEqual(await kinds(), [[report.body.findings[0]!.kind, null], ['device-silent', null]]);
}

async function sweepAtStart(kit: StorageKit): Promise<void> {
  const now = Date.now();
  const database = await kit.openStorage(kit.t);
  await insertDevice(database, { id: 'long-gone', publicKey: 'key-long-gone', hostname: 'long-gone', platform: 'linux', agentVersion: '1', now: now - 3_600_000 });
  const collector = await startTestCollector(kit.t, { silentAfterMinutes: 10 }, { clock: () => now, schedule: new ManualSchedule().schedule, database });
  const stream = ndjson((await collector.itGet('/v1/findings/stream')).body);
  assert.deepEqual(stream.map((finding) => [finding.deviceId, finding.kind, finding.closedAt]), [['long-gone', 'device-silent', null]]);
}

export const SILENCE_CASES: readonly StorageCase[] = [
  { name: 'a device that goes silent shows as silent at once, gets a device-silent finding at the next sweep, closed when it reports again', run: silenceOpensAndCloses },
  { name: 'IT reads write nothing but their audit entries, even with a silent device waiting for its finding', run: itReadsDoNotWrite },
  { name: 'the collector sweeps once at start, before its first timer tick', run: sweepAtStart },
];
