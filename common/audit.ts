/**
 * The audit log: every IT action on a device and every IT read of a device's data, recorded by the
 * collector append-only and hash-chained (each entry's `hash` covers its fields and the previous
 * entry's hash), and the feed through which a device fetches the entries about itself so the
 * employee can see what IT looked at and did.
 *
 * Feed protocol: the agent POSTs a DeviceAuditRequest signed with its device key (the same key its
 * reports are signed with); the collector answers with the entries for that device after `after`,
 * signed with the collector's own Ed25519 key. The agent pins that key on first use and refuses a
 * feed signed by another one, so a feed cannot be forged by anyone between them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EpochMsSchema } from './findings';

/** What an entry records. Reads are recorded as well as changes: the employee sees both. */
export const AUDIT_ACTIONS = [
  // reads of one device's data
  'view-device',
  'view-reports',
  'view-report',
  'view-findings',
  'view-location',
  'export-device',
  // triage
  'acknowledge',
  'assign',
  'resolve',
  'reopen',
  'suppress',
  'unsuppress',
  'note',
  'tag',
  // device lifecycle and settings
  'set-expected-country',
  'approve-place',
  'remove-place',
  'retire',
  'delete',
] as const;
export const AuditActionSchema = Type.Union(AUDIT_ACTIONS.map((action) => Type.Literal(action)));
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const AuditEntrySchema = Type.Object(
  {
    /** Position in the collector's one audit chain, from 1. */
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    /** Collector clock (epoch ms). */
    at: EpochMsSchema,
    /** Who: the IT token's name (never the token). */
    actor: Type.String({ minLength: 1, maxLength: 128 }),
    action: AuditActionSchema,
    /** The device concerned; null for fleet-wide actions. */
    deviceId: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]),
    /** The finding concerned, when the action is about one. */
    findingId: Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()]),
    /** Plain-language detail written by IT or the collector (a reason, a note, an assignee). */
    detail: Type.String({ maxLength: 2000 }),
    /** hash of the previous entry (GENESIS_HASH of common/report.ts for the first). */
    prevHash: Hex64,
    /** sha256 of auditEntryMessage(entry), lowercase hex. */
    hash: Hex64,
  },
  { additionalProperties: false },
);
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** The text an entry's `hash` covers: every field but the hash itself, in a fixed order. */
export function auditEntryMessage(entry: Omit<AuditEntry, 'hash'>): string {
  return JSON.stringify(['telltale-audit-v1', entry.seq, entry.at, entry.actor, entry.action, entry.deviceId, entry.findingId, entry.detail, entry.prevHash]);
}

const SignatureSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' });

/** POST /v1/device-audit: a device asks for the audit entries about itself. */
export const DeviceAuditRequestSchema = Type.Object(
  {
    deviceId: Type.String({ minLength: 1, maxLength: 64 }),
    /** Return entries with seq > after (0 for all). */
    after: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    /** Agent clock when signed; the collector takes it within DEVICE_AUDIT_WINDOW_MS of its own. */
    signedAt: EpochMsSchema,
    /** Device-key Ed25519 signature over UTF-8 deviceAuditRequestMessage(request). */
    sig: SignatureSchema,
  },
  { additionalProperties: false },
);
export type DeviceAuditRequest = Static<typeof DeviceAuditRequestSchema>;

export const DEVICE_AUDIT_WINDOW_MS = 10 * 60_000;
/** Most entries one feed answer carries; the agent asks again from the last seq it got. */
export const DEVICE_AUDIT_PAGE = 500;

export function deviceAuditRequestMessage(request: Omit<DeviceAuditRequest, 'sig'>): string {
  return JSON.stringify(['telltale-device-audit-v1', request.deviceId, request.after, request.signedAt]);
}

/** The feed's signed part. */
export const DeviceAuditFeedBodySchema = Type.Object(
  {
    deviceId: Type.String({ minLength: 1, maxLength: 64 }),
    /** Collector clock when the feed was made. */
    servedAt: EpochMsSchema,
    entries: Type.Array(AuditEntrySchema, { maxItems: DEVICE_AUDIT_PAGE }),
    /** True when more entries follow the last one. */
    more: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type DeviceAuditFeedBody = Static<typeof DeviceAuditFeedBodySchema>;

export const DeviceAuditFeedSchema = Type.Object(
  {
    body: DeviceAuditFeedBodySchema,
    /** The collector's Ed25519 public key, SPKI DER, base64. */
    collectorKey: Type.String({ minLength: 40, maxLength: 200 }),
    /** Collector-key signature over UTF-8 canonicalize(body) (RFC 8785). */
    sig: SignatureSchema,
  },
  { additionalProperties: false },
);
export type DeviceAuditFeed = Static<typeof DeviceAuditFeedSchema>;
