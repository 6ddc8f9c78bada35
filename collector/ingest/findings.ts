/**
 * Which findings a report or a silence opens, updates and closes: agent findings copied from report
 * bodies, and the collector's own kinds, `chain-gap` (a device skipped seqs) and `device-silent`
 * (a device stopped reporting). Every change takes a fresh cursor so stream consumers see it again.
 */
import type { CollectorFindingKind, Severity } from '../../common/findings';
import type { ReportBody } from '../../common/report';
import { closeGap, findOpenGapContaining, insertGap } from '../storage/chain-gaps';
import { reserve } from '../storage/counters';
import type { DeviceRow } from '../storage/devices';
import { closeFinding, insertFindingOnce, listOpenFindingsOfKind, upsertAgentFinding, type NewFinding } from '../storage/findings';
import type { Queryable } from '../storage/sql';
import { canonicalize } from '../../protocol/canonical-json';

export const FINDING_CURSOR = 'finding_cursor';
export const CHAIN_GAP_KIND: CollectorFindingKind = 'chain-gap';
export const DEVICE_SILENT_KIND: CollectorFindingKind = 'device-silent';
/** Also the risk a silent device shows before its finding is opened (see risk.ts). */
export const DEVICE_SILENT_SEVERITY: Severity = 'medium';

/** The row a finding from a report body is stored as; the report's seq orders later updates. */
export function agentFinding(deviceId: string, seq: number, finding: ReportBody['findings'][number], now: number): Omit<NewFinding, 'cursor'> {
  return {
    deviceId,
    source: 'agent',
    key: finding.key,
    kind: finding.kind,
    severity: finding.severity,
    title: finding.title,
    explanation: finding.explanation,
    // Canonical, so a finding's row is the same whichever thread parsed the body (see writer-thread.ts).
    evidence: canonicalize(finding.evidence),
    firstSeenAt: finding.firstSeenAt,
    lastSeenAt: finding.lastSeenAt,
    closedAt: finding.closedAt,
    reportSeq: seq,
    createdAt: now,
    updatedAt: now,
  };
}

export async function storeAgentFindings(tx: Queryable, deviceId: string, body: ReportBody, now: number): Promise<void> {
  if (body.findings.length === 0) return;
  let cursor = await reserve(tx, FINDING_CURSOR, body.findings.length);
  for (const finding of body.findings) await upsertAgentFinding(tx, { ...agentFinding(deviceId, body.seq, finding, now), cursor: cursor++ });
}

/** Contact from a device ends its silence. */
export async function closeSilence(tx: Queryable, deviceId: string, now: number): Promise<void> {
  for (const finding of await listOpenFindingsOfKind(tx, deviceId, DEVICE_SILENT_KIND)) {
    await closeFinding(tx, finding.id, await reserve(tx, FINDING_CURSOR, 1), now);
  }
}

/** Open the device-silent finding of one silence (keyed by the last contact, so once per silence). */
export async function openSilence(tx: Queryable, device: DeviceRow, silentAfterMs: number, now: number): Promise<boolean> {
  const minutes = Math.round(silentAfterMs / 60_000);
  return insertFindingOnce(tx, {
    cursor: await reserve(tx, FINDING_CURSOR, 1),
    deviceId: device.id,
    source: 'collector',
    key: `${DEVICE_SILENT_KIND}:${device.lastSeenAt}`,
    kind: DEVICE_SILENT_KIND,
    severity: DEVICE_SILENT_SEVERITY,
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
}

function gapKey(fromSeq: number, toSeq: number): string {
  return `${CHAIN_GAP_KIND}:${fromSeq}-${toSeq}`;
}

export async function openGap(tx: Queryable, deviceId: string, fromSeq: number, toSeq: number, now: number): Promise<void> {
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
export async function fillGap(tx: Queryable, deviceId: string, gap: { fromSeq: number; toSeq: number }, seq: number, now: number): Promise<void> {
  const stored = await findOpenGapContaining(tx, deviceId, seq);
  if (!stored) throw new Error(`Gap ${gap.fromSeq}-${gap.toSeq} of ${deviceId} vanished inside the transaction`);
  await closeGap(tx, stored.id, now);
  for (const finding of await listOpenFindingsOfKind(tx, deviceId, CHAIN_GAP_KIND)) {
    if (finding.key === gapKey(stored.fromSeq, stored.toSeq)) await closeFinding(tx, finding.id, await reserve(tx, FINDING_CURSOR, 1), now);
  }
  if (stored.fromSeq <= seq - 1) await openGap(tx, deviceId, stored.fromSeq, seq - 1, now);
  if (seq + 1 <= stored.toSeq) await openGap(tx, deviceId, seq + 1, stored.toSeq, now);
}
