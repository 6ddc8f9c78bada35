/**
 * Test harness: a collector on a temporary SQLite file (or a given storage), with helpers to enroll
 * devices, post reports via `inject`, and count stored rows. Closes everything in `t.after`.
 */
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { SignedReport } from '../../../common/report';
import { buildCollector, type CollectorOptions } from '../../../collector/app';
import type { CollectorConfigInput } from '../../../collector/config';
import type { Schedule } from '../../../collector/ingest/silence';
import type { SqlDatabase } from '../../../collector/storage/sql';
import { tempDir } from '../temp-dir';
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

export interface TestCollector {
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
}

/** A temporary SQLite file path, removed after the test. */
export function tempDatabaseFile(t: TestContext): string {
  return path.join(tempDir(t, 'telltale-collector-'), 'collector.db');
}

export async function startTestCollector(
  t: TestContext,
  overrides: Partial<CollectorConfigInput> = {},
  options: CollectorOptions = {},
): Promise<TestCollector> {
  const config: CollectorConfigInput = {
    storage: { kind: 'sqlite', file: options.database ? ':unused:' : tempDatabaseFile(t) },
    enrollmentSecret: TEST_ENROLLMENT_SECRET,
    itTokens: [
      { token: TEST_IT_TOKEN, scopes: ['devices:read', 'findings:read', 'reports:read'] },
      { token: TEST_DEVICES_ONLY_TOKEN, scopes: ['devices:read'] },
      { token: TEST_DEVICES_WRITE_TOKEN, scopes: ['devices:write'] },
      { token: TEST_TRIAGE_TOKEN, name: TEST_TRIAGE_ACTOR, scopes: ['devices:read', 'findings:read', 'reports:read', 'findings:write', 'devices:write', 'audit:read'] },
    ],
    ...overrides,
  };
  const app = await buildCollector(config, options);
  t.after(() => app.close());
  const database = app.collector.store.database;
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
  };
}

/** A CollectorOptions.schedule whose tasks run only when the test calls `tick`, instead of on a timer. */
export class ManualSchedule {
  private readonly tasks = new Set<() => Promise<void>>();
  /** The interval the app asked for, to check it against the config. */
  intervalMs: number | undefined;

  readonly schedule: Schedule = (intervalMs, task) => {
    this.intervalMs = intervalMs;
    this.tasks.add(task);
    return () => this.tasks.delete(task);
  };

  /** Run every scheduled task once, as if their interval elapsed, and wait for them. */
  async tick(): Promise<void> {
    await Promise.all([...this.tasks].map((task) => task()));
  }
}
