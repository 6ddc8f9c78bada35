/**
 * The collector's storage service: enrollment, ingesting batches of verified reports, silent-device
 * sweeps and the reads behind the IT API, over either SQLite or PostgreSQL.
 *
 * `ingest` takes a whole batch and writes it in ONE transaction (the commit queue calls it once per
 * tick); items are decided in order, so two deliveries of the same report in one batch resolve to
 * stored + duplicate. Expected rejections (forks) are per-item outcomes; a thrown error rolls the
 * whole batch back and every request in it fails, so nothing is acknowledged that was not committed.
 *
 * The common cases (the next report in a chain, a redelivery, a fork against a known seq) are decided
 * in memory from a few batch-wide reads and written with batch statements, so a PostgreSQL batch
 * costs about ten round trips whatever its size. Anything rarer (a gap, a late fill, a silent device
 * waking up) flushes the buffered writes and takes the one-report path, `ingestOne`.
 */
import crypto from 'node:crypto';
import type { ReportBody } from '../../common/report';
import { assertNever } from '../../common/result';
import { decideChain, type ChainDecision } from '../chain';
import { closeGap, findOpenGapContaining, insertGap, listGaps, type ChainGapRow } from './chain-gaps';
import { reserve } from './counters';
import {
  findDeviceById,
  findDeviceByPublicKey,
  findDevicesByIds,
  insertDevice,
  listDeviceRows,
  listDevicesSeenBefore,
  touchDevice,
  touchDevices,
  updateDeviceDescription,
  type DeviceRow,
} from './devices';
import {
  closeFinding,
  countOpenBySeverity,
  devicesWithOpenKindAmong,
  insertFindingOnce,
  listDeviceFindings,
  listDevicesWithOpenKind,
  listFindingsAfter,
  listOpenFindingsOfKind,
  upsertAgentFinding,
  upsertAgentFindings,
  type FindingRow,
  type NewFinding,
} from './findings';
import { findLink, findLinks, findReport, insertReport, insertReports, listReportSummaries, type ReportRow, type ReportSummaryRow } from './reports';
import type { Queryable, SqlDatabase } from './sql';

export const FINDING_CURSOR = 'finding_cursor';
export const CHAIN_GAP_KIND = 'chain-gap';
export const DEVICE_SILENT_KIND = 'device-silent';

/** A report whose signature has been checked, ready to be placed in its chain. */
export interface VerifiedReport {
  readonly body: ReportBody;
  /** Canonical JSON of body (the signed bytes as text). */
  readonly canonical: string;
  readonly hash: string;
  readonly sig: string;
  readonly receivedAt: number;
}

export type IngestOutcome =
  | { readonly status: 'stored'; readonly gap: boolean }
  | { readonly status: 'duplicate' }
  | { readonly status: 'fork'; readonly reason: string };

export interface EnrollInput {
  readonly publicKey: string;
  readonly hostname: string;
  readonly platform: string;
  readonly agentVersion: string;
}

export type RiskLevel = 'none' | 'info' | 'low' | 'medium' | 'high';

export interface DeviceSummary extends DeviceRow {
  /** Max severity of open findings ('none' without any). */
  readonly risk: RiskLevel;
  /** True while a device-silent finding is open. */
  readonly silent: boolean;
  readonly openFindings: number;
}

const RISK_RANK: Record<RiskLevel, number> = { none: -1, info: 0, low: 1, medium: 2, high: 3 };

export class CollectorStore {
  constructor(readonly database: SqlDatabase) {}

  /** Enroll a key, or return the device already enrolled with it (idempotent). */
  async enroll(input: EnrollInput, now: number): Promise<{ deviceId: string; created: boolean }> {
    return this.database.transaction(async (tx) => {
      const existing = await findDeviceByPublicKey(tx, input.publicKey);
      if (existing) {
        await updateDeviceDescription(tx, existing.id, { ...input, now });
        return { deviceId: existing.id, created: false };
      }
      const deviceId = crypto.randomUUID();
      await insertDevice(tx, { id: deviceId, ...input, now });
      return { deviceId, created: true };
    });
  }

