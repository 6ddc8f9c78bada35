/**
 * What a batch of verified reports does: each is placed in its device's chain (chain.ts) and its
 * findings are stored, all in ONE transaction (the commit queue calls `ingestReports` once per tick).
 * Items are decided in order, so two deliveries of the same report in one batch resolve to stored +
 * duplicate. Expected rejections (forks, a device deleted meanwhile) are per-item outcomes. A report
 * that throws (a value the database refuses) must fail alone: the batch runs inside a savepoint, and
 * if anything in it throws, the savepoint is rolled back and every report is decided again on the
 * one-report path, each in its own savepoint, so the failure stays with the report that caused it.
 * Only an error that ends the transaction itself (disk full) fails the whole batch, and then nothing
 * is acknowledged that was not committed.
 *
 * The common cases (the next report in a chain, a redelivery, a fork against a known seq) are decided
 * in memory from a few batch-wide reads and written with batch statements, so a PostgreSQL batch
 * costs about ten round trips whatever its size. Anything rarer (a gap, a late fill, a silent device
 * waking up) flushes the buffered writes and takes the one-report path, `ingestOne`.
 */
import type { ReportBody } from '../../common/report';
import { assertNever } from '../../common/result';
import { findLink, findLinks, insertReport, insertReports, type ReportRow } from '../storage/reports';
import { reserve } from '../storage/counters';
import { findDeviceById, findDevicesByIds, touchDevice, touchDevices, type DeviceRow } from '../storage/devices';
import { devicesWithOpenKindAmong, upsertAgentFindings, type NewFinding } from '../storage/findings';
import { findOpenGapContaining } from '../storage/chain-gaps';
import { inSavepoint, type Queryable, type SqlDatabase } from '../storage/sql';
import { decideChain, type ChainDecision } from './chain';
import { DEFAULT_CORRELATION, recordLocations, type CorrelationSettings, type LocationDelivery } from '../location/correlate';
import type { Egress } from '../location/egress';
import { agentFinding, closeSilence, DEVICE_SILENT_KIND, fillGap, FINDING_CURSOR, openGap, storeAgentFindings } from './findings';

/** A report whose signature has been checked, ready to be placed in its chain. */
export interface VerifiedReport {
  readonly body: ReportBody;
  /** Canonical JSON of body (the signed bytes as text). */
  readonly canonical: string;
  readonly hash: string;
  readonly sig: string;
  readonly receivedAt: number;
  /** Where the delivery came from, as the collector classified it (collector/location/egress.ts); null when not an egress. */
  readonly egress?: Egress | null;
}

export type IngestOutcome =
  | { readonly status: 'stored'; readonly gap: boolean }
  | { readonly status: 'duplicate' }
  | { readonly status: 'fork'; readonly reason: string }
  /** The device was deleted between the signature check and the commit. */
  | { readonly status: 'device-unknown' };

/** A report's outcome in a batch: decided, or failed alone with the error it caused (nothing of it stored). */
export type BatchOutcome = IngestOutcome | { readonly status: 'failed'; readonly error: unknown };

/**
 * Place a batch of verified reports in their chains, in one transaction. The stored reports'
 * locations and egresses then feed the correlation (collector/location/correlate.ts) in the same
 * transaction, so a report is acknowledged only with its cluster settled.
 */
export async function ingestReports(
  database: SqlDatabase,
  batch: readonly VerifiedReport[],
  correlation: CorrelationSettings = DEFAULT_CORRELATION,
): Promise<BatchOutcome[]> {
  if (batch.length === 0) return [];
  return database.transaction(async (tx) => {
    const whole = await inSavepoint(tx, 'ingest_batch', async () => {
      const outcomes = await ingestBatch(tx, batch);
      await recordLocations(tx, batch.filter((_, index) => outcomes[index]?.status === 'stored').map(deliveryOf), correlation);
      return outcomes;
    });
    if (whole.ok) return whole.value;
    const outcomes: BatchOutcome[] = [];
    for (const report of batch) {
      const one = await inSavepoint(tx, 'ingest_report', async () => {
        const outcome = await ingestOne(tx, report);
        if (outcome.status === 'stored') await recordLocations(tx, [deliveryOf(report)], correlation);
        return outcome;
      });
      outcomes.push(one.ok ? one.value : { status: 'failed', error: one.error });
    }
    return outcomes;
  });
}

