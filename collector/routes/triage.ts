/**
 * The IT triage loop: acknowledge, assign, resolve (with a reason) and reopen a finding; suppress a
 * finding kind for a device or a tag until a time, and lift it; notes; tags; retire and delete a
 * device; and the audit log itself. Every change is written together with its audit entry in one
 * transaction, so there is no action without its record. `findings:write` covers the finding and
 * note routes, `devices:write` the tag, retire and delete routes, `audit:read` the log.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuditEntrySchema, type AuditAction } from '../../common/audit';
import { AnyFindingKindSchema } from '../../common/findings';
import { CollectorError } from '../errors';
import { DeletedDeviceSchema, NoteViewSchema, SuppressionViewSchema, TagSchema } from '../schemas';
import { appendAudit, listAudit, verifyAuditChain } from '../storage/audit-log';
import { deleteDevice, findDeviceById } from '../storage/devices';
import type { Queryable } from '../storage/sql';
import {
  addNote,
  addSuppression,
  addTag,
  clearTriage,
  findingDevice,
  findSuppression,
  liftSuppression,
  listActiveSuppressions,
  removeTag,
  retireDevice,
  setTriage,
} from '../storage/triage';
import { decorateItActor, requireScope } from './it-auth';

const DeviceIdParam = Type.String({ minLength: 1, maxLength: 64 });
const FindingIdParam = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }) });
const Digits = Type.String({ pattern: '^[0-9]{1,15}$' });
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength });
/** A suppression lasts at most a year: a forgotten one must end by itself. */
const MAX_SUPPRESSION_MS = 366 * 24 * 3_600_000;

const TriageAnswerSchema = Type.Object({ ok: Type.Literal(true), auditSeq: Type.Integer() });
const AcknowledgeBody = Type.Object({ note: Type.Optional(Text(2000)) }, { additionalProperties: false });
const AssignBody = Type.Object({ assignee: Text(128) }, { additionalProperties: false });
const ResolveBody = Type.Object({ reason: Text(2000) }, { additionalProperties: false });
const ReopenBody = Type.Object({ reason: Type.Optional(Text(2000)) }, { additionalProperties: false });
const SuppressBody = Type.Object(
  {
    kind: AnyFindingKindSchema,
    deviceId: Type.Optional(DeviceIdParam),
    tag: Type.Optional(TagSchema),
    /** Epoch ms when it ends; at most a year ahead. */
    until: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    reason: Text(2000),
  },
  { additionalProperties: false },
);
const NoteBody = Type.Object({ text: Text(2000), findingId: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false });
const RetireBody = Type.Object({ reason: Text(2000) }, { additionalProperties: false });