  findDevice(id: string): Promise<DeviceRow | undefined> {
    return findDeviceById(this.database, id);
  }

  /** Place a batch of verified reports in their chains, in one transaction. */
  async ingest(batch: readonly VerifiedReport[]): Promise<IngestOutcome[]> {
    if (batch.length === 0) return [];
    return this.database.transaction((tx) => ingestBatch(tx, batch));
  }

  /**
   * Open a device-silent finding for every device not heard from since `now - silentAfterMs`.
   * Idempotent: one finding per silence (keyed by the last contact time). Returns how many opened.
   */
  async sweepSilentDevices(now: number, silentAfterMs: number): Promise<number> {
    const cutoff = now - silentAfterMs;
    return this.database.transaction(async (tx) => {
      const candidates = await listDevicesSeenBefore(tx, cutoff);
      if (candidates.length === 0) return 0;
      const alreadySilent = await listDevicesWithOpenKind(tx, DEVICE_SILENT_KIND);
      let opened = 0;
      for (const device of candidates) {
        if (alreadySilent.has(device.id)) continue;
        const cursor = await reserve(tx, FINDING_CURSOR, 1);
        const minutes = Math.round(silentAfterMs / 60_000);
        const inserted = await insertFindingOnce(tx, {
          cursor,
          deviceId: device.id,
          source: 'collector',
          key: `${DEVICE_SILENT_KIND}:${device.lastSeenAt}`,
          kind: DEVICE_SILENT_KIND,
          severity: 'medium',
          title: 'Device stopped reporting',
          explanation: `No report or heartbeat has arrived for more than ${minutes} minutes. The agent may be stopped, blocked or the laptop offline.`,
          evidence: JSON.stringify({ lastSeenAt: device.lastSeenAt, silentAfterMinutes: minutes }),
          firstSeenAt: device.lastSeenAt + silentAfterMs,
          lastSeenAt: now,
          closedAt: null,
          reportSeq: null,
          createdAt: now,
          updatedAt: now,
        });
        if (inserted) opened += 1;
      }
      return opened;
    });
  }

  async listDevices(): Promise<DeviceSummary[]> {
    const [devices, counts] = await Promise.all([listDeviceRows(this.database), countOpenBySeverity(this.database)]);
    const byDevice = new Map<string, { risk: RiskLevel; silent: boolean; open: number }>();
    for (const count of counts) {
      const entry = byDevice.get(count.deviceId) ?? { risk: 'none' as RiskLevel, silent: false, open: 0 };
      const severity = count.severity as RiskLevel;
      if (RISK_RANK[severity] !== undefined && RISK_RANK[severity] > RISK_RANK[entry.risk]) entry.risk = severity;
      if (count.kind === DEVICE_SILENT_KIND) entry.silent = true;
      entry.open += count.count;
      byDevice.set(count.deviceId, entry);
    }
    return devices.map((device) => {
      const entry = byDevice.get(device.id);
      return { ...device, risk: entry?.risk ?? 'none', silent: entry?.silent ?? false, openFindings: entry?.open ?? 0 };
    });
  }

  listReports(deviceId: string, beforeSeq: number | null, limit: number): Promise<ReportSummaryRow[]> {
    return listReportSummaries(this.database, deviceId, beforeSeq, limit);
  }

  getReport(deviceId: string, seq: number): Promise<ReportRow | undefined> {
    return findReport(this.database, deviceId, seq);
  }

  /** The stored hash at `seq` (to check a report's link to its predecessor on read). */
  async getHash(deviceId: string, seq: number): Promise<string | undefined> {
    return (await findLink(this.database, deviceId, seq))?.hash;
  }

  listDeviceFindings(deviceId: string, limit: number): Promise<FindingRow[]> {
    return listDeviceFindings(this.database, deviceId, limit);
  }

  listFindingsAfter(cursor: number, limit: number): Promise<FindingRow[]> {
    return listFindingsAfter(this.database, cursor, limit);
  }

  listGaps(deviceId: string): Promise<ChainGapRow[]> {
    return listGaps(this.database, deviceId);
  }

