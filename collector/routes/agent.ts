/**
 * Agent-facing routes: POST /v1/enroll and POST /v1/reports.
 *
 * Enrolment checks, in order: failed attempts from the address (429) → attempts at the collector
 * (429) → secret (401) → key (400) → proof: signedAt within the window and signed by the key being
 * enrolled (401) → for a new device, enrolments per secret (429) and the device cap (403). Every
 * refusal from the secret on counts as a failed attempt of the address.
 *
 * Report checks run in a fixed order, cheapest and least revealing first: schema (400) → size of the
 * canonical body (413) → device known (404) → the device's budget of verified reports (429) → Ed25519
 * signature over canonicalize(body) (401), and only then counted against that budget → chain placement inside the commit transaction (409 on a fork). The 200 is sent only after the
 * transaction holding the report has committed.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  ENROLL_PROOF_WINDOW_MS,
  enrollProofMessage,
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
import { classifyEgress } from '../location/egress';
import { refuseWhenBlocked } from '../limits';
import { countDevices } from '../storage/devices';
import { canonicalBody, decodeSignature, parseDevicePublicKey, verifySignatureBytes } from '../../protocol/report-crypto';

export async function agentRoutes(app: FastifyInstance): Promise<void> {
  const services = app.collector;
  const secretDigest = digest(services.config.enrollmentSecret);

  const { limits } = services;

  app.post<{ Body: EnrollRequest }>(
    '/v1/enroll',
    { schema: { body: EnrollRequestSchema, response: { 200: EnrollResponseSchema } } },
    async (request): Promise<EnrollResponse> => {
      const { body } = request;
      refuseWhenBlocked(limits.failedEnrollments, request.ip, 'Too many failed enrolment attempts from this address');
      refuseWhenBlocked(limits.enrollmentAttempts, 'all', 'Too many enrolment attempts at this collector');
      limits.enrollmentAttempts.add('all');
      const deny = (error: CollectorError): never => {
        limits.failedEnrollments.add(request.ip);
        throw error;
      };
      if (!crypto.timingSafeEqual(digest(body.enrollmentSecret), secretDigest)) {
        deny(new CollectorError('ENROLLMENT_DENIED', 'The enrollment secret is wrong.', 401));
      }
      const parsed = parseDevicePublicKey(body.publicKey);
      if (!parsed) return deny(new CollectorError('PAYLOAD_INVALID', 'publicKey is not an Ed25519 public key (SPKI DER, base64).', 400));
      const skew = body.signedAt - services.clock();
      if (Math.abs(skew) > ENROLL_PROOF_WINDOW_MS) {
        deny(
          new CollectorError(
            'ENROLLMENT_DENIED',
            `signedAt is ${Math.round(skew / 60_000)} minutes from the collector's clock; the proof must be signed within ${ENROLL_PROOF_WINDOW_MS / 60_000} minutes of it.`,
            401,
          ),
        );
      }
      const proof = decodeSignature(body.proof);
      if (!proof || !verifySignatureBytes(parsed.key, Buffer.from(enrollProofMessage(body), 'utf8'), proof)) {
        deny(new CollectorError('ENROLLMENT_DENIED', 'The proof is not a signature of this request by the key being enrolled.', 401));
      }
      const { deviceId, created } = await services.enroll(
        { publicKey: parsed.normalized, hostname: body.hostname, platform: body.platform, agentVersion: body.agentVersion },
        async (tx) => {
          refuseWhenBlocked(limits.enrollmentsPerSecret, 'secret', 'Too many new devices enrolled with this secret');
          const max = services.config.enrollment.maxDevices;
          if ((await countDevices(tx)) >= max) {
            throw new CollectorError('ENROLLMENT_DENIED', `The collector holds its maximum of ${max} devices; IT can delete retired ones.`, 403);
          }
          limits.enrollmentsPerSecret.add('secret');
        },
      );
      services.keys.set(deviceId, parsed.key);
      request.log.info({ deviceId, created, hostname: body.hostname }, 'device enrolled');
      return { deviceId };
    },
  );

  app.post<{ Body: SignedReport }>(
    '/v1/reports',
    {
      schema: { body: SignedReportSchema, response: { 200: ReportAckSchema } },
      // Per address before anything else; the per-device budget is counted in the handler, only for
      // reports whose signature verified, so junk naming a device id cannot spend that device's budget.
      config: { rateLimit: { max: services.config.rateLimit.reportsPerIp, timeWindow: services.config.rateLimit.windowMs } },
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
      // A device already over its budget is refused before the costly signature check.
      const overBudget = `Device ${body.deviceId} sent more than ${limits.reportsPerDevice.max} reports in ${limits.reportsPerDevice.windowMs / 1000} s`;
      refuseWhenBlocked(limits.reportsPerDevice, body.deviceId, overBudget);
      if (!(await services.verifier(key, canonical.bytes, sig))) {
        throw new CollectorError('SIGNATURE_INVALID', `The signature does not match device ${body.deviceId}'s enrolled key over the canonical body.`, 401);
      }
      limits.reportsPerDevice.add(body.deviceId);
      // request.ip honours X-Forwarded-For only from the trusted proxies (config.location.trustedProxies).
      const egress = classifyEgress(request.ip, services.asn, services.config.location.privateEgress);
      const outcome = await services.queue.submit({ body, canonical: canonical.text, hash: canonical.hash, sig, receivedAt, egress });
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
