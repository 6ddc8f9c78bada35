/**
 * The report protocol between agent and collector.
 *
 * A report body is signed as `canonicalize(body)` (RFC 8785) with the device's Ed25519 key. Its hash,
 * `sha256(canonicalize(body))` in lowercase hex, is the next report's `prevHash`, so reports form a
 * chain per device: removing or altering one breaks the chain visibly. Sequence numbers start at 1;
 * the first report's prevHash is GENESIS_HASH.
 */
import { Type, type Static } from '@sinclair/typebox';

export const PROTOCOL_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);
/** Largest report body the collector accepts, in bytes. */
export const MAX_REPORT_BYTES = 256 * 1024;

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const JsonValue = Type.Unknown();

export const ReportFindingSchema = Type.Object(
  {
    key: Type.String({ maxLength: 512 }),
    kind: Type.String({ maxLength: 64 }),
    severity: Type.Union([Type.Literal('info'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
    title: Type.String({ maxLength: 512 }),
    explanation: Type.String({ maxLength: 4096 }),
    evidence: Type.Record(Type.String(), JsonValue),
    firstSeenAt: Type.Integer(),
    lastSeenAt: Type.Integer(),
    closedAt: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);

export const ReportBodySchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    deviceId: Type.String({ minLength: 1, maxLength: 64 }),
    seq: Type.Integer({ minimum: 1 }),
    prevHash: Hex64,
    kind: Type.Union([Type.Literal('report'), Type.Literal('heartbeat')]),
    /** Agent wall clock when the report was made (epoch ms). The collector records its own receive time too. */
    createdAt: Type.Integer(),
    /** The span of time the report covers (epoch ms, agent clock). */
    window: Type.Object({ from: Type.Integer(), to: Type.Integer() }, { additionalProperties: false }),
    findings: Type.Array(ReportFindingSchema, { maxItems: 1000 }),
    /** Timing-window summaries (common/timing.ts TimingWindow objects). */
    timing: Type.Array(JsonValue, { maxItems: 2000 }),
    agentVersion: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);

export const SignedReportSchema = Type.Object(
  {
    body: ReportBodySchema,
    /** Ed25519 signature over UTF-8 canonicalize(body), base64url without padding. */
    sig: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);

export type ReportFinding = Static<typeof ReportFindingSchema>;
export type ReportBody = Static<typeof ReportBodySchema>;
export type SignedReport = Static<typeof SignedReportSchema>;

export const EnrollRequestSchema = Type.Object(
  {
    enrollmentSecret: Type.String({ minLength: 8, maxLength: 256 }),
    /** Ed25519 public key, SPKI DER, base64. */
    publicKey: Type.String({ minLength: 40, maxLength: 200 }),
    hostname: Type.String({ maxLength: 255 }),
    platform: Type.String({ maxLength: 32 }),
    agentVersion: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = Type.Object({ deviceId: Type.String() }, { additionalProperties: false });
export type EnrollResponse = Static<typeof EnrollResponseSchema>;

/** Collector's answer to POST /v1/reports. `duplicate` is still a success (idempotent delivery). */
export const ReportAckSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('stored'), Type.Literal('duplicate')]),
    seq: Type.Integer(),
    /** True when this report's seq skipped ahead of the last one stored: a chain gap was flagged. */
    gap: Type.Boolean(),
    /** Collector's clock (epoch ms), so an agent can estimate its own skew. */
    serverTime: Type.Integer(),
  },
  { additionalProperties: false },
);
export type ReportAck = Static<typeof ReportAckSchema>;

/** Error body of every 4xx/5xx the collector sends. */
export const ApiErrorSchema = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
export type ApiError = Static<typeof ApiErrorSchema>;
