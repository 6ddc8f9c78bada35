/**
 * Report cryptography: the one place that signs, hashes and verifies report bodies (and the audit
 * feed a device fetches about itself, common/audit.ts).
 *
 * The agent signs with it, the transparency view re-checks its outbox with it, the collector
 * verifies with it (inline or on the worker pool, whose worker calls `verifySignature` too), and
 * tests and benchmarks make their fixtures with it, so every party applies one rule:
 *
 * - signed bytes: UTF-8 `canonicalize(body)` (RFC 8785, protocol/canonical-json.ts);
 * - signature: Ed25519 over those bytes, base64url without padding, in its one canonical spelling
 *   (86 characters whose last one carries no spare bits), so a signature has exactly one accepted
 *   string form and two parties can never disagree on whether it is valid;
 * - chain hash: lowercase hex SHA-256 of the same bytes, named as `prevHash` by the next report.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { auditEntryMessage, deviceAuditRequestMessage, type AuditEntry, type DeviceAuditFeed, type DeviceAuditFeedBody, type DeviceAuditRequest } from '../common/audit';
import type { ReportBody, SignedReport } from '../common/report';
import { canonicalize } from './canonical-json';

/** Length of an Ed25519 signature in bytes. */
export const SIGNATURE_BYTES = 64;

/** Checks a signature over `message` with `publicKey`; async so it can run on worker threads. */
export type SignatureVerifier = (publicKey: KeyObject, message: Uint8Array, signature: string) => Promise<boolean>;

/** The canonical form of a report body: the exact bytes that were signed, and their hash. */
export interface CanonicalBody {
  readonly text: string;
  readonly bytes: Buffer;
  /** sha256(bytes), lowercase hex: the chain hash the next report names as prevHash. */
  readonly hash: string;
}

/** A body signed, with its hash and its exact envelope JSON. */
export interface SealedReport {
  readonly report: SignedReport;
  /** canonicalize({ body, sig }): stored in the outbox and sent as the request body, byte for byte. */
  readonly envelope: string;
  readonly hash: string;
  /** The signed bytes. */
  readonly bytes: Buffer;
}

/** Lowercase hex SHA-256. */
export function sha256Hex(data: Uint8Array | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Canonicalize a parsed report body and hash it. Null when it cannot be canonicalized (a
 * non-finite number, a value JSON cannot hold, nesting too deep for the stack).
 */
export function canonicalBody(body: unknown): CanonicalBody | null {
  let text: string;
  try {
    text = canonicalize(body);
  } catch {
    return null;
  }
  const bytes = Buffer.from(text, 'utf8');
  return { text, bytes, hash: sha256Hex(bytes) };
}

/** A report's chain hash. Throws on a body that cannot be canonicalized (a bug for a typed body). */
export function hashReportBody(body: ReportBody): string {
  return sha256Hex(canonicalize(body));
}

/** The 64 raw bytes of a signature string, or null when it is not exactly one canonical base64url spelling of 64 bytes. */
export function decodeSignature(signature: unknown): Buffer | null {
  if (typeof signature !== 'string' || signature.length !== 86) return null;
  const raw = Buffer.from(signature, 'base64url');
  // Node's decoder skips characters outside the alphabet and ignores the last character's 2 spare
  // bits, so only a round trip proves the string is the one spelling of these bytes.
  if (raw.length !== SIGNATURE_BYTES || raw.toString('base64url') !== signature) return null;
  return raw;
}

/** Ed25519 check of raw signature bytes; false, never a throw, on any failure. */
export function verifySignatureBytes(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return crypto.verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

/** Whether `signature` (a string in the one accepted spelling) signs `message` under `publicKey`. */
export function verifySignature(publicKey: KeyObject, message: Uint8Array, signature: unknown): boolean {
  const raw = decodeSignature(signature);
  return raw !== null && verifySignatureBytes(publicKey, message, raw);
}

/** The SignatureVerifier that runs on the calling thread (the pool's fallback, tests, tools). */
export const verifyInline: SignatureVerifier = async (publicKey, message, signature) => verifySignature(publicKey, message, signature);

/** Whether `report.sig` signs `report.body` under `publicKey`. Never throws on bad input. */
export function verifyReport(report: { readonly body: unknown; readonly sig: unknown }, publicKey: KeyObject): boolean {
  const canonical = canonicalBody(report.body);
  return canonical !== null && verifySignature(publicKey, canonical.bytes, report.sig);
}

/** Sign a body with a device's Ed25519 private key. */
export function sealReport(body: ReportBody, privateKey: KeyObject): SealedReport {
  const bytes = Buffer.from(canonicalize(body), 'utf8');
  const sig = crypto.sign(null, bytes, privateKey).toString('base64url');
  const report: SignedReport = { body, sig };
  return { report, envelope: canonicalize(report), hash: sha256Hex(bytes), bytes };
}

/** Signs report bodies with one device key (checked once, reused for every report). */
export class ReportSigner {
  constructor(private readonly privateKey: KeyObject) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error('ReportSigner needs an Ed25519 private KeyObject');
    }
  }

  sign(body: ReportBody): SealedReport {
    return sealReport(body, this.privateKey);
  }
}

