/**
 * A small real HTTP server answering `POST /v1/device-audit` exactly as the contract says
 * (common/audit.ts): it checks the device's signed request and answers with a feed signed by its
 * own collector key through protocol/, from one hash-chained audit log shared by every device.
 *
 * Tests of the agent's audit fetch run against it until they run against the real collector; it
 * records entries the way IT actions would (`record`), and has driver methods for the failures a
 * test needs (another signing key, a broken link).
 */
import crypto, { type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { DEVICE_AUDIT_PAGE, DEVICE_AUDIT_WINDOW_MS, DeviceAuditRequestSchema, type AuditAction, type AuditEntry } from '../../common/audit';
import { GENESIS_HASH } from '../../common/report';
import { hashAuditEntry, signAuditFeed, verifyDeviceAuditRequest } from '../../protocol/report-crypto';

export interface AuditFeedServer {
  /** Base URL (http://127.0.0.1:PORT). */
  readonly url: string;
  /** Every entry of the chain, all devices. */
  readonly entries: AuditEntry[];
  /** Requests answered, with the `after` each asked from and the field names the body carried. */
  readonly requests: { deviceId: string; after: number; status: number; fields: string[] }[];
  /** Answer 404 NOT_FOUND on the route, as a collector from before the audit feed does. */
  routeMissing: boolean;
  /** Let this device ask for its feed (the collector knows enrolled devices' keys). */
  addDevice(deviceId: string, publicKey: KeyObject): void;
  /** Append one entry to the chain, as an IT read or action would. */
  record(entry: { actor?: string; action: AuditAction; deviceId: string | null; findingId?: number | null; detail?: string; at?: number }): AuditEntry;
  /** Sign feeds with this key from now on. */
  useKey(privateKey: KeyObject): void;
  /** Entries per answer (default DEVICE_AUDIT_PAGE). */
  pageSize: number;
  /** Rewrites each answer's entries before signing (a test's way to break the chain). */
  alterEntries: ((entries: AuditEntry[]) => AuditEntry[]) | null;
  close(): Promise<void>;
}

export async function startAuditFeedServer(options: { now?: () => number } = {}): Promise<AuditFeedServer> {
  const now = options.now ?? (() => Date.now());
  let signingKey = crypto.generateKeyPairSync('ed25519').privateKey;
  const devices = new Map<string, KeyObject>();
  const entries: AuditEntry[] = [];
  const requests: AuditFeedServer['requests'] = [];
  const state = { pageSize: DEVICE_AUDIT_PAGE, alterEntries: null as AuditFeedServer['alterEntries'], routeMissing: false };

  const answer = (response: http.ServerResponse, status: number, body: unknown): number => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    return status;
  };
  const error = (response: http.ServerResponse, status: number, code: string, message: string): number => answer(response, status, { error: { code, message } });

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (state.routeMissing || request.method !== 'POST' || request.url !== '/v1/device-audit') return void error(response, 404, 'NOT_FOUND', 'no such route');
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return void error(response, 400, 'PAYLOAD_INVALID', 'not JSON');
      }
      if (!Value.Check(DeviceAuditRequestSchema, parsed)) return void error(response, 400, 'PAYLOAD_INVALID', 'not a device audit request');
      const key = devices.get(parsed.deviceId);
      let status: number;
      if (key === undefined) status = error(response, 404, 'DEVICE_UNKNOWN', 'unknown device');
      else if (!verifyDeviceAuditRequest(parsed, key)) status = error(response, 401, 'SIGNATURE_INVALID', 'bad signature');
      else if (Math.abs(parsed.signedAt - now()) > DEVICE_AUDIT_WINDOW_MS) status = error(response, 401, 'SIGNATURE_INVALID', 'signedAt outside the window');
      else {
        const mine = entries.filter((entry) => entry.deviceId === parsed.deviceId && entry.seq > parsed.after);
        const page = mine.slice(0, state.pageSize);
        const body = { deviceId: parsed.deviceId, servedAt: now(), entries: state.alterEntries ? state.alterEntries(structuredClone(page)) : page, more: mine.length > page.length };
        status = answer(response, 200, signAuditFeed(body, signingKey));
      }
      requests.push({ deviceId: parsed.deviceId, after: parsed.after, status, fields: Object.keys(parsed).sort() });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    entries,
    requests,
    addDevice: (deviceId, publicKey) => void devices.set(deviceId, publicKey),
    record(input) {
      const fields = {
        seq: entries.length + 1,
        at: input.at ?? now(),
        actor: input.actor ?? 'analyst@example.com',
        action: input.action,
        deviceId: input.deviceId,
        findingId: input.findingId ?? null,
        detail: input.detail ?? '',
        prevHash: entries.at(-1)?.hash ?? GENESIS_HASH,
      };
      const entry = { ...fields, hash: hashAuditEntry(fields) };
      entries.push(entry);
      return entry;
    },
    useKey: (privateKey) => void (signingKey = privateKey),
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(value: number) {
      state.pageSize = value;
    },
    get routeMissing() {
      return state.routeMissing;
    },
    set routeMissing(value: boolean) {
      state.routeMissing = value;
    },
    get alterEntries() {
      return state.alterEntries;
    },
    set alterEntries(value) {
      state.alterEntries = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
