/**
 * The simulated farm of `npm run demo -- --farm`: six simulated laptops enroll with the demo
 * collector and report signed, hash-chained reports whose location blocks are made with the demo
 * fleet key. Four of them ("the house") share one router, one Wi-Fi access point and one egress
 * address; two report from homes of their own. The collector then shows one possible-laptop-farm
 * cluster of the four at GET /v1/farms and on each of their devices.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { enrollProofMessage, GENESIS_HASH, PROTOCOL_VERSION, type ReportBody } from '../common/report';
import type { LocationBlock } from '../common/location';
import { locationHash } from '../agent/location/fingerprint';
import { sealReport } from '../protocol/report-crypto';

/** Documentation addresses (RFC 5737): the house's egress and two homes'. */
const HOUSE_EGRESS = '198.51.100.23';

interface SimulatedLaptop {
  readonly hostname: string;
  readonly router: string;
  readonly accessPoint: string;
  readonly egress: string;
}

const LAPTOPS: readonly SimulatedLaptop[] = [
  { hostname: 'DESKTOP-ALEX-W11', router: '58:d9:d5:10:20:01', accessPoint: '58:d9:d5:10:20:02', egress: HOUSE_EGRESS },
  { hostname: 'jordan-thinkpad', router: '58:d9:d5:10:20:01', accessPoint: '58:d9:d5:10:20:02', egress: HOUSE_EGRESS },
  { hostname: 'MBP-Sam', router: '58:d9:d5:10:20:01', accessPoint: '58:d9:d5:10:20:02', egress: HOUSE_EGRESS },
  { hostname: 'LAPTOP-CASEY', router: '58:d9:d5:10:20:01', accessPoint: '58:d9:d5:10:20:02', egress: HOUSE_EGRESS },
  { hostname: 'riley-xps', router: 'a4:2b:b0:77:00:01', accessPoint: 'a4:2b:b0:77:00:02', egress: '203.0.113.41' },
  { hostname: 'MBA-Morgan', router: 'f0:9f:c2:55:00:01', accessPoint: 'f0:9f:c2:55:00:02', egress: '203.0.113.77' },
];

/** Enroll the six simulated laptops and deliver two reports each; returns the farm list. */
export async function simulateFarm(collector: FastifyInstance, enrollmentSecret: string, fleetKey: string, itToken: string): Promise<unknown> {
  for (const laptop of LAPTOPS) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const described = {
      publicKey: (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64'),
      hostname: laptop.hostname,
      platform: 'win32',
      agentVersion: 'demo-simulated',
      signedAt: Date.now(),
    };
    const proof = crypto.sign(null, Buffer.from(enrollProofMessage(described), 'utf8'), privateKey).toString('base64url');
    const enrolled = await collector.inject({ method: 'POST', url: '/v1/enroll', payload: { enrollmentSecret, ...described, proof } });
    const { deviceId } = enrolled.json<{ deviceId: string }>();
    const location: LocationBlock = {
      gatewayHash: locationHash(fleetKey, 'gateway', laptop.router),
      bssidHash: locationHash(fleetKey, 'bssid', laptop.accessPoint),
      timezone: 'America/Chicago',
      utcOffsetMinutes: -360,
      defaultRouteTunnel: false,
      interfaceKind: 'wifi',
      unavailable: [],
    };
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 2; seq++) {
      const now = Date.now();
      const body: ReportBody = {
        v: PROTOCOL_VERSION,
        deviceId,
        seq,
        prevHash,
        kind: 'heartbeat',
        createdAt: now,
        window: { from: now - 60_000, to: now },
        findings: [],
        timing: [],
        agentVersion: 'demo-simulated',
        location,
      };
      const sealed = sealReport(body, privateKey);
      prevHash = sealed.hash;
      // The demo collector trusts 127.0.0.1 as a proxy, so X-Forwarded-For stands for each laptop's egress.
      await collector.inject({ method: 'POST', url: '/v1/reports', headers: { 'content-type': 'application/json', 'x-forwarded-for': laptop.egress }, payload: sealed.envelope });
    }
  }
  return (await collector.inject({ method: 'GET', url: '/v1/farms', headers: { authorization: `Bearer ${itToken}` } })).json();
}