export async function triageRoutes(app: FastifyInstance): Promise<void> {
  const services = app.collector;
  decorateItActor(app);
  const database = services.store.database;

  /** Run `change` and its audit entry in one transaction; returns the entry's seq. */
  async function audited(
    request: FastifyRequest,
    record: { action: AuditAction; deviceId: string | null; findingId: number | null; detail: string },
    change: (tx: Queryable, now: number) => Promise<void>,
  ): Promise<number> {
    return database.transaction(async (tx) => {
      const now = services.clock();
      await change(tx, now);
      return (await appendAudit(tx, { actor: request.itActor, ...record }, now)).seq;
    });
  }

  async function requireFinding(id: string) {
    const finding = await findingDevice(database, Number(id));
    if (!finding) throw new CollectorError('NOT_FOUND', `No finding ${id}.`, 404);
    return { id: Number(id), ...finding };
  }

  async function requireDevice(id: string) {
    const device = await findDeviceById(database, id);
    if (!device) throw new CollectorError('NOT_FOUND', `No device ${id}.`, 404);
    return device;
  }

  const findingRoute = <B extends typeof AcknowledgeBody | typeof AssignBody | typeof ResolveBody | typeof ReopenBody>(
    verb: 'acknowledge' | 'assign' | 'resolve' | 'reopen',
    body: B,
    apply: (finding: { id: number; deviceId: string }, input: Static<B>, actor: string) => { detail: string; change: (tx: Queryable, now: number) => Promise<void> },
  ) =>
    app.post<{ Params: { id: string }; Body: Static<B> }>(
      `/v1/findings/:id/${verb}`,
      { onRequest: requireScope(app, 'findings:write'), schema: { params: FindingIdParam, body, response: { 200: TriageAnswerSchema } } },
      async (request) => {
        const finding = await requireFinding(request.params.id);
        const { detail, change } = apply(finding, request.body as Static<B>, request.itActor);
        const auditSeq = await audited(request, { action: verb, deviceId: finding.deviceId, findingId: finding.id, detail }, change);
        return { ok: true as const, auditSeq };
      },
    );

  findingRoute('acknowledge', AcknowledgeBody, (finding, input, actor) => ({
    detail: input.note ?? 'Acknowledged',
    change: async (tx, now) => {
      await setTriage(tx, { findingId: finding.id, deviceId: finding.deviceId, status: 'acknowledged', assignee: null, reason: null, actor, now });
      if (input.note !== undefined) await addNote(tx, { deviceId: finding.deviceId, findingId: finding.id, at: now, author: actor, text: input.note });
    },
  }));
  findingRoute('assign', AssignBody, (finding, input, actor) => ({
    detail: `Assigned to ${input.assignee}`,
    change: (tx, now) => setTriage(tx, { findingId: finding.id, deviceId: finding.deviceId, status: null, assignee: input.assignee, reason: null, actor, now }),
  }));
  findingRoute('resolve', ResolveBody, (finding, input, actor) => ({
    detail: input.reason,
    change: (tx, now) => setTriage(tx, { findingId: finding.id, deviceId: finding.deviceId, status: 'resolved', assignee: null, reason: input.reason, actor, now }),
  }));
  findingRoute('reopen', ReopenBody, (finding, input) => ({
    detail: input.reason ?? 'Reopened',
    change: async (tx) => {
      await clearTriage(tx, finding.id);
    },
  }));

  app.post<{ Body: Static<typeof SuppressBody> }>(
    '/v1/suppressions',
    { onRequest: requireScope(app, 'findings:write'), schema: { body: SuppressBody, response: { 200: Type.Object({ suppression: SuppressionViewSchema, auditSeq: Type.Integer() }) } } },
    async (request) => {
      const { kind, deviceId, tag, until, reason } = request.body;
      if ((deviceId === undefined) === (tag === undefined)) throw new CollectorError('PAYLOAD_INVALID', 'Give exactly one of deviceId and tag.', 400);
      const now = services.clock();
      if (until <= now || until > now + MAX_SUPPRESSION_MS) throw new CollectorError('PAYLOAD_INVALID', 'until must be in the future and at most a year ahead.', 400);
      if (deviceId !== undefined) await requireDevice(deviceId);
      let stored: Awaited<ReturnType<typeof addSuppression>> | undefined;
      const scopeText = deviceId !== undefined ? 'this device' : `devices tagged ${tag}`;
      const auditSeq = await audited(
        request,
        { action: 'suppress', deviceId: deviceId ?? null, findingId: null, detail: `Suppressed ${kind} for ${scopeText} until ${new Date(until).toISOString()}: ${reason}` },
        async (tx, at) => {
          stored = await addSuppression(tx, { kind, deviceId: deviceId ?? null, tag: tag ?? null, untilAt: until, reason, createdAt: at, createdBy: request.itActor });
        },
      );
      return { suppression: stored!, auditSeq };
    },
  );

  app.get('/v1/suppressions', { onRequest: requireScope(app, 'findings:read'), schema: { response: { 200: Type.Object({ suppressions: Type.Array(SuppressionViewSchema) }) } } }, async () => ({
    suppressions: await listActiveSuppressions(database, services.clock()),
  }));

  app.delete<{ Params: { id: string } }>(
    '/v1/suppressions/:id',
    { onRequest: requireScope(app, 'findings:write'), schema: { params: FindingIdParam, response: { 200: TriageAnswerSchema } } },
    async (request) => {
      const suppression = await findSuppression(database, Number(request.params.id));
      if (!suppression) throw new CollectorError('NOT_FOUND', `No suppression ${request.params.id}.`, 404);
      let lifted = false;
      const auditSeq = await audited(
        request,
        { action: 'unsuppress', deviceId: suppression.deviceId, findingId: null, detail: `Lifted the suppression of ${suppression.kind}${suppression.tag === null ? '' : ` for devices tagged ${suppression.tag}`}` },
        async (tx, now) => {
          lifted = await liftSuppression(tx, suppression.id, now);
          if (!lifted) throw new CollectorError('NOT_FOUND', `Suppression ${suppression.id} is no longer in force.`, 404);
        },
      );
      return { ok: true as const, auditSeq };
    },
  );

  app.post<{ Params: { id: string }; Body: Static<typeof NoteBody> }>(
    '/v1/devices/:id/notes',
    { onRequest: requireScope(app, 'findings:write'), schema: { params: Type.Object({ id: DeviceIdParam }), body: NoteBody, response: { 200: Type.Object({ note: NoteViewSchema, auditSeq: Type.Integer() }) } } },
    async (request) => {
      const device = await requireDevice(request.params.id);
      const findingId = request.body.findingId ?? null;
      if (findingId !== null && (await findingDevice(database, findingId))?.deviceId !== device.id) {
        throw new CollectorError('NOT_FOUND', `Device ${device.id} has no finding ${findingId}.`, 404);
      }
      let stored: Awaited<ReturnType<typeof addNote>> | undefined;
      const auditSeq = await audited(request, { action: 'note', deviceId: device.id, findingId, detail: request.body.text }, async (tx, now) => {
        stored = await addNote(tx, { deviceId: device.id, findingId, at: now, author: request.itActor, text: request.body.text });
      });
      return { note: stored!, auditSeq };
    },
  );

  for (const method of ['PUT', 'DELETE'] as const) {
    app.route<{ Params: { id: string; tag: string } }>({
      method,
      url: '/v1/devices/:id/tags/:tag',
      onRequest: requireScope(app, 'devices:write'),
      schema: { params: Type.Object({ id: DeviceIdParam, tag: TagSchema }), response: { 200: Type.Object({ changed: Type.Boolean(), auditSeq: Type.Union([Type.Integer(), Type.Null()]) }) } },
      handler: async (request) => {
        const device = await requireDevice(request.params.id);
        const { tag } = request.params;
        let changed = false;
        // An unchanged tag is not an action: nothing is recorded.
        const auditSeq = await database.transaction(async (tx) => {
          const now = services.clock();
          changed = method === 'PUT' ? await addTag(tx, device.id, tag, now) : await removeTag(tx, device.id, tag);
          if (!changed) return null;
          return (await appendAudit(tx, { actor: request.itActor, action: 'tag', deviceId: device.id, findingId: null, detail: `${method === 'PUT' ? 'Added' : 'Removed'} tag ${tag}` }, now)).seq;
        });
        return { changed, auditSeq };
      },
    });
  }

  app.post<{ Params: { id: string }; Body: Static<typeof RetireBody> }>(
    '/v1/devices/:id/retire',
    { onRequest: requireScope(app, 'devices:write'), schema: { params: Type.Object({ id: DeviceIdParam }), body: RetireBody, response: { 200: TriageAnswerSchema } } },
    async (request) => {
      const device = await requireDevice(request.params.id);
      const auditSeq = await audited(request, { action: 'retire', deviceId: device.id, findingId: null, detail: request.body.reason }, async (tx, now) => {
        if (!(await retireDevice(tx, device.id, now))) throw new CollectorError('PAYLOAD_INVALID', `Device ${device.id} is already retired.`, 409);
      });
      return { ok: true as const, auditSeq };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/devices/:id',
    { onRequest: requireScope(app, 'devices:write'), schema: { params: Type.Object({ id: DeviceIdParam }), response: { 200: DeletedDeviceSchema } } },
    async (request) => {
      const { id } = request.params;
      let removed: Awaited<ReturnType<typeof deleteDevice>> = null;
      await database.transaction(async (tx) => {
        removed = await deleteDevice(tx, id);
        if (!removed) throw new CollectorError('NOT_FOUND', `No device ${id}.`, 404);
        // The entry outlives the device: the log is never edited, and it shows who deleted what.
        const { reports, findings, gaps } = removed;
        await appendAudit(tx, { actor: request.itActor, action: 'delete', deviceId: id, findingId: null, detail: `Deleted the device with ${reports} reports, ${findings} findings and ${gaps} gaps` }, services.clock());
      });
      services.keys.delete(id);
      request.log.info({ deviceId: id, ...removed! }, 'device deleted');
      return { deviceId: id, deleted: removed! };
    },
  );

  app.get<{ Querystring: { before?: string; limit?: string; deviceId?: string } }>(
    '/v1/audit',
    {
      onRequest: requireScope(app, 'audit:read'),
      schema: {
        querystring: Type.Object({ before: Type.Optional(Digits), limit: Type.Optional(Digits), deviceId: Type.Optional(DeviceIdParam) }, { additionalProperties: false }),
        response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema) }) },
      },
    },
    async (request) => {
      const limit = Math.max(1, Math.min(1000, Number(request.query.limit ?? '200')));
      const before = request.query.before === undefined ? null : Number(request.query.before);
      return { entries: await listAudit(database, { before, limit, ...(request.query.deviceId === undefined ? {} : { deviceId: request.query.deviceId }) }) };
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      onRequest: requireScope(app, 'audit:read'),
      schema: {
        response: {
          200: Type.Object({ ok: Type.Boolean(), entries: Type.Integer(), brokenAt: Type.Optional(Type.Integer()), problem: Type.Optional(Type.String()) }),
        },
      },
    },
    async () => verifyAuditChain(database),
  );
}
