/**
 * The IT API's reads: the device list (keyset-paged, sorted, filtered, searched), the fleet summary,
 * one device, the incident queue and findings pages (newest change first), reports, the NDJSON
 * stream by cursor, OCSF, and a stored report re-verified on read. Every route needs a bearer token
 * with the route's scope; every read of one device's data is recorded in the audit log first.
 * Changes are in routes/triage.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditAction, AuditEntry } from '../../common/audit';
import { AnyFindingKindSchema, RISK_LEVELS, SeveritySchema, type Evidence, type RiskLevel } from '../../common/findings';
import { GENESIS_HASH } from '../../common/report';
import type { CollectorServices } from '../app';
import type { ItScope } from '../config';
import { deviceFilters } from '../device-filters';
import { CollectorError } from '../errors';
import { toOcsf } from '../ocsf';
import {
  DeviceListSchema,
  DeviceViewSchema,
  FindingListSchema,
  FleetSummarySchema,
  NoteViewSchema,
  SuppressionViewSchema,
  TagSchema,
  IncidentListSchema,
  ReportListSchema,
  StoredReportSchema,
  type FleetFinding,
  type Incident,
  type StoredReport,
} from '../schemas';
import { appendAudit, type AuditRecord } from '../storage/audit-log';
import type { FindingRow } from '../storage/findings';
import { BadCursor, DEVICE_SORTS, fleetSummary, listDevicePage, listFindingPage, RETIRED_CHOICES, type IncidentRow } from '../storage/fleet';
import { listActiveSuppressions, listNotes } from '../storage/triage';
import { sha256Hex } from '../../protocol/report-crypto';
import { decorateItActor, requireScope } from './it-auth';

const DeviceIdParam = Type.String({ minLength: 1, maxLength: 64 });
const Digits = Type.String({ pattern: '^[0-9]{1,15}$' });
const PageQuery = Type.Object({ cursor: Type.Optional(Digits), limit: Type.Optional(Digits) }, { additionalProperties: false });
const DEFAULT_PAGE = 500;
const MAX_PAGE = 5000;
const DEVICE_PAGE = 100;
const MAX_DEVICE_PAGE = 1000;

type DeviceListQuery = {
  cursor?: string;
  limit?: string;
  sort?: (typeof DEVICE_SORTS)[number];
  risk?: string;
  kind?: FleetFinding['kind'];
  silent?: 'true' | 'false';
  tag?: string;
  q?: string;
  retired?: (typeof RETIRED_CHOICES)[number];
} & Record<string, string | undefined>;

const FindingListQuerySchema = Type.Object(
  {
    before: Type.Optional(Digits),
    limit: Type.Optional(Digits),
    severity: Type.Optional(SeveritySchema),
    kind: Type.Optional(AnyFindingKindSchema),
    /** 'active' (default for incidents) leaves out findings IT resolved or suppressed. */
    triage: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('all')])),
    /** /v1/findings only: 'true' for open findings only. */
    open: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
  },
  { additionalProperties: false },
);
type FindingListQuery = Static<typeof FindingListQuerySchema>;

const DeviceDetailSchema = Type.Object({
  device: DeviceViewSchema,
  notes: Type.Array(NoteViewSchema),
  suppressions: Type.Array(SuppressionViewSchema),
  serverTime: Type.Integer(),
});

/** The header carrying the cursor to resume from. */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';

