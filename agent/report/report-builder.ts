/**
 * Making reports: gather what happened since the last report, sign it, and queue it in the outbox.
 *
 * Everything one call does happens in ONE immediate transaction: reading the chain head, inserting
 * the signed reports into the outbox, and advancing the head (seq, hash, window end, timing cursor).
 * So a crash either leaves no trace of the call or leaves the reports queued with the head moved
 * past them; a seq is never reused and the chain never forks. The head lives in kv
 * (`report.chain`), not in the outbox, so retention may prune delivered rows freely.
 *
 * A report carries the findings open now or seen in its window, and the timing-window summaries
 * stored since the previous report (by row id cursor, so a wall-clock jump cannot skip or repeat
 * one). When they do not fit in MAX_REPORT_BYTES they are split across consecutive reports, the
 * findings first.
 */
import { canonicalize } from '../../protocol/canonical-json';
import { Value } from '@sinclair/typebox/value';
import { EvidenceSchema, evidenceProblem, type Finding, type ReportFinding } from '../../common/findings';
import { toWellFormedDeep, toWellFormedText } from '../../common/text';
import { GENESIS_HASH, MAX_REPORT_BYTES, PROTOCOL_VERSION, type ReportBody } from '../../common/report';
import { projectTimingWindow, type TimingWindow } from '../../common/timing';
import type { Db } from '../store/database';
import { listFindingsSince, listOpenFindings } from '../store/findings';
import { getValue, setValue } from '../store/kv';
import { insertOutboxEntry } from '../store/outbox';
import { listTimingWindows } from '../store/timing-windows';
import type { ReportSigner } from '../../protocol/report-crypto';

/** The chain head and the cursors that say what the next report starts from. */
export interface ChainHead {
  /** The device the chain belongs to. */
  readonly deviceId: string;
  /** Seq of the newest queued report (0 before the first). */
  readonly seq: number;
  /** Hash of the newest queued report's body (GENESIS_HASH before the first). */
  readonly hash: string;
  /** `window.to` of the newest queued report; the next window starts here. */
  readonly windowTo: number | null;
  /** Highest timing_windows row id already reported. */
  readonly timingCursor: number;
  /** Agent clock when the newest report (any kind) was queued. */
  readonly lastQueuedAt: number | null;
}

export const CHAIN_HEAD_KEY = 'report.chain';

/** Schema limits (common/report.ts) that a report must respect. */
const MAX_TIMING_PER_REPORT = 2000;
const MAX_FINDINGS_PER_REPORT = 1000;
/** Room left for the envelope around the body (`{"body":...,"sig":"<86>"}`) and slack. */
const ENVELOPE_RESERVE_BYTES = 512;
/** Evidence larger than this is replaced by a marker so one finding can never exceed a report. */
const MAX_EVIDENCE_BYTES = 32 * 1024;
/** Timing windows read per batch; a long backlog is drained over several reports in one call. */
const TIMING_READ_BATCH = 5000;

/** The chain head, or undefined before the first report. */
export function getChainHead(db: Db): ChainHead | undefined {
  return getValue<ChainHead>(db, CHAIN_HEAD_KEY);
}

export interface ReportBuilderOptions {
  readonly db: Db;
  readonly signer: ReportSigner;
  readonly agentVersion: string;
  /** policy.outbox.maxReports. */
  readonly maxPending: number;
  /** Byte budget of one envelope; defaults to MAX_REPORT_BYTES (tests pass less to force splits). */
  readonly maxEnvelopeBytes?: number;
}

/** What one `queue` call wrote. */
export interface QueueOutcome {
  readonly queued: readonly { readonly seq: number; readonly kind: 'report' | 'heartbeat'; readonly hash: string }[];
  /** Seqs dropped from the outbox to respect its bound (see agent/store/outbox.ts). */
  readonly dropped: readonly number[];
}

/** Builds, signs and queues reports for one enrolled device. */
export class ReportBuilder {
  constructor(private readonly options: ReportBuilderOptions) {}

  /**
   * Queue a report covering everything since the last one. With nothing to report, queues a
   * heartbeat when `heartbeatIfEmpty` is set, else nothing.
   */
  queue(deviceId: string, now: number, heartbeatIfEmpty: boolean): QueueOutcome {
    const { db } = this.options;
    return db
      .transaction((): QueueOutcome => {
        let head = getChainHead(db) ?? genesisHead(deviceId);
        if (head.deviceId !== deviceId) {
          throw new Error(`The report chain belongs to device ${head.deviceId}, not ${deviceId}; refusing to fork it`);
        }
        const queued: { seq: number; kind: 'report' | 'heartbeat'; hash: string }[] = [];
        const dropped: number[] = [];
        const firstTiming = listTimingWindows(db, { afterId: head.timingCursor, limit: 1 })[0];
        const from = Math.min(head.windowTo ?? firstTiming?.window.startedAt ?? now, now);
        const window = { from, to: now };
        const findings = collectFindings(db, from);
        let timingCursor = head.timingCursor;
        let pendingFindings: ReportFinding[] = findings;
        // Only the fields common/timing.ts defines ever reach a report (privacy by construction).
        const readTiming = (afterId: number) =>
          listTimingWindows(db, { afterId, limit: TIMING_READ_BATCH }).map((stored) => ({ id: stored.id, window: projectTimingWindow(stored.window) }));
        let timing = readTiming(timingCursor);

        if (pendingFindings.length === 0 && timing.length === 0) {
          if (!heartbeatIfEmpty) return { queued, dropped };
          head = this.append(head, 'heartbeat', window, [], [], now, queued, dropped);
        }
        while (pendingFindings.length > 0 || timing.length > 0) {
          const part = this.pack(head, window, now, pendingFindings, timing.map((stored) => stored.window));
          const lastTiming = timing[part.timingCount - 1];
          if (lastTiming !== undefined) timingCursor = lastTiming.id;
          head = this.append(
            { ...head, timingCursor },
            'report',
            window,
            pendingFindings.slice(0, part.findingCount),
            timing.slice(0, part.timingCount).map((stored) => stored.window),
            now,
            queued,
            dropped,
          );
          pendingFindings = pendingFindings.slice(part.findingCount);
          timing = timing.slice(part.timingCount);
          if (timing.length === 0) timing = readTiming(timingCursor);
        }
        setValue(db, CHAIN_HEAD_KEY, head);
        return { queued, dropped };
      })
      .immediate();
  }

