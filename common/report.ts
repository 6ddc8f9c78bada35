/**
 * The report protocol between agent and collector.
 *
 * A report body is signed as `canonicalize(body)` (RFC 8785) with the device's Ed25519 key. Its hash,
 * `sha256(canonicalize(body))` in lowercase hex, is the next report's `prevHash`, so reports form a
 * chain per device: removing or altering one breaks the chain visibly. Sequence numbers start at 1;
 * the first report's prevHash is GENESIS_HASH.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EpochMsSchema, ReportFindingSchema } from './findings';
import { LocationBlockSchema } from './location';
import { TimingWindowSchema } from './timing';


export const PROTOCOL_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);
/** Largest report body the collector accepts, in bytes. */
export const MAX_REPORT_BYTES = 256 * 1024;

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const ReportBodySchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    deviceId: Type.String({ minLength: 1, maxLength: 64 }),
    /** Exactly representable as a JavaScript number, so every party reads the same seq. */
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    prevHash: Hex64,
    kind: Type.Union([Type.Literal('report'), Type.Literal('heartbeat')]),
    /** Agent wall clock when the report was made (epoch ms). The collector records its own receive time too. */
    createdAt: EpochMsSchema,
    /** The span of time the report covers (epoch ms, agent clock). */
    window: Type.Object({ from: EpochMsSchema, to: EpochMsSchema }, { additionalProperties: false }),
    findings: Type.Array(ReportFindingSchema, { maxItems: 1000 }),
    /** Timing-window summaries with every field of common/timing.ts (projectTimingWindow). */
    timing: Type.Array(TimingWindowSchema, { maxItems: 2000 }),
    agentVersion: Type.String({ maxLength: 64 }),
    /** Where the laptop is, as fleet-keyed fingerprints (common/location.ts); absent without a fleet key or a network. */
    location: Type.Optional(LocationBlockSchema),
  },
  { additionalProperties: false },
);

/** An Ed25519 signature, base64url without padding. */
const SignatureSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' });

export const SignedReportSchema = Type.Object(
  {
    body: ReportBodySchema,
    /** Ed25519 signature over UTF-8 canonicalize(body). */
    sig: SignatureSchema,
  },
  { additionalProperties: false },
);

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
    /** Agent wall clock when the proof was signed (epoch ms); the collector takes it within ENROLL_PROOF_WINDOW_MS of its own. */
    signedAt: EpochMsSchema,
    /** Ed25519 signature over UTF-8 enrollProofMessage(request) with the key being enrolled: proof the sender holds it. */
    proof: SignatureSchema,
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequestSchema>;

/** How far an enrolment proof's signedAt may be from the collector's clock, either way. */
export const ENROLL_PROOF_WINDOW_MS = 30 * 60_000;

/**
 * The text an enrolling device signs: every field it asks the collector to record, and when, so a
 * captured request can neither be altered nor replayed once the window has passed.
 */
export function enrollProofMessage(request: Omit<EnrollRequest, 'enrollmentSecret' | 'proof'>): string {
  return JSON.stringify(['telltale-enroll-v1', request.publicKey, request.hostname, request.platform, request.agentVersion, request.signedAt]);
}

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

/** Every code the collector's API answers an error with: the one list of this boundary. */
export const API_ERROR_CODES = [
  'PAYLOAD_INVALID',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'ENROLLMENT_DENIED',
  'DEVICE_UNKNOWN',
  'SIGNATURE_INVALID',
  'CHAIN_FORK',
  'RATE_LIMITED',
  'OVERLOADED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFIG_INVALID',
  'DATABASE_TOO_NEW',
  'STORAGE_UNAVAILABLE',
  'SHUTTING_DOWN',
  'INTERNAL',
] as const;
export const ApiErrorCodeSchema = Type.Union(API_ERROR_CODES.map((code) => Type.Literal(code)));
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** Error body of every 4xx/5xx the collector sends. */
export const ApiErrorSchema = Type.Object({ error: Type.Object({ code: ApiErrorCodeSchema, message: Type.String({ maxLength: 4096 }) }) });
export type ApiError = Static<typeof ApiErrorSchema>;

/**
 * Every way `body` departs from the report protocol, as readable strings (empty: it conforms).
 * The schema is closed everywhere but finding evidence, so a field added to a body by mistake
 * (a raw identifier, a key) shows here. Accepts a parsed body or its JSON text.
 */
export function reportBodyProblems(body: unknown): string[] {
  const value: unknown = typeof body === 'string' ? JSON.parse(body) : body;
  return [...Value.Errors(ReportBodySchema, value)].map((error) => `${error.path || '/'}: ${error.message}`);
}
