/**
 * A test device with a real Ed25519 key that enrolls and produces valid, hash-chained, signed
 * reports of a chosen size, speaking only the common/report.ts wire protocol.
 */
import crypto, { type KeyObject } from 'node:crypto';
import {
  enrollProofMessage,
  GENESIS_HASH,
  PROTOCOL_VERSION,
  type EnrollRequest,
  type ReportBody,
  type SignedReport,
} from '../../common/report';
import type { ReportFinding } from '../../common/findings';
import type { TimingWindow } from '../../common/timing';
import { canonicalize } from '../../protocol/canonical-json';
import { sealReport } from '../../protocol/report-crypto';
import { sampleWindow } from './sample-window';

export interface TestDeviceOptions {
  readonly hostname?: string;
  readonly platform?: string;
  readonly agentVersion?: string;
}

/** A device identity and its chain position. */
export class TestDevice {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Ed25519 public key as SPKI DER base64 (what /v1/enroll expects). */
  readonly publicKeySpki: string;
  deviceId = '';
  /** seq of the last report made. */
  seq = 0;
  /** Hash of the last report made (GENESIS before the first). */
  headHash = GENESIS_HASH;

  constructor(readonly options: TestDeviceOptions = {}) {
    const pair = crypto.generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.publicKeySpki = (pair.publicKey.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64');
  }

  /** The body of POST /v1/enroll, its proof signed with this device's key at `signedAt`. */
  enrollRequest(enrollmentSecret: string, options: { signedAt?: number; hostname?: string } = {}): EnrollRequest {
    const described = {
      publicKey: this.publicKeySpki,
      hostname: options.hostname ?? this.options.hostname ?? 'test-laptop',
      platform: this.options.platform ?? 'linux',
      agentVersion: this.options.agentVersion ?? '0.1.0-test',
      signedAt: options.signedAt ?? Date.now(),
    };
    return { enrollmentSecret, ...described, proof: crypto.sign(null, Buffer.from(enrollProofMessage(described), 'utf8'), this.privateKey).toString('base64url') };
  }

  /**
   * Make the next report in the chain (advances seq and headHash).
   * `padToBytes` pads the timing array so the canonical body is roughly that size.
   */
  nextReport(options: { findings?: ReportFinding[]; padToBytes?: number; kind?: 'report' | 'heartbeat'; createdAt?: number } = {}): SignedReport {
    const now = options.createdAt ?? Date.now();
    const body: ReportBody = {
      v: PROTOCOL_VERSION,
      deviceId: this.deviceId,
      seq: this.seq + 1,
      prevHash: this.headHash,
      kind: options.kind ?? 'report',
      createdAt: now,
      window: { from: now - 60_000, to: now },
      findings: options.findings ?? [],
      timing: [],
      agentVersion: this.options.agentVersion ?? '0.1.0-test',
    };
    if (options.padToBytes) padTiming(body, options.padToBytes);
    const sealed = sealReport(body, this.privateKey);
    this.seq = body.seq;
    this.headHash = sealed.hash;
    return sealed.report;
  }

  /** The report nextReport would make, without advancing the chain (to send variants of it that must be refused). */
  peekReport(options: Parameters<TestDevice['nextReport']>[0] = {}): SignedReport {
    const { seq, headHash } = this;
    const report = this.nextReport(options);
    this.seq = seq;
    this.headHash = headHash;
    return report;
  }
}

/** A plausible finding for tests. */
export function sampleFinding(overrides: Partial<ReportFinding> = {}): ReportFinding {
  const now = Date.now();
  return {
    key: 'remote-session-active:x11vnc:127.0.0.1:5900',
    kind: 'remote-session-active',
    severity: 'high',
    title: 'Someone is connected to this laptop remotely',
    explanation: 'A VNC server on this laptop has an active incoming connection.',
    evidence: { tool: 'x11vnc', port: 5900, peers: 1 },
    firstSeenAt: now - 30_000,
    lastSeenAt: now,
    closedAt: null,
    ...overrides,
  };
}

function padTiming(body: ReportBody, targetBytes: number): void {
  let index = 0;
  const timing: TimingWindow[] = [];
  body.timing = timing;
  while (Buffer.byteLength(canonicalize(body)) < targetBytes && index < 2000) timing.push(sampleWindow(body.window.from + index++ * 1000, 40 + (index % 7)));
}

/**
 * Enroll `count` devices against a collector at `baseUrl` and make `reportsPerDevice` signed reports
 * of about `reportBytes` each, ready to POST in order.
 */
export async function enrollAndMakeReports(
  baseUrl: string,
  enrollmentSecret: string,
  options: { devices?: number; reportsPerDevice: number; reportBytes?: number },
): Promise<{ devices: TestDevice[]; reports: SignedReport[][] }> {
  const devices: TestDevice[] = [];
  const reports: SignedReport[][] = [];
  for (let index = 0; index < (options.devices ?? 1); index++) {
    const device = new TestDevice({ hostname: `bench-${index}` });
    const response = await fetch(`${baseUrl}/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(device.enrollRequest(enrollmentSecret)),
    });
    if (!response.ok) throw new Error(`enroll failed: ${response.status} ${await response.text()}`);
    device.deviceId = ((await response.json()) as { deviceId: string }).deviceId;
    devices.push(device);
    reports.push(Array.from({ length: options.reportsPerDevice }, () => device.nextReport({ padToBytes: options.reportBytes ?? 2048 })));
  }
  return { devices, reports };
}