function deliveryOf(report: VerifiedReport): LocationDelivery {
  return { deviceId: report.body.deviceId, location: report.body.location, egress: report.egress ?? null, now: report.receivedAt };
}

/** Chain head of a device as the batch sees it (moves forward as the batch appends). */
interface BatchDevice {
  headSeq: number;
  headHash: string | null;
}

function linkKey(deviceId: string, seq: number): string {
  return `${deviceId}\n${seq}`;
}

async function ingestBatch(tx: Queryable, batch: readonly VerifiedReport[]): Promise<IngestOutcome[]> {
  const deviceIds = [...new Set(batch.map((report) => report.body.deviceId))];
  const devices = new Map<string, BatchDevice>();
  for (const device of await findDevicesByIds(tx, deviceIds)) devices.set(device.id, { headSeq: device.headSeq, headHash: device.headHash });
  const links = new Map<string, { hash: string; prevHash: string }>();
  for (const link of await findLinks(tx, batch.map((report) => ({ deviceId: report.body.deviceId, seq: report.body.seq })))) {
    links.set(linkKey(link.deviceId, link.seq), { hash: link.hash, prevHash: link.prevHash });
  }
  // Devices whose reports take the one-report path: silent ones (contact closes the finding) and,
  // once one of their reports did, the rest of theirs in this batch (their state is in the database now).
  const slow = await devicesWithOpenKindAmong(tx, DEVICE_SILENT_KIND, deviceIds);
  const writes = new BatchWrites();
  const outcomes: IngestOutcome[] = [];
  for (const report of batch) {
    const { body } = report;
    const device = devices.get(body.deviceId);
    if (!device) {
      outcomes.push({ status: 'device-unknown' });
      continue;
    }
    const key = linkKey(body.deviceId, body.seq);
    const stored = links.get(key);
    if (slow.has(body.deviceId) || (stored === undefined && body.seq !== device.headSeq + 1)) {
      await writes.flush(tx);
      outcomes.push(await ingestOne(tx, report));
      slow.add(body.deviceId);
      continue;
    }
    const decision = decideChain(
      { seq: body.seq, prevHash: body.prevHash, hash: report.hash },
      { headSeq: device.headSeq, headHash: device.headHash, storedHashAtSeq: stored?.hash ?? null, previousHash: null, nextPrevHash: null, openGap: null },
    );
    const now = report.receivedAt;
    switch (decision.kind) {
      case 'fork':
        outcomes.push({ status: 'fork', reason: decision.reason });
        break;
      case 'duplicate':
        writes.touch(body.deviceId, now, null);
        outcomes.push({ status: 'duplicate' });
        break;
      case 'append':
        writes.report(reportRow(report));
        writes.touch(body.deviceId, now, { seq: body.seq, hash: report.hash });
        writes.findings(body.deviceId, body, now);
        links.set(key, { hash: report.hash, prevHash: body.prevHash });
        device.headSeq = body.seq;
        device.headHash = report.hash;
        outcomes.push({ status: 'stored', gap: false });
        break;
      case 'gap':
      case 'fill':
        // Not reached: both need a seq other than head + 1 and nothing stored, which took the slow path.
        throw new Error(`Unexpected ${decision.kind} decision on the batch path`);
      default:
        return assertNever(decision, 'chain decision');
    }
  }
  await writes.flush(tx);
  return outcomes;
}

/** Writes of the batch path, buffered until the batch ends or a report needs the one-report path. */
class BatchWrites {
  private reports: ReportRow[] = [];
  private touches = new Map<string, { id: string; now: number; head: { seq: number; hash: string } | null }>();
  private agentFindings = new Map<string, Omit<NewFinding, 'cursor'>>();

  report(row: ReportRow): void {
    this.reports.push(row);
  }

  /** Contact from a device; the head only moves forward, last_seen_at to the latest time. */
  touch(id: string, now: number, head: { seq: number; hash: string } | null): void {
    const existing = this.touches.get(id);
    if (!existing) {
      this.touches.set(id, { id, now, head });
      return;
    }
    existing.now = Math.max(existing.now, now);
    if (head && (existing.head === null || head.seq > existing.head.seq)) existing.head = head;
  }

