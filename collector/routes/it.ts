/**
 * The IT API: devices with risk, reports, findings (JSON, NDJSON stream by cursor, OCSF), and a stored
 * report re-verified on read, and deleting a retired device. Every route needs a bearer token with the
 * route's scope. Every route but the delete only reads: silent-device findings come from the app's
 * timed sweeps (ingest/silence.ts).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Evidence } from '../../common/findings';
import { GENESIS_HASH } from '../../common/report';
import type { ItScope } from '../config';
import { CollectorError } from '../errors';
import { summarizeDevices } from '../ingest/risk';
import { toOcsf } from '../ocsf';
import { refuseWhenBlocked } from '../limits';
import { deleteDevice } from '../storage/devices';
import { DeletedDeviceSchema, DeviceListSchema, FindingListSchema, ReportListSchema, StoredReportSchema, type FleetFinding, type StoredReport } from '../schemas';
import type { FindingRow } from '../storage/findings';
import { sha256Hex } from '../../protocol/report-crypto';

const DeviceIdParam = Type.String({ minLength: 1, maxLength: 64 });
const Digits = Type.String({ pattern: '^[0-9]{1,15}$' });
const PageQuery = Type.Object({ cursor: Type.Optional(Digits), limit: Type.Optional(Digits) }, { additionalProperties: false });
const DEFAULT_PAGE = 500;
const MAX_PAGE = 5000;

/** The header carrying the cursor to resume from. */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';

/**
 * An onRequest hook requiring `scope`. Failed tokens are counted per address and throttled, so
 * guessing costs an hour per failuresPerIp.
 */
export function scopeGuard(app: FastifyInstance): (scope: ItScope) => (request: FastifyRequest) => Promise<void> {
  const services = app.collector;
  const { failedTokens } = services.limits;
  return (scope) => async (request) => {
    refuseWhenBlocked(failedTokens, request.ip, 'Too many failed IT-token attempts from this address');
    try {
      services.tokens.authorize(request, scope);
    } catch (error) {
      if (error instanceof CollectorError && error.statusCode === 401) failedTokens.add(request.ip);
      throw error;
    }
  };
}