  /** Sign one body, insert it into the outbox and return the advanced head (not yet saved). */
  private append(
    head: ChainHead,
    kind: 'report' | 'heartbeat',
    window: { from: number; to: number },
    findings: readonly ReportFinding[],
    timing: readonly TimingWindow[],
    now: number,
    queued: { seq: number; kind: 'report' | 'heartbeat'; hash: string }[],
    dropped: number[],
  ): ChainHead {
    const body: ReportBody = {
      v: PROTOCOL_VERSION,
      deviceId: head.deviceId,
      seq: head.seq + 1,
      prevHash: head.hash,
      kind,
      createdAt: now,
      window,
      findings: [...findings],
      timing: [...timing],
      agentVersion: this.options.agentVersion,
    };
    const sealed = this.options.signer.sign(body);
    dropped.push(
      ...insertOutboxEntry(
        this.options.db,
        { seq: body.seq, kind, hasFindings: findings.length > 0, createdAt: now, body: sealed.envelope, hash: sealed.hash },
        this.options.maxPending,
        now,
      ),
    );
    queued.push({ seq: body.seq, kind, hash: sealed.hash });
    return { ...head, seq: body.seq, hash: sealed.hash, windowTo: window.to, lastQueuedAt: now };
  }

  /** How many of the pending findings and timing windows fit in the next report. */
  private pack(
    head: ChainHead,
    window: { from: number; to: number },
    now: number,
    findings: readonly ReportFinding[],
    timing: readonly TimingWindow[],
  ): { findingCount: number; timingCount: number } {
    const budget = (this.options.maxEnvelopeBytes ?? MAX_REPORT_BYTES) - ENVELOPE_RESERVE_BYTES;
    const empty: ReportBody = {
      v: PROTOCOL_VERSION,
      deviceId: head.deviceId,
      seq: head.seq + 1,
      prevHash: head.hash,
      kind: 'report',
      createdAt: now,
      window,
      findings: [],
      timing: [],
      agentVersion: this.options.agentVersion,
    };
    // The seq may gain digits in later parts; 20 bytes covers any safe integer.
    let used = byteLength(canonicalize(empty)) + 20;
    let findingCount = 0;
    let timingCount = 0;
    for (const finding of findings) {
      const size = byteLength(canonicalize(finding)) + 1;
      if (findingCount >= MAX_FINDINGS_PER_REPORT || (findingCount > 0 && used + size > budget)) break;
      used += size;
      findingCount++;
    }
    if (findingCount === findings.length) {
      for (const window of timing) {
        const size = byteLength(canonicalize(window)) + 1;
        if (timingCount >= MAX_TIMING_PER_REPORT || (findingCount + timingCount > 0 && used + size > budget)) break;
        used += size;
        timingCount++;
      }
    }
    return { findingCount, timingCount };
  }
}

function genesisHead(deviceId: string): ChainHead {
  return { deviceId, seq: 0, hash: GENESIS_HASH, windowTo: null, timingCursor: 0, lastQueuedAt: null };
}

/** Findings open now or seen in the window, oldest first, trimmed to the schema's limits. */
function collectFindings(db: Db, from: number): ReportFinding[] {
  const byId = new Map<number, Finding>();
  for (const finding of listFindingsSince(db, from)) byId.set(finding.id, finding);
  for (const finding of listOpenFindings(db)) byId.set(finding.id, finding);
  return [...byId.values()].sort((a, b) => a.id - b.id).map(toReportFinding);
}

/**
 * A stored finding as a report carries it: the schema's fields only, strings clipped to its limits,
 * lone surrogates (which the collector refuses) replaced by U+FFFD so a finding with text from a
 * probe can never get the whole report refused.
 */
export function toReportFinding(finding: Finding): ReportFinding {
  const evidenceBytes = byteLength(canonicalize(finding.evidence));
  return {
    key: toWellFormedText(clip(finding.key, 512)),
    kind: finding.kind,
    severity: finding.severity,
    title: toWellFormedText(clip(finding.title, 512)),
    explanation: toWellFormedText(clip(finding.explanation, 4096)),
    evidence:
      evidenceBytes <= MAX_EVIDENCE_BYTES && Value.Check(EvidenceSchema, finding.evidence) && evidenceProblem(finding.evidence) === null
        ? toWellFormedDeep({ ...finding.evidence })
        : { truncated: true, originalBytes: evidenceBytes },
    firstSeenAt: finding.firstSeenAt,
    lastSeenAt: finding.lastSeenAt,
    closedAt: finding.closedAt,
  };
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Never leave half a surrogate pair at the cut.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