  /**
   * A report's findings. Upserts of one identity apply only from a larger report seq, so of several
   * in a batch only the one with the largest seq (the first of equals) would survive: keep just it.
   */
  findings(deviceId: string, body: ReportBody, now: number): void {
    for (const finding of body.findings) {
      const identity = `${deviceId}\n${finding.key}\n${finding.firstSeenAt}`;
      const existing = this.agentFindings.get(identity);
      if (existing && (existing.reportSeq ?? 0) >= body.seq) continue;
      // An update never changes created_at: a row first inserted by this batch keeps the first report's time.
      const latest = agentFinding(deviceId, body.seq, finding, now);
      this.agentFindings.set(identity, existing ? { ...latest, createdAt: existing.createdAt } : latest);
    }
  }

  async flush(tx: Queryable): Promise<void> {
    const reports = this.reports;
    const touches = [...this.touches.values()];
    const findings = [...this.agentFindings.values()];
    this.reports = [];
    this.touches = new Map();
    this.agentFindings = new Map();
    await insertReports(tx, reports);
    await touchDevices(tx, touches);
    if (findings.length > 0) {
      let cursor = await reserve(tx, FINDING_CURSOR, findings.length);
      await upsertAgentFindings(tx, findings.map((finding) => ({ ...finding, cursor: cursor++ })));
    }
  }
}

/** The row a verified report is stored as: the canonical bytes that were signed, and the receive time. */
function reportRow(report: VerifiedReport): ReportRow {
  const { body } = report;
  return {
    deviceId: body.deviceId,
    seq: body.seq,
    hash: report.hash,
    prevHash: body.prevHash,
    kind: body.kind,
    createdAt: body.createdAt,
    body: report.canonical,
    sig: report.sig,
    receivedAt: report.receivedAt,
  };
}

async function ingestOne(tx: Queryable, report: VerifiedReport): Promise<IngestOutcome> {
  const { body } = report;
  const device = await findDeviceById(tx, body.deviceId);
  if (!device) return { status: 'device-unknown' };
  const decision = await decide(tx, device, report);
  const now = report.receivedAt;
  switch (decision.kind) {
    case 'fork':
      return { status: 'fork', reason: decision.reason };
    case 'duplicate':
      await touchDevice(tx, device.id, now, null);
      await closeSilence(tx, device.id, now);
      return { status: 'duplicate' };
    case 'append':
    case 'gap':
    case 'fill': {
      await insertReport(tx, reportRow(report));
      await touchDevice(tx, device.id, now, body.seq > device.headSeq ? { seq: body.seq, hash: report.hash } : null);
      await closeSilence(tx, device.id, now);
      if (decision.kind === 'gap') await openGap(tx, device.id, decision.fromSeq, decision.toSeq, now);
      if (decision.kind === 'fill') await fillGap(tx, device.id, decision.gap, body.seq, now);
      await storeAgentFindings(tx, device.id, body, now);
      return { status: 'stored', gap: decision.kind === 'gap' };
    }
    default:
      return assertNever(decision, 'chain decision');
  }
}

/** Read what the chain holds around the report (neighbours only inside an open gap) and decide. */
async function decide(tx: Queryable, device: DeviceRow, report: VerifiedReport): Promise<ChainDecision> {
  const { seq, prevHash } = report.body;
  const stored = await findLink(tx, device.id, seq);
  const belowHead = stored === undefined && seq < device.headSeq;
  const openGap = belowHead ? await findOpenGapContaining(tx, device.id, seq) : undefined;
  const previous = openGap && seq > 1 ? await findLink(tx, device.id, seq - 1) : undefined;
  const next = openGap ? await findLink(tx, device.id, seq + 1) : undefined;
  return decideChain(
    { seq, prevHash, hash: report.hash },
    {
      headSeq: device.headSeq,
      headHash: device.headHash,
      storedHashAtSeq: stored?.hash ?? null,
      previousHash: previous?.hash ?? null,
      nextPrevHash: next?.prevHash ?? null,
      openGap: openGap ? { fromSeq: openGap.fromSeq, toSeq: openGap.toSeq } : null,
    },
  );
}