export async function itRoutes(app: FastifyInstance): Promise<void> {
  const services = app.collector;
  const requireScope = scopeGuard(app);

  app.get('/v1/devices', { onRequest: requireScope('devices:read'), schema: { response: { 200: DeviceListSchema } } }, async () => {
    const [rows, counts] = await Promise.all([services.store.listDevices(), services.store.countOpenFindings()]);
    const devices = summarizeDevices(rows, counts, services.clock(), services.silentAfterMs);
    return {
      devices: devices.map((device) => ({
        id: device.id,
        hostname: device.hostname,
        platform: device.platform,
        agentVersion: device.agentVersion,
        enrolledAt: device.enrolledAt,
        lastSeenAt: device.lastSeenAt,
        headSeq: device.headSeq,
        risk: device.risk,
        silent: device.silent,
        openFindings: device.openFindings,
      })),
      serverTime: services.clock(),
    };
  });

  app.delete<{ Params: { id: string } }>(
    '/v1/devices/:id',
    { onRequest: requireScope('devices:write'), schema: { params: Type.Object({ id: DeviceIdParam }), response: { 200: DeletedDeviceSchema } } },
    async (request) => {
      const { id } = request.params;
      const removed = await services.store.database.transaction((tx) => deleteDevice(tx, id));
      if (!removed) throw new CollectorError('NOT_FOUND', `No device ${id}.`, 404);
      services.keys.delete(id);
      request.log.info({ deviceId: id, ...removed }, 'device deleted');
      return { deviceId: id, deleted: removed };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { before?: string; limit?: string } }>(
    '/v1/devices/:id/reports',
    {
      onRequest: requireScope('reports:read'),
      schema: {
        params: Type.Object({ id: DeviceIdParam }),
        querystring: Type.Object({ before: Type.Optional(Digits), limit: Type.Optional(Digits) }, { additionalProperties: false }),
        response: { 200: ReportListSchema },
      },
    },
    async (request) => {
      await requireDevice(request.params.id);
      const limit = pageSize(request.query.limit);
      const before = request.query.before === undefined ? null : Number(request.query.before);
      const [reports, gaps] = await Promise.all([services.store.listReports(request.params.id, before, limit), services.store.listGaps(request.params.id)]);
      return { reports, gaps };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>(
    '/v1/devices/:id/findings',
    {
      onRequest: requireScope('findings:read'),
      schema: {
        params: Type.Object({ id: DeviceIdParam }),
        querystring: Type.Object({ limit: Type.Optional(Digits) }, { additionalProperties: false }),
        response: { 200: FindingListSchema },
      },
    },
    async (request) => {
      await requireDevice(request.params.id);
      const rows = await services.store.listDeviceFindings(request.params.id, pageSize(request.query.limit));
      return { findings: rows.map(toFleetFinding) };
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    '/v1/findings/stream',
    { onRequest: requireScope('findings:read'), schema: { querystring: PageQuery } },
    async (request, reply) => {
      const { rows, next } = await findingsPage(request.query);
      setNextCursor(reply, next);
      reply.type('application/x-ndjson; charset=utf-8');
      return rows.map((row) => `${JSON.stringify(toFleetFinding(row))}\n`).join('');
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    '/v1/findings/ocsf',
    { onRequest: requireScope('findings:read'), schema: { querystring: PageQuery } },
    async (request, reply) => {
      const { rows, next } = await findingsPage(request.query);
      const hostnames = new Map<string, string>();
      for (const deviceId of new Set(rows.map((row) => row.deviceId))) {
        hostnames.set(deviceId, (await services.store.findDevice(deviceId))?.hostname ?? '');
      }
      setNextCursor(reply, next);
      reply.type('application/json; charset=utf-8');
      return JSON.stringify(rows.map((row) => toOcsf(toFleetFinding(row), hostnames.get(row.deviceId) ?? '', services.version)));
    },
  );

  app.get<{ Params: { deviceId: string; seq: string } }>(
    '/v1/reports/:deviceId/:seq',
    {
      onRequest: requireScope('reports:read'),
      schema: { params: Type.Object({ deviceId: DeviceIdParam, seq: Digits }), response: { 200: StoredReportSchema } },
    },
    async (request): Promise<StoredReport> => {
      const device = await requireDevice(request.params.deviceId);
      const seq = Number(request.params.seq);
      const report = await services.store.getReport(device.id, seq);
      if (!report) throw new CollectorError('NOT_FOUND', `Device ${device.id} has no stored report ${seq}.`, 404);
      const key = await services.deviceKey(device.id);
      if (!key) throw new Error(`Device ${device.id} has no usable key`);
      const bytes = Buffer.from(report.body, 'utf8');
      const previousHash = seq === 1 ? GENESIS_HASH : await services.store.getHash(device.id, seq - 1);
      return {
        deviceId: device.id,
        seq,
        receivedAt: report.receivedAt,
        canonicalBody: report.body,
        sig: report.sig,
        hash: report.hash,
        verification: {
          signatureValid: await services.verifier(key, bytes, report.sig),
          hashMatches: sha256Hex(bytes) === report.hash,
          chain: previousHash === undefined ? 'missing-previous' : previousHash === report.prevHash ? 'linked' : 'broken',
        },
      };
    },
  );

  async function requireDevice(id: string) {
    const device = await services.store.findDevice(id);
    if (!device) throw new CollectorError('NOT_FOUND', `No device ${id}.`, 404);
    return device;
  }

  async function findingsPage(query: { cursor?: string; limit?: string }): Promise<{ rows: FindingRow[]; next: number }> {
    const cursor = query.cursor === undefined ? 0 : Number(query.cursor);
    const rows = await services.store.listFindingsAfter(cursor, pageSize(query.limit));
    return { rows, next: rows.length === 0 ? cursor : (rows[rows.length - 1]?.cursor ?? cursor) };
  }
}

function setNextCursor(reply: FastifyReply, next: number): void {
  reply.header(NEXT_CURSOR_HEADER, String(next));
}

function pageSize(limit: string | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  return Math.max(1, Math.min(MAX_PAGE, Number(limit)));
}

/** A stored finding as the API shows it. */
export function toFleetFinding(row: FindingRow): FleetFinding {
  return {
    cursor: row.cursor,
    deviceId: row.deviceId,
    source: row.source,
    key: row.key,
    kind: row.kind,
    severity: row.severity,
    title: row.title,
    explanation: row.explanation,
    evidence: JSON.parse(row.evidence) as Evidence,
    firstSeenAt: row.firstSeenAt,
    lastSeenAt: row.lastSeenAt,
    closedAt: row.closedAt,
    reportSeq: row.reportSeq,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
