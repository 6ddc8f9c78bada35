/**
 * Valid report bodies of about 2.5 KB, as an agent would send after a quiet hour: two findings, two
 * timing windows and the location block. Used by the crypto row and by the collector ingest load
 * generator.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { sealReport, spkiOf } from '../../protocol/report-crypto';
import { GENESIS_HASH, PROTOCOL_VERSION, type ReportBody } from '../../common/report';
import type { LocationBlock } from '../../common/location';
import type { TimingWindow } from '../../common/timing';

function timingWindow(startedAt: number, index: number): TimingWindow {
  const distribution = (median: number) => ({ n: 120 + index, median, iqr: median / 3, p5: median / 4, p95: median * 2.5 });
  return {
    startedAt,
    endedAt: startedAt + 60_000,
    hookStart: 1_000_000 + index * 60_000,
    hookEnd: 1_060_000 + index * 60_000,
    keys: {
      keystrokes: 180,
      keyDowns: 184,
      dwell: distribution(92.5),
      flight: distribution(171.25),
      nearSimultaneous5: 0.011,
      nearSimultaneous15: 0.034,
      rolloverRate: 0.12,
    },
    mouse: {
      moves: 2400,
      clicks: 14,
      wheels: 31,
      moveRateHz: 124.7,
      step: distribution(6.2),
      interval: distribution(8),
      intervalCv: 0.41,
    },
  };
}

/** Where a device sits: a home of its own (every real report carries its location block). */
function homeOf(deviceId: string): LocationBlock {
  const hash = (what: string) => crypto.createHash('sha256').update(`${what}:${deviceId}`).digest('hex');
  return {
    gatewayHash: hash('gateway'),
    bssidHash: hash('bssid'),
    ssidHash: hash('ssid'),
    subnetHash: hash('subnet'),
    timezone: 'America/Chicago',
    utcOffsetMinutes: -360,
    defaultRouteTunnel: false,
    interfaceKind: 'wifi',
    unavailable: [],
  };
}

/**
 * A report body with the given chain position; about 2.5 KB as canonical JSON. Its two findings were
 * first seen an hour and two before `since` (by default the report's own time): a chain passes its
 * start, so, as from a real agent, every report of a device carries the same two open findings
 * (same identity, new last-seen time) rather than two new ones.
 */
export function reportBody(deviceId: string, seq: number, prevHash: string, createdAt: number, since = createdAt): ReportBody {
  return {
    v: PROTOCOL_VERSION,
    deviceId,
    seq,
    prevHash,
    kind: 'report',
    createdAt,
    window: { from: createdAt - 120_000, to: createdAt },
    findings: [
      {
        key: 'tool:anydesk',
        kind: 'remote-tool-installed',
        severity: 'medium',
        title: 'AnyDesk is installed',
        explanation: 'A remote-control program is installed on this laptop. It can let someone else see and control the screen.',
        evidence: { path: '/usr/bin/anydesk', package: 'anydesk', version: '6.3.2' },
        firstSeenAt: since - 3_600_000,
        lastSeenAt: createdAt,
        closedAt: null,
      },
      {
        key: 'display:virtual:HDMI-2',
        kind: 'virtual-display',
        severity: 'low',
        title: 'A display without a physical monitor',
        explanation: 'The system reports a display output that does not identify a real monitor, as dummy plugs do.',
        evidence: { connector: 'HDMI-2', edid: null, width: 1920, height: 1080 },
        firstSeenAt: since - 7_200_000,
        lastSeenAt: createdAt,
        closedAt: null,
      },
    ],
    timing: [timingWindow(createdAt - 120_000, seq % 7), timingWindow(createdAt - 60_000, (seq + 1) % 7)],
    location: homeOf(deviceId),
    agentVersion: '0.1.0-bench',
  };
}

export interface DeviceKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SPKI DER, base64: what enrollment sends and the collector stores. */
  readonly publicKeySpki: string;
}

export function generateDeviceKeys(): DeviceKeys {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return { privateKey, publicKey, publicKeySpki: spkiOf(publicKey) };
}

/** A chain of `count` signed reports for one device, seq 1..count, each naming its predecessor's hash. */
export function reportChain(deviceId: string, keys: DeviceKeys, count: number, startAt: number): string[] {
  const out: string[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const signed = sealReport(reportBody(deviceId, seq, prevHash, startAt + seq * 120_000, startAt), keys.privateKey);
    out.push(JSON.stringify(signed.report));
    prevHash = signed.hash;
  }
  return out;
}
