/**
 * A collector on a temporary SQLite file (or a given storage), with helpers to enroll devices, post
 * reports via `inject`, and count stored rows. The CI tests (test/helpers/collector/harness.ts) and
 * the bench's fuzz group both drive the collector through it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { SignedReport } from '../../common/report';
import { buildCollector, type CollectorOptions } from '../../collector/app';
import type { CollectorConfigInput } from '../../collector/config';
import type { SqlDatabase } from '../../collector/storage/sql';
import { TestDevice, type TestDeviceOptions } from './make-reports';

export const TEST_ENROLLMENT_SECRET = 'test-enrollment-secret';
/** Token with every read scope. */
export const TEST_IT_TOKEN = 'it-token-all-scopes-0123456789';
/** Token holding only devices:write (delete a device). */
export const TEST_DEVICES_WRITE_TOKEN = 'it-token-devices-write-0123456789';
/** Token named `alice` with every scope: the triage analyst. */
export const TEST_TRIAGE_TOKEN = 'it-token-triage-alice-0123456789';
export const TEST_TRIAGE_ACTOR = 'alice';
/** Token holding only devices:read. */
export const TEST_DEVICES_ONLY_TOKEN = 'it-token-devices-only-0123456789';

/** A running lab collector and the calls the tests and the bench make on it. */
export interface LabCollector {
  readonly app: FastifyInstance;
  readonly database: SqlDatabase;
  /** Enroll a new device via the API; returns it with its deviceId set. */
  enroll(options?: TestDeviceOptions): Promise<TestDevice>;
  postReport(report: SignedReport | string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** GET with the all-scopes IT token. */
  itGet(url: string, token?: string): Promise<LightMyRequestResponse>;
  /** A JSON request with the triage token (every scope, named alice) unless another is given. */
  itSend(method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token?: string): Promise<LightMyRequestResponse>;
  count(table: 'devices' | 'reports' | 'findings' | 'chain_gaps' | 'audit_log'): Promise<number>;
  /** Close the app and remove the temporary folder it made, if any. */
  close(): Promise<void>;
}

/**
 * Build a collector with the lab's enrolment secret and IT tokens, `overrides` on top. Without
 * `options.database` and without a storage override it gets a SQLite file in a fresh temporary folder.
 */
export async function startLabCollector(overrides: Partial<CollectorConfigInput> = {}, options: CollectorOptions = {}): Promise<LabCollector> {
  const folder = options.database || overrides.storage ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-collector-'));
  const config: CollectorConfigInput = {
    storage: { kind: 'sqlite', file: folder ? path.join(folder, 'collector.db') : ':unused:' },
    enrollmentSecret: TEST_ENROLLMENT_SECRET,
    itTokens: [
      { token: TEST_IT_TOKEN, scopes: ['devices:read', 'findings:read', 'reports:read'] },
      { token: TEST_DEVICES_ONLY_TOKEN, scopes: ['devices:read'] },
      { token: TEST_DEVICES_WRITE_TOKEN, scopes: ['devices:write'] },
      { token: TEST_TRIAGE_TOKEN, name: TEST_TRIAGE_ACTOR, scopes: ['devices:read', 'findings:read', 'reports:read', 'findings:write', 'devices:write', 'audit:read'] },
    ],
    ...overrides,
  };
  let app: FastifyInstance;
  try {
    app = await buildCollector(config, options);
  } catch (error) {
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  const database = app.collector.store.database;
  let closed = false;
  return {
    app,
    database,
    async enroll(deviceOptions = {}) {
      const device = new TestDevice(deviceOptions);
      const response = await app.inject({ method: 'POST', url: '/v1/enroll', payload: device.enrollRequest(TEST_ENROLLMENT_SECRET, { signedAt: app.collector.clock() }) });
      if (response.statusCode !== 200) throw new Error(`enroll failed: ${response.statusCode} ${response.body}`);
      device.deviceId = response.json<{ deviceId: string }>().deviceId;
      return device;
    },
    postReport(report, headers = {}) {
      return app.inject({
        method: 'POST',
        url: '/v1/reports',
        headers: { 'content-type': 'application/json', ...headers },
        payload: typeof report === 'string' ? report : JSON.stringify(report),
      });
    },
    itGet(url, token = TEST_IT_TOKEN) {
      return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    },
    itSend(method, url, body, token = TEST_TRIAGE_TOKEN) {
      return app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    },
    async count(table) {
      const row = await database.get(`SELECT count(*) AS n FROM ${table}`);
      return Number(row?.n ?? 0);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await app.close();
      } finally {
        if (folder) fs.rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}
