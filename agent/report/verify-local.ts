/**
 * Local verification of the outbox, for the transparency view: "what left this device, and is it
 * exactly what was signed?"
 *
 * For each outbox row it checks the Ed25519 signature with the device's own public key, that the
 * body is a well-formed report (schema, no extra fields), that the stored hash is the body's hash,
 * and that the body's prevHash is the previous report's hash. A row whose body was dropped because
 * the outbox was full still has its hash, so the reports around it keep verifiable links.
 */
import type { KeyObject } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { GENESIS_HASH, SignedReportSchema, type SignedReport } from '../../common/report';
import type { Db } from '../store/database';
import { getOutboxEntry, getPruneAnchor, listOutbox, type OutboxEntry, type OutboxState, type PruneAnchor } from '../store/outbox';
import { hashReportBody, verifyReport } from '../../protocol/report-crypto';

/** The verdict on one outbox row. */
export interface LocalReportCheck {
  readonly seq: number;
  readonly kind: 'report' | 'heartbeat';
  readonly state: OutboxState;
  readonly createdAt: number;
  /** The signature verifies with the device key; null when the body was dropped (nothing to check). */
  readonly signatureValid: boolean | null;
  /** prevHash links to the previous report and the stored hash matches; null when it cannot be checked. */
  readonly chainValid: boolean | null;
  /** Why a check failed or could not run; null when both passed. */
  readonly reason: string | null;
}

export interface VerifyOutboxOptions {
  /** Verify rows with seq > afterSeq (paging); default from the start. */
  readonly afterSeq?: number;
  /** At most this many rows; default all. */
  readonly limit?: number;
}

/**
 * Verify outbox rows in seq order with the device's public key.
 * The UI calls this with `identity.publicKey` (agent/identity/device-identity.ts).
 */
export function verifyOutboxLocally(db: Db, publicKey: KeyObject, options: VerifyOutboxOptions = {}): LocalReportCheck[] {
  const entries = listOutbox(db, options);
  const first = entries[0];
  const before = first !== undefined && first.seq > 1 ? getOutboxEntry(db, first.seq - 1) : undefined;
  return verifyOutboxEntries(entries, publicKey, before, getPruneAnchor(db));
}

/**
 * Verify consecutive rows. `previous` is the row just before the first one (if stored), `anchor`
 * the prune anchor (the newest row retention deleted), used when the previous row was pruned.
 */
export function verifyOutboxEntries(
  entries: readonly OutboxEntry[],
  publicKey: KeyObject,
  previous: OutboxEntry | undefined,
  anchor: PruneAnchor | undefined,
): LocalReportCheck[] {
  const checks: LocalReportCheck[] = [];
  let previousSeq = previous?.seq ?? anchor?.seq ?? 0;
  let previousHash: string | null = previous?.hash ?? anchor?.hash ?? (previousSeq === 0 ? GENESIS_HASH : null);
  for (const entry of entries) {
    const check = verifyEntry(entry, publicKey, entry.seq - 1 === previousSeq ? previousHash : null);
    checks.push(check);
    previousSeq = entry.seq;
    // A body that no longer matches its stored hash still passes the stored hash on: the next
    // report signed a link to what was originally sent, and that link is still checkable.
    previousHash = entry.hash;
  }
  return checks;
}

function verifyEntry(entry: OutboxEntry, publicKey: KeyObject, expectedPrevHash: string | null): LocalReportCheck {
  const base = { seq: entry.seq, kind: entry.kind, state: entry.state, createdAt: entry.createdAt };
  if (entry.body === null) {
    return {
      ...base,
      signatureValid: null,
      chainValid: null,
      reason: 'Dropped unsent because the outbox was full; the collector sees a gap here.',
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.body);
  } catch {
    return { ...base, signatureValid: false, chainValid: false, reason: 'The stored report is not valid JSON.' };
  }
  if (!Value.Check(SignedReportSchema, parsed)) {
    const signatureValid = verifyReport(parsed as { body: unknown; sig: unknown }, publicKey);
    return { ...base, signatureValid, chainValid: false, reason: 'The stored report does not match the report schema.' };
  }
  const report: SignedReport = parsed;
  const reasons: string[] = [];
  const signatureValid = verifyReport(report, publicKey);
  if (!signatureValid) reasons.push('The signature does not match the body: it was altered after signing or signed by another key.');

  let chainValid = true;
  if (report.body.seq !== entry.seq) {
    chainValid = false;
    reasons.push(`The body says seq ${report.body.seq} but is stored as seq ${entry.seq}.`);
  }
  if (hashReportBody(report.body) !== entry.hash) {
    chainValid = false;
    reasons.push('The body no longer matches the hash recorded when it was queued.');
  }
  if (expectedPrevHash === null) {
    chainValid = false;
    reasons.push(`Report ${entry.seq - 1} is missing from the outbox, so this link cannot be followed.`);
  } else if (report.body.prevHash !== expectedPrevHash) {
    chainValid = false;
    reasons.push(`prevHash does not match report ${entry.seq - 1}'s hash.`);
  }
  return { ...base, signatureValid, chainValid, reason: reasons.length === 0 ? null : reasons.join(' ') };
}
