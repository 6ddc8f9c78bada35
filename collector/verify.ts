/**
 * Report cryptography on the collector: device keys, canonical bytes, hashes and Ed25519 checks.
 *
 * Verification sits behind one async function type (`SignatureVerifier`) so it can move to worker
 * threads without touching the routes: KeyObjects and Buffers are transferable to workers.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { canonicalize } from '../common/canonical-json';

/** Checks an Ed25519 signature (base64url, no padding) over `message` with `publicKey`. */
export type SignatureVerifier = (publicKey: KeyObject, message: Uint8Array, signature: string) => Promise<boolean>;

/** The canonical form of a report body: the exact bytes that were signed, and their SHA-256. */
export interface CanonicalBody {
  readonly text: string;
  readonly bytes: Buffer;
  /** sha256(bytes), lowercase hex: the chain hash the next report names as prevHash. */
  readonly hash: string;
}

/** Verifies on the calling thread (tests, tools; the app defaults to a VerifierPool). */
export const verifyInline: SignatureVerifier = async (publicKey, message, signature) => verifySync(publicKey, message, signature);

/** Synchronous Ed25519 check; false for any malformed signature rather than a throw. */
export function verifySync(publicKey: KeyObject, message: Uint8Array, signature: string): boolean {
  const raw = decodeSignature(signature);
  if (raw === null) return false;
  try {
    return crypto.verify(null, message, publicKey, raw);
  } catch {
    return false;
  }
}

/** The 64 raw bytes of a base64url (unpadded) Ed25519 signature, or null when it is not exactly that. */
export function decodeSignature(signature: string): Buffer | null {
  const raw = Buffer.from(signature, 'base64url');
  // base64url's last character carries 2 spare bits; insist on the one canonical spelling so a
  // signature has exactly one accepted string form.
  if (raw.length !== 64 || raw.toString('base64url') !== signature) return null;
  return raw;
}

/**
 * Canonicalize a parsed report body (RFC 8785) and hash it.
 * Returns null when the body cannot be canonicalized (non-finite numbers, absurd nesting).
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

/** Lowercase hex SHA-256. */
export function sha256Hex(data: Uint8Array | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Parse a device's public key (SPKI DER, base64). Returns the key and its normalized base64 spelling,
 * or null when it is not an Ed25519 public key.
 */
export function parseDevicePublicKey(spkiBase64: string): { key: KeyObject; normalized: string } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(spkiBase64)) return null;
  try {
    const key = crypto.createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') return null;
    return { key, normalized: (key.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64') };
  } catch {
    return null;
  }
}
