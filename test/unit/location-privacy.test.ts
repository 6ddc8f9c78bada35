/**
 * Location privacy canary on the agent side: a known gateway MAC, BSSID and SSID go through the real
 * location service (recorded OS outputs at the seam), the real report builder and a real SQLite
 * file; neither the database files, the signed report nor the log may hold them in any spelling.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_POLICY } from '../../common/policy';
import type { ReportBody } from '../../common/report';
import { LocationService } from '../../agent/location/location-service';
import { locationHash } from '../../agent/location/fingerprint';
import type { LocationSeams } from '../../agent/location/probe';
import { ReportBuilder } from '../../agent/report/report-builder';
import { getOutboxEntry } from '../../agent/store/outbox';
import { ReportSigner } from '../../protocol/report-crypto';
import { createMemoryLogger } from '../../agent/log';
import { testContext } from '../helpers/agent-context';
import { assertNoLocationIdentifier, type Haystack } from '../helpers/privacy';

const GATEWAY_MAC = '5c:a6:e6:0b:0a:01';
const BSSID = '5c:a6:e6:0b:0a:02';
const SSID = 'CanaryNetwork-73';
const KEY = 'canary-fleet-key-0123456789abcdefgh';

const seams: LocationSeams = {
  readFile: async (file) => {
    const files: Record<string, string> = {
      '/proc/net/route': 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nwlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\nwlan0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n',
      '/proc/net/arp': `IP address       HW type     Flags       HW address            Mask     Device\n192.168.1.1      0x1         0x2         ${GATEWAY_MAC}     *        wlan0\n`,
      '/sys/class/net/wlan0/uevent': 'DEVTYPE=wlan\nINTERFACE=wlan0\n',
    };
    const text = files[file];
    if (text === undefined) throw new Error(`ENOENT ${file}`);
    return text;
  },
  run: async (file, args) => {
    if (file === 'iw' && args.join(' ') === 'dev wlan0 link') return { exitCode: 0, stdout: `Connected to ${BSSID} (on wlan0)\n\tSSID: ${SSID}\n`, stderr: '' };
    throw new Error(`${file} is not available`);
  },
  interfaces: () => ({}),
};

test('a known gateway MAC, BSSID and SSID never reach SQLite, the report or the log', async (t) => {
  const logger = createMemoryLogger();
  const ctx = testContext(t, { policy: { location: { ...DEFAULT_POLICY.location, fleetKey: KEY } }, logger });
  const service = new LocationService(ctx, seams, 'linux');
  let changes = 0;
  service.onDidChange = () => changes++;
  await service.probeNow();
  assert.equal(changes, 1, 'the first location counts as a change');
  const builder = new ReportBuilder({
    db: ctx.db,
    signer: new ReportSigner(crypto.generateKeyPairSync('ed25519').privateKey),
    agentVersion: 'test',
    maxPending: 10,
    location: () => service.current(),
  });
  builder.queue('dev-1', ctx.clock.now(), true);
  const envelope = getOutboxEntry(ctx.db, 1)!.body ?? assert.fail("the report is in the outbox");
  const body = (JSON.parse(envelope) as { body: ReportBody }).body;
  assert.equal(body.location?.gatewayHash, locationHash(KEY, 'gateway', GATEWAY_MAC), 'the report carries the hash');
  assert.equal(body.location?.bssidHash, locationHash(KEY, 'bssid', BSSID));
  assert.equal(body.location?.interfaceKind, 'wifi');
  ctx.db.pragma('wal_checkpoint(PASSIVE)');
  const haystacks: Haystack[] = [
    { name: 'report envelope', data: envelope },
    { name: 'log', data: JSON.stringify(logger.lines) },
    ...['', '-wal', '-shm'].filter((suffix) => fs.existsSync(ctx.databasePath + suffix)).map((suffix) => ({ name: `telltale.db${suffix}`, data: fs.readFileSync(ctx.databasePath + suffix) })),
  ];
  assertNoLocationIdentifier(haystacks, { macs: [GATEWAY_MAC, BSSID], texts: [SSID] });
  assert.throws(() => assertNoLocationIdentifier([{ name: 'planted', data: Buffer.from([0x5c, 0xa6, 0xe6, 0x0b, 0x0a, 0x02]) }], { macs: [BSSID] }), /raw bytes/);
});
