/**
 * Reports for the transparency view: each outbox row's exact stored bytes plus a local check of
 * its signature and its link in the hash chain (agent/report/verify-local.ts).
 *
 * The checks are recomputed from the stored bytes on every read, never cached, so a row altered in
 * the database after it was written shows as invalid. The signature needs the device's public key;
 * until it is known both checks read "unchecked" rather than guessing.
 */
import type { KeyObject } from 'node:crypto';
import type { ReportEntry, ReportsView } from '../../common/ipc-contract';
import type { AgentContext } from '../context';
import { verifyOutboxLocally, type LocalReportCheck } from '../report/verify-local';
import { countOutbox, hasOutbox, listOutbox, seqBeforeNewest, type OutboxEntry } from '../store/outbox';

/** Reads up to `limit` newest reports, newest first. */
export type ReportReader = (ctx: AgentContext, limit: number) => ReportsView;

/** A reader that checks reports with the device public key returned by `publicKey` (null: not known). */
export function createOutboxReportReader(publicKey: () => KeyObject | null): ReportReader {
  return (ctx, limit) => {
    const db = ctx.db;
    if (!hasOutbox(db)) return { reports: [], total: 0, available: false };
    const total = countOutbox(db);
    const afterSeq = seqBeforeNewest(db, Math.min(limit, total));
    const rows = listOutbox(db, { afterSeq });
    const key = publicKey();
    const checks = new Map<number, LocalReportCheck>();
    if (key !== null) for (const check of verifyOutboxLocally(db, key, { afterSeq })) checks.set(check.seq, check);
    return { reports: rows.map((row) => toEntry(row, checks.get(row.seq))).reverse(), total, available: true };
  };
}

/** The reader without a key: rows shown, checks "unchecked". */
export const readOutboxReports: ReportReader = createOutboxReportReader(() => null);

function toEntry(row: OutboxEntry, check: LocalReportCheck | undefined): ReportEntry {
  const verdict = (value: boolean | null | undefined): ReportEntry['signature'] =>
    value === true ? 'valid' : value === false ? 'invalid' : 'unchecked';
  return {
    seq: row.seq,
    kind: row.kind,
    createdAt: row.createdAt,
    deliveredAt: row.state === 'delivered' ? row.ackedAt : null,
    attempts: row.attempts,
    lastError: row.lastError,
    payload: row.body ?? '',
    bytes: row.body === null ? 0 : Buffer.byteLength(row.body, 'utf8'),
    signature: verdict(check?.signatureValid),
    chain: verdict(check?.chainValid),
    checkDetail: check === undefined ? 'The device key is not available here, so this report was not checked.' : (check.reason ?? ''),
  };
}
