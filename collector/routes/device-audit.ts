/**
 * POST /v1/device-audit: a device fetches the audit entries about itself, so the employee sees every
 * IT read and action on their laptop. The request is signed with the device key (the one its reports
 * are signed with) within DEVICE_AUDIT_WINDOW_MS of the collector's clock; the answer holds only that
 * device's entries and is signed with the collector's audit key (storage/identity.ts), which the
 * agent pins on first use.
 *
 * Checks, cheapest and least revealing first: schema (400) → signedAt within the window (401) →
 * device known (401, the same answer as a bad signature, so ids cannot be probed) → signature (401).
 */
import type { KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DEVICE_AUDIT_PAGE, DEVICE_AUDIT_WINDOW_MS, DeviceAuditFeedSchema, DeviceAuditRequestSchema, type DeviceAuditFeed, type DeviceAuditRequest } from '../../common/audit';
import { CollectorError } from '../errors';
import { listDeviceAudit } from '../storage/audit-log';
import { auditSigningKey } from '../storage/identity';
import { signAuditFeed, verifyDeviceAuditRequest } from '../../protocol/report-crypto';

export async function deviceAuditRoutes(app: FastifyInstance): Promise<void> {
  const services = app.collector;
  let signingKey: Promise<KeyObject> | null = null;
  const key = () => {
    signingKey ??= auditSigningKey(services.store.database, services.clock()).catch((error: unknown) => {
      signingKey = null;
      throw error;
    });
    return signingKey;
  };

  app.post<{ Body: DeviceAuditRequest }>(
    '/v1/device-audit',
    { schema: { body: DeviceAuditRequestSchema, response: { 200: DeviceAuditFeedSchema } } },
    async (request): Promise<DeviceAuditFeed> => {
      const { body } = request;
      const now = services.clock();
      if (Math.abs(body.signedAt - now) > DEVICE_AUDIT_WINDOW_MS) {
        throw new CollectorError('SIGNATURE_INVALID', `signedAt is more than ${DEVICE_AUDIT_WINDOW_MS / 60_000} minutes from the collector's clock.`, 401);
      }
      const deviceKey = await services.deviceKey(body.deviceId);
      if (!deviceKey || !verifyDeviceAuditRequest(body, deviceKey)) {
        throw new CollectorError('SIGNATURE_INVALID', 'The request is not signed by an enrolled device key.', 401);
      }
      const rows = await listDeviceAudit(services.store.database, body.deviceId, body.after, DEVICE_AUDIT_PAGE + 1);
      const entries = rows.slice(0, DEVICE_AUDIT_PAGE);
      return signAuditFeed({ deviceId: body.deviceId, servedAt: now, entries, more: rows.length > DEVICE_AUDIT_PAGE }, await key());
    },
  );
}