/** An Ed25519 public key from its SPKI DER bytes (base64); throws when it is not one. */
export function publicKeyFromSpki(spkiBase64: string): KeyObject {
  const key = crypto.createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key: ${key.asymmetricKeyType}`);
  return key;
}

/** A key's SPKI DER bytes, base64: the form devices enroll with and the collector stores. */
export function spkiOf(key: KeyObject): string {
  return (key.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64');
}

/**
 * Parse a device's public key (SPKI DER, base64). Returns the key and its normalized base64 spelling,
 * or null when it is not an Ed25519 public key.
 */
export function parseDevicePublicKey(spkiBase64: string): { key: KeyObject; normalized: string } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(spkiBase64)) return null;
  try {
    const key = publicKeyFromSpki(spkiBase64);
    return { key, normalized: spkiOf(key) };
  } catch {
    return null;
  }
}

/** The hash an audit entry carries: sha256 of auditEntryMessage (common/audit.ts). */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(auditEntryMessage(entry));
}

/** Sign a device's audit feed with the collector's Ed25519 key. */
export function signAuditFeed(body: DeviceAuditFeedBody, collectorKey: KeyObject): DeviceAuditFeed {
  const sig = crypto.sign(null, Buffer.from(canonicalize(body), 'utf8'), collectorKey).toString('base64url');
  return { body, collectorKey: spkiOf(crypto.createPublicKey(collectorKey)), sig };
}

/**
 * Whether a feed is signed by the collector key it names and, when `pinnedKey` (SPKI base64) is
 * given, whether that is the pinned key; and whether every entry's hash matches its fields.
 */
export function verifyAuditFeed(feed: DeviceAuditFeed, pinnedKey: string | null): boolean {
  if (pinnedKey !== null && feed.collectorKey !== pinnedKey) return false;
  const parsed = parseDevicePublicKey(feed.collectorKey);
  const canonical = canonicalBody(feed.body);
  if (parsed === null || canonical === null || !verifySignature(parsed.key, canonical.bytes, feed.sig)) return false;
  return feed.body.entries.every(({ hash, ...fields }) => hashAuditEntry(fields) === hash);
}

/** Sign a device's request for its audit feed with the device key. */
export function signDeviceAuditRequest(request: Omit<DeviceAuditRequest, 'sig'>, privateKey: KeyObject): DeviceAuditRequest {
  return { ...request, sig: crypto.sign(null, Buffer.from(deviceAuditRequestMessage(request), 'utf8'), privateKey).toString('base64url') };
}

/** Whether a device's audit-feed request is signed by `publicKey`. Never throws on bad input. */
export function verifyDeviceAuditRequest(request: DeviceAuditRequest, publicKey: KeyObject): boolean {
  const { sig, ...fields } = request;
  return verifySignature(publicKey, Buffer.from(deviceAuditRequestMessage(fields), 'utf8'), sig);
}