  close(): Promise<void> {
    return this.database.close();
  }
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
    // Routes check the device before verifying; it cannot vanish (no deletes), so this is a bug.
    if (!device) throw new Error(`Device ${body.deviceId} vanished between verification and commit`);
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

function agentFinding(deviceId: string, seq: number, finding: ReportBody['findings'][number], now: number): Omit<NewFinding, 'cursor'> {
  return {
    deviceId,
    source: 'agent',
    key: finding.key,
    kind: finding.kind,
    severity: finding.severity,
    title: finding.title,
    explanation: finding.explanation,
    evidence: JSON.stringify(finding.evidence),
    firstSeenAt: finding.firstSeenAt,
    lastSeenAt: finding.lastSeenAt,
    closedAt: finding.closedAt,
    reportSeq: seq,
    createdAt: now,
    updatedAt: now,
  };
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
  // Routes check the device before verifying; it cannot vanish (no deletes), so this is a bug.
  if (!device) throw new Error(`Device ${body.deviceId} vanished between verification and commit`);
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
  }
}

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

async function storeAgentFindings(tx: Queryable, deviceId: string, body: ReportBody, now: number): Promise<void> {
  if (body.findings.length === 0) return;
  let cursor = await reserve(tx, FINDING_CURSOR, body.findings.length);
  for (const finding of body.findings) await upsertAgentFinding(tx, { ...agentFinding(deviceId, body.seq, finding, now), cursor: cursor++ });
}

/** Contact from a device ends its silence. */
async function closeSilence(tx: Queryable, deviceId: string, now: number): Promise<void> {
  for (const finding of await listOpenFindingsOfKind(tx, deviceId, DEVICE_SILENT_KIND)) {
    await closeFinding(tx, finding.id, await reserve(tx, FINDING_CURSOR, 1), now);
  }
}

function gapKey(fromSeq: number, toSeq: number): string {
  return `${CHAIN_GAP_KIND}:${fromSeq}-${toSeq}`;
}

async function openGap(tx: Queryable, deviceId: string, fromSeq: number, toSeq: number, now: number): Promise<void> {
  await insertGap(tx, { deviceId, fromSeq, toSeq, detectedAt: now });
  const count = toSeq - fromSeq + 1;
  await insertFindingOnce(tx, {
    cursor: await reserve(tx, FINDING_CURSOR, 1),
    deviceId,
    source: 'collector',
    key: gapKey(fromSeq, toSeq),
    kind: CHAIN_GAP_KIND,
    severity: 'medium',
    title: count === 1 ? `Report ${fromSeq} is missing` : `Reports ${fromSeq} to ${toSeq} are missing`,
    explanation:
      'The device skipped ahead in its numbered, hash-linked report chain. Reports may have been lost, blocked or deleted on the laptop; late arrivals close this finding.',
    evidence: JSON.stringify({ fromSeq, toSeq, missing: count }),
    firstSeenAt: now,
    lastSeenAt: now,
    closedAt: null,
    reportSeq: null,
    createdAt: now,
    updatedAt: now,
  });
}

/** A late report landed in a gap: close the gap (and its finding) and reopen what is still missing. */
async function fillGap(tx: Queryable, deviceId: string, gap: { fromSeq: number; toSeq: number }, seq: number, now: number): Promise<void> {
  const stored = await findOpenGapContaining(tx, deviceId, seq);
  if (!stored) throw new Error(`Gap ${gap.fromSeq}-${gap.toSeq} of ${deviceId} vanished inside the transaction`);
  await closeGap(tx, stored.id, now);
  for (const finding of await listOpenFindingsOfKind(tx, deviceId, CHAIN_GAP_KIND)) {
    if (finding.key === gapKey(stored.fromSeq, stored.toSeq)) await closeFinding(tx, finding.id, await reserve(tx, FINDING_CURSOR, 1), now);
  }
  if (stored.fromSeq <= seq - 1) await openGap(tx, deviceId, stored.fromSeq, seq - 1, now);
  if (seq + 1 <= stored.toSeq) await openGap(tx, deviceId, seq + 1, stored.toSeq, now);
}
