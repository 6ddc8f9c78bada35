/**
 * Signing and hashing report bodies (see common/report.ts for the protocol).
 *
 * The signed bytes are UTF-8 `canonicalize(body)`; the signature is Ed25519, base64url without
 * padding; a body's hash (the next report's prevHash) is sha256 of the same bytes, lowercase hex.
 * The envelope stored in the outbox and sent to the collector is `canonicalize({ body, sig })`, so
 * the bytes on the wire are the bytes in the outbox.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { canonicalize } from '../../common/canonical-json';
import type { ReportBody, SignedReport } from '../../common/report';

/** sha256 hex of canonicalize(body): a report's chain hash. */
export function hashReportBody(body: ReportBody): string {
  return crypto.createHash('sha256').update(canonicalize(body), 'utf8').digest('hex');
}

/** A body signed, with its hash and its exact envelope JSON. */
export interface SealedReport {
  readonly report: SignedReport;
  /** canonicalize({ body, sig }): stored in the outbox and sent as the request body. */
  readonly envelope: string;
  readonly hash: string;
}

/** Signs report bodies with one device key; the KeyObject is reused for every report. */
export class ReportSigner {
  constructor(private readonly privateKey: KeyObject) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error('ReportSigner needs an Ed25519 private KeyObject');
    }
  }

  /** Sign a body. */
  sign(body: ReportBody): SealedReport {
    const bytes = Buffer.from(canonicalize(body), 'utf8');
    const sig = crypto.sign(null, bytes, this.privateKey).toString('base64url');
    const report: SignedReport = { body, sig };
    return {
      report,
      envelope: canonicalize(report),
      hash: crypto.createHash('sha256').update(bytes).digest('hex'),
    };
  }
}

/** Whether `report.sig` is a valid signature of its body by `publicKey`. Never throws on bad input. */
export function verifyReportSignature(report: { readonly body: unknown; readonly sig: unknown }, publicKey: KeyObject): boolean {
  if (typeof report.sig !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(report.sig)) return false;
  let bytes: Buffer;
  try {
    bytes = Buffer.from(canonicalize(report.body), 'utf8');
  } catch {
    return false;
  }
  return crypto.verify(null, bytes, publicKey, Buffer.from(report.sig, 'base64url'));
}
