/**
 * Agent-facing routes: POST /v1/enroll and POST /v1/reports.
 *
 * Report checks run in a fixed order, cheapest and least revealing first: schema (400) → size of the
 * canonical body (413) → device known (404) → Ed25519 signature over canonicalize(body) (401) →
 * chain placement inside the commit transaction (409 on a fork). The 200 is sent only after the
 * transaction holding the report has committed.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  EnrollRequestSchema,
  EnrollResponseSchema,
  MAX_REPORT_BYTES,
  ReportAckSchema,
  SignedReportSchema,
  type EnrollRequest,
  type EnrollResponse,
  type ReportAck,
  type SignedReport,
} from '../../common/report';
import { evidenceProblem } from '../../common/findings';
import { assertNever } from '../../common/result';
import { CollectorError } from '../errors';
import { canonicalBody, parseDevicePublicKey } from '../../protocol/report-crypto';

export async function agentRoutes(app: FastifyInstance): Promise<void> {
  const services = app.collector;
  const secretDigest = digest(services.config.enrollmentSecret);

  app.post<{ Body: EnrollRequest }>(
    '/v1/enroll',
    { schema: { body: EnrollRequestSchema, response: { 200: EnrollResponseSchema } } },
    async (request): Promise<EnrollResponse> => {
      const { body } = request;
      if (!crypto.timingSafeEqual(digest(body.enrollmentSecret), secretDigest)) {
        throw new CollectorError('ENROLLMENT_DENIED', 'The enrollment secret is wrong.', 401);
      }
      const parsed = parseDevicePublicKey(body.publicKey);
      if (!parsed) throw new CollectorError('PAYLOAD_INVALID', 'publicKey is not an Ed25519 public key (SPKI DER, base64).', 400);
      const { deviceId, created } = await services.enroll({
        publicKey: parsed.normalized,
        hostname: body.hostname,
        platform: body.platform,
        agentVersion: body.agentVersion,
      });
      services.keys.set(deviceId, parsed.key);
      request.log.info({ deviceId, created, hostname: body.hostname }, 'device enrolled');
      return { deviceId };
    },
  );

  app.post<{ Body: SignedReport }>(
    '/v1/reports',
    {
      schema: { body: SignedReportSchema, response: { 200: ReportAckSchema } },
      config: {
        rateLimit: {
          max: services.config.rateLimit.reportsPerDevice,
          timeWindow: services.config.rateLimit.windowMs,
          // After validation, so the (unauthenticated) device id is available: a device behind a
          // shared NAT gets its own budget. Someone spoofing an id only delays that device's
          // at-least-once delivery; it cannot make a report be lost or accepted.
          hook: 'preHandler',
          keyGenerator: (request: FastifyRequest) => `device:${(request.body as Partial<SignedReport> | undefined)?.body?.deviceId ?? request.ip}`,
        },
      },
    },
    async (request): Promise<ReportAck> => {
      const receivedAt = services.clock();
      const { body, sig } = request.body;
      for (const [index, finding] of body.findings.entries()) {
        const problem = evidenceProblem(finding.evidence, `body/findings/${index}/evidence`);
        if (problem) throw new CollectorError('PAYLOAD_INVALID', `Invalid body: ${problem}.`, 400);
      }
      const canonical = canonicalBody(body);
      if (!canonical) throw new CollectorError('PAYLOAD_INVALID', 'The report body cannot be canonicalized (non-finite number or nesting too deep).', 400);
      if (canonical.bytes.length > MAX_REPORT_BYTES) {
        throw new CollectorError('PAYLOAD_TOO_LARGE', `The report body is ${canonical.bytes.length} bytes; the limit is ${MAX_REPORT_BYTES}.`, 413);
      }
      const key = await services.deviceKey(body.deviceId);
      if (!key) throw new CollectorError('DEVICE_UNKNOWN', `Device ${body.deviceId} is not enrolled; enroll first.`, 404);
      if (!(await services.verifier(key, canonical.bytes, sig))) {
        throw new CollectorError('SIGNATURE_INVALID', `The signature does not match device ${body.deviceId}'s enrolled key over the canonical body.`, 401);
      }
      const outcome = await services.queue.submit({ body, canonical: canonical.text, hash: canonical.hash, sig, receivedAt });
      switch (outcome.status) {
        case 'stored':
          return { status: 'stored', seq: body.seq, gap: outcome.gap, serverTime: services.clock() };
        case 'duplicate':
          return { status: 'duplicate', seq: body.seq, gap: false, serverTime: services.clock() };
        case 'device-unknown':
          throw new CollectorError('DEVICE_UNKNOWN', `Device ${body.deviceId} was deleted before its report was stored; enroll again.`, 404);
        case 'fork':
          throw new CollectorError('CHAIN_FORK', `Report ${body.seq} of device ${body.deviceId} conflicts with the stored chain: ${outcome.reason}.`, 409);
        default:
          return assertNever(outcome, 'ingest outcome');
      }
    },
  );
}

function digest(secret: string): Buffer {
  return crypto.createHash('sha256').update(secret, 'utf8').digest();
}
