/**
 * Location routes of the IT API: farm clusters, one device's latest location signals, the expected
 * egress country (per device or fleet-wide) and approved shared places. Reads need `devices:read`;
 * changes need `location:write`. A change applies from the next report of each device concerned.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ItScope } from '../config';
import { CollectorError } from '../errors';
import { DeviceLocationSchema, FarmListSchema, LinkKindSchema } from '../schemas';
import { deleteApprovedPlace, findDeviceLocation, listApprovedPlaces, listOpenClusters, hostnamesOf, setExpectedCountry, upsertApprovedPlace, expectedCountry, type LinkKind } from '../storage/locations';
import { appendAudit } from '../storage/audit-log';
import { recordAudit } from './it';
import { decorateItActor, requireScope as scopeFor } from './it-auth';

const DeviceIdParam = Type.String({ minLength: 1, maxLength: 64 });
const CountrySchema = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, upper case.' });
const ApprovedPlaceSchema = Type.Object(
  { kind: LinkKindSchema, value: Type.String({ minLength: 1, maxLength: 128 }), label: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export async function locationRoutes(app: FastifyInstance): Promise<void> {
  const services = app.collector;
  decorateItActor(app);
  const requireScope = (scope: ItScope) => scopeFor(app, scope);
  const database = services.store.database;

  app.get<{ Querystring: { limit?: string } }>(
    '/v1/farms',
    {
      onRequest: requireScope('devices:read'),
      schema: { querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })) }, { additionalProperties: false }), response: { 200: FarmListSchema } },
    },
    async (request) => {
      const limit = Math.max(1, Math.min(1000, Number(request.query.limit ?? 100)));
      const clusters = await listOpenClusters(database, limit);
      const ids = [...new Set(clusters.flatMap((cluster) => JSON.parse(cluster.members) as string[]))];
      const hostnames = await hostnamesOf(database, ids);
      return {
        farms: clusters.map((cluster) => ({
          clusterId: cluster.id,
          openedAt: cluster.openedAt,
          updatedAt: cluster.updatedAt,
          deviceCount: cluster.deviceCount,
          devices: (JSON.parse(cluster.members) as string[]).map((deviceId) => ({ deviceId, hostname: hostnames.get(deviceId) ?? '' })),
          sharedSignals: JSON.parse(cluster.signals) as { kind: LinkKind; value: string; deviceIds: string[] }[],
        })),
        serverTime: services.clock(),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/devices/:id/location',
    { onRequest: requireScope('devices:read'), schema: { params: Type.Object({ id: DeviceIdParam }), response: { 200: DeviceLocationSchema } } },
    async (request) => {
      const { id } = request.params;
      if (!(await services.store.findDevice(id))) throw new CollectorError('NOT_FOUND', `No device ${id}.`, 404);
      await recordAudit(services, { actor: request.itActor, action: 'view-location', deviceId: id, findingId: null, detail: 'location signals' });
      const row = await findDeviceLocation(database, id);
      return {
        deviceId: id,
        seenAt: row?.seenAt ?? null,
        gatewayHash: row?.gatewayHash ?? null,
        bssidHash: row?.bssidHash ?? null,
        ssidHash: row?.ssidHash ?? null,
        subnetHash: row?.subnetHash ?? null,
        timezone: row?.timezone ?? null,
        utcOffsetMinutes: row?.utcOffsetMinutes ?? null,
        defaultRouteTunnel: row?.defaultRouteTunnel ?? false,
        interfaceKind: row?.interfaceKind ?? null,
        egress:
          row?.egressIp == null
            ? null
            : { ip: row.egressIp, asn: row.egressAsn, organization: row.egressOrg, country: row.egressCountry, hostingOrVpn: row.egressHosting },
        expectedCountry: await expectedCountry(database, id),
      };
    },
  );

  app.put<{ Body: { country: string | null } }>(
    '/v1/location/expected-country',
    {
      onRequest: requireScope('location:write'),
      schema: { body: Type.Object({ country: Type.Union([CountrySchema, Type.Null()]) }, { additionalProperties: false }) },
    },
    async (request) => {
      const now = services.clock();
      await database.transaction(async (tx) => {
        await setExpectedCountry(tx, '*', request.body.country, now);
        await appendAudit(tx, { actor: request.itActor, action: 'set-expected-country', deviceId: null, findingId: null, detail: `fleet: ${request.body.country ?? 'none'}` }, now);
      });
      return { scope: 'fleet', country: request.body.country };
    },
  );

  app.put<{ Params: { id: string }; Body: { country: string | null } }>(
    '/v1/devices/:id/expected-country',
    {
      onRequest: requireScope('location:write'),
      schema: { params: Type.Object({ id: DeviceIdParam }), body: Type.Object({ country: Type.Union([CountrySchema, Type.Null()]) }, { additionalProperties: false }) },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await services.store.findDevice(id))) throw new CollectorError('NOT_FOUND', `No device ${id}.`, 404);
      const now = services.clock();
      await database.transaction(async (tx) => {
        await setExpectedCountry(tx, id, request.body.country, now);
        await appendAudit(tx, { actor: request.itActor, action: 'set-expected-country', deviceId: id, findingId: null, detail: request.body.country ?? 'none' }, now);
      });
      return { scope: id, country: request.body.country };
    },
  );

  app.get('/v1/location/approved-places', { onRequest: requireScope('devices:read') }, async () => ({ places: await listApprovedPlaces(database) }));

  app.put<{ Body: { kind: LinkKind; value: string; label: string } }>(
    '/v1/location/approved-places',
    { onRequest: requireScope('location:write'), schema: { body: ApprovedPlaceSchema } },
    async (request) => {
      const place = { ...request.body, createdAt: services.clock() };
      await database.transaction(async (tx) => {
        await upsertApprovedPlace(tx, place);
        await appendAudit(tx, { actor: request.itActor, action: 'approve-place', deviceId: null, findingId: null, detail: `${place.kind}: ${place.label}` }, place.createdAt);
      });
      return { place };
    },
  );

  app.delete<{ Body: { kind: LinkKind; value: string } }>(
    '/v1/location/approved-places',
    {
      onRequest: requireScope('location:write'),
      schema: { body: Type.Object({ kind: LinkKindSchema, value: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }) },
    },
    async (request) => {
      const removed = await database.transaction(async (tx) => {
        const gone = await deleteApprovedPlace(tx, request.body.kind, request.body.value);
        if (gone) await appendAudit(tx, { actor: request.itActor, action: 'remove-place', deviceId: null, findingId: null, detail: request.body.kind }, services.clock());
        return gone;
      });
      if (!removed) throw new CollectorError('NOT_FOUND', `No approved place ${request.body.kind} ${request.body.value}.`, 404);
      return { removed: true };
    },
  );
}