export async function itRoutes(app: FastifyInstance): Promise<void> {
  const services = app.collector;
  decorateItActor(app);
  const scope = (name: ItScope) => requireScope(app, name);
  const filters = deviceFilters();
  const silentBefore = () => services.clock() - services.silentAfterMs;
  const audit = (request: FastifyRequest, action: AuditAction, deviceId: string, detail: string, findingId: number | null = null) =>
    recordAudit(services, { actor: request.itActor, action, deviceId, findingId, detail });

  app.get<{ Querystring: DeviceListQuery }>(
    '/v1/devices',
    {
      onRequest: scope('devices:read'),
      schema: {
        querystring: Type.Object(
          {
            cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,2000}$' })),
            limit: Type.Optional(Digits),
            sort: Type.Optional(Type.Union(DEVICE_SORTS.map((sort) => Type.Literal(sort)))),
            risk: Type.Optional(Type.String({ pattern: `^(${RISK_LEVELS.join('|')})(,(${RISK_LEVELS.join('|')})){0,4}$` })),
            kind: Type.Optional(AnyFindingKindSchema),
            silent: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
            tag: Type.Optional(TagSchema),
            q: Type.Optional(Type.String({ maxLength: 200 })),
            retired: Type.Optional(Type.Union(RETIRED_CHOICES.map((choice) => Type.Literal(choice)))),
            ...Object.fromEntries(filters.map((filter) => [filter.name, Type.Optional(Type.String({ minLength: 1, maxLength: filter.maxLength }))])),
          },
          { additionalProperties: false },
        ),
        response: { 200: DeviceListSchema },
      },
    },
    async (request) => {
      const query = request.query;
      const extra = filters.flatMap((filter) => {
        const value = query[filter.name];
        if (value === undefined) return [];
        const condition = filter.toSql(value, services.store.database.dialect);
        if (condition === null) throw new CollectorError('PAYLOAD_INVALID', `Invalid ${filter.name}: ${filter.description}`, 400);
        return [condition];
      });
      const page = await withCursor(() =>
        listDevicePage(services.store.database, {
          sort: query.sort ?? 'host',
          ...(query.risk === undefined ? {} : { risk: [...new Set(query.risk.split(','))] as RiskLevel[] }),
          ...(query.kind === undefined ? {} : { kind: query.kind }),
          ...(query.silent === undefined ? {} : { silent: query.silent === 'true' }),
          ...(query.tag === undefined ? {} : { tag: query.tag }),
          ...(query.q === undefined ? {} : { search: query.q.trim() }),
          retired: query.retired ?? 'exclude',
          extra,
          cursor: query.cursor ?? null,
          limit: pageSize(query.limit, DEVICE_PAGE, MAX_DEVICE_PAGE),
          silentBefore: silentBefore(),
        }),
      );
      return { devices: page.items, nextCursor: page.nextCursor, serverTime: services.clock() };
    },
  );

  app.get('/v1/fleet/summary', { onRequest: scope('devices:read'), schema: { response: { 200: FleetSummarySchema } } }, async () => ({
    ...(await fleetSummary(services.store.database, silentBefore())),
    serverTime: services.clock(),
  }));

  app.get<{ Params: { id: string } }>(
    '/v1/devices/:id',
    { onRequest: scope('devices:read'), schema: { params: Type.Object({ id: DeviceIdParam }), response: { 200: DeviceDetailSchema } } },
    async (request) => {
      const device = await requireDevice(request.params.id);
      await audit(request, 'view-device', device.id, 'Opened the device page');
      const page = await listDevicePage(services.store.database, {
        sort: 'host',
        retired: 'include',
        extra: [{ where: 'd.id = ?', params: [device.id] }],
        cursor: null,
        limit: 1,
        silentBefore: silentBefore(),
      });
      const view = page.items[0];
      if (!view) throw new CollectorError('NOT_FOUND', `No device ${device.id}.`, 404);
      const [notes, suppressions] = await Promise.all([
        listNotes(services.store.database, device.id, 100),
        listActiveSuppressions(services.store.database, services.clock(), device.id),
      ]);
      return { device: view, notes, suppressions, serverTime: services.clock() };
    },
  );

  app.get<{ Querystring: FindingListQuery }>(
    '/v1/incidents',
    { onRequest: scope('findings:read'), schema: { querystring: FindingListQuerySchema, response: { 200: IncidentListSchema } } },
    async (request) => {
      const page = await findingPage(request.query, { openOnly: true });
      return { incidents: page.items, nextBefore: page.nextBefore, serverTime: services.clock() };
    },
  );

  app.get<{ Querystring: FindingListQuery }>(
    '/v1/findings',
    { onRequest: scope('findings:read'), schema: { querystring: FindingListQuerySchema, response: { 200: IncidentListSchema } } },
    async (request) => {
      const page = await findingPage(request.query, { openOnly: request.query.open === 'true', triage: request.query.triage ?? 'all' });
      return { incidents: page.items, nextBefore: page.nextBefore, serverTime: services.clock() };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { before?: string; limit?: string } }>(
    '/v1/devices/:id/reports',
    {
      onRequest: scope('reports:read'),
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
      await audit(request, 'view-reports', request.params.id, before === null ? 'Listed the newest reports' : `Listed reports before ${before}`);
      const [reports, gaps] = await Promise.all([services.store.listReports(request.params.id, before, limit), services.store.listGaps(request.params.id)]);
      return { reports, gaps };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { before?: string; limit?: string } }>(
    '/v1/devices/:id/findings',
    {
      onRequest: scope('findings:read'),
      schema: {
        params: Type.Object({ id: DeviceIdParam }),
        querystring: Type.Object({ before: Type.Optional(Digits), limit: Type.Optional(Digits) }, { additionalProperties: false }),
        response: { 200: FindingListSchema },
      },
    },
    async (request) => {
      await requireDevice(request.params.id);
      await audit(request, 'view-findings', request.params.id, 'Listed the findings');
      const page = await listFindingPage(services.store.database, {
        before: request.query.before === undefined ? null : Number(request.query.before),
        limit: pageSize(request.query.limit),
        deviceId: request.params.id,
        openOnly: false,
        triage: 'all',
        includeRetired: true,
        now: services.clock(),
      });
      return { findings: page.items.map((item) => toFleetFinding(item.finding)), nextBefore: page.nextBefore };
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    '/v1/findings/stream',
    { onRequest: scope('findings:read'), schema: { querystring: PageQuery } },
    async (request, reply) => {
      const { rows, next } = await findingsPage(request.query);
      setNextCursor(reply, next);
      reply.type('application/x-ndjson; charset=utf-8');
      return rows.map((row) => `${JSON.stringify(toFleetFinding(row))}\n`).join('');
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string } }>(
    '/v1/findings/ocsf',
    { onRequest: scope('findings:read'), schema: { querystring: PageQuery } },
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
      onRequest: scope('reports:read'),
      schema: { params: Type.Object({ deviceId: DeviceIdParam, seq: Digits }), response: { 200: StoredReportSchema } },
    },
    async (request): Promise<StoredReport> => {
      const device = await requireDevice(request.params.deviceId);
      const seq = Number(request.params.seq);
      await audit(request, 'view-report', device.id, `Opened report ${seq}`);
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

  function findingPage(query: FindingListQuery, fixed: { openOnly: boolean; triage?: 'active' | 'all' }) {
    return listFindingPage(services.store.database, {
      before: query.before === undefined ? null : Number(query.before),
      limit: pageSize(query.limit),
      ...(query.severity === undefined ? {} : { severity: query.severity }),
      ...(query.kind === undefined ? {} : { kind: query.kind }),
      openOnly: fixed.openOnly,
      triage: fixed.triage ?? query.triage ?? 'active',
      includeRetired: false,
      now: services.clock(),
    }).then((page) => ({ items: page.items.map(toIncident), nextBefore: page.nextBefore }));
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

function pageSize(limit: string | undefined, fallback = DEFAULT_PAGE, max = MAX_PAGE): number {
  if (limit === undefined) return fallback;
  return Math.max(1, Math.min(max, Number(limit)));
}

/** A bad device-list cursor is the client's mistake: 400, not 500. */
async function withCursor<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadCursor) throw new CollectorError('PAYLOAD_INVALID', error.message, 400);
    throw error;
  }
}

/** An incident row as the API shows it. */
export function toIncident(row: IncidentRow): Incident {
  return { finding: toFleetFinding(row.finding), hostname: row.hostname, triage: row.triage, suppressed: row.suppressed };
}

/** Append one audit entry in its own transaction; the read or action it records is refused if this fails. */
export async function recordAudit(services: CollectorServices, record: AuditRecord): Promise<AuditEntry> {
  return services.store.database.transaction((tx) => appendAudit(tx, record, services.clock()));
}

/** A stored finding as the API shows it. */
export function toFleetFinding(row: FindingRow): FleetFinding {
  return {
    id: row.id,
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
