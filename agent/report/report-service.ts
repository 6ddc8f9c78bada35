/**
 * The report service: makes reports on a period, at once on a high-severity finding, and
 * heartbeats when there is nothing to report.
 *
 * Reports are only made once the device is enrolled (they carry its device id). Until then nothing
 * is lost: timing windows and findings stay in their tables and the first report after enrollment
 * covers them (the timing cursor starts at 0).
 */
import type { AgentContext, AgentService } from '../context';
import { storageHealth } from '../store/storage-health';
import { getChainHead, type QueueOutcome, type ReportBuilder } from './report-builder';

export interface ReportServiceOptions {
  readonly builder: ReportBuilder;
  /** The enrolled device id, or undefined before enrollment. */
  readonly deviceId: () => string | undefined;
}

export class ReportService implements AgentService {
  readonly name = 'report';
  private reportTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private urgent: NodeJS.Immediate | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly options: ReportServiceOptions,
  ) {}

  start(): void {
    const { reportSeconds, heartbeatSeconds } = this.ctx.policy.intervals;
    this.unsubscribe = this.ctx.events.on('findingsChanged', (change) => {
      if (!change.opened.some((finding) => finding.severity === 'high')) return;
      // Coalesce a burst of detector results into one report on the next turn.
      this.urgent ??= setImmediate(() => {
        this.urgent = null;
        this.reportNow('high-severity finding');
      });
    });
    this.reportTimer = setInterval(() => this.reportNow('period'), reportSeconds * 1000);
    this.heartbeatTimer = setInterval(() => this.heartbeatIfQuiet(), heartbeatSeconds * 1000);
    // Catch up at start: whatever was stored while the agent was down or not yet enrolled.
    this.reportNow('start');
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.reportTimer) clearInterval(this.reportTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.urgent) clearImmediate(this.urgent);
    this.reportTimer = this.heartbeatTimer = this.urgent = null;
  }

  /** Queue a report of everything since the last one (nothing when there is nothing new). */
  reportNow(reason: string): QueueOutcome | null {
    return this.queue(false, reason);
  }

  /** Queue a report, or a heartbeat if there is nothing to report and none was queued lately. */
  heartbeatIfQuiet(): QueueOutcome | null {
    const last = getChainHead(this.ctx.db)?.lastQueuedAt ?? null;
    const periodMs = this.ctx.policy.intervals.heartbeatSeconds * 1000;
    // 10% slack for timer drift; a report queued since the last beat already proves liveness.
    const due = last === null || this.ctx.clock.now() - last >= periodMs * 0.9 || this.ctx.clock.now() < last;
    return this.queue(due, 'heartbeat');
  }

  private queue(heartbeatIfEmpty: boolean, reason: string): QueueOutcome | null {
    const deviceId = this.options.deviceId();
    if (deviceId === undefined) return null;
    // The builder's transaction rolls back whole on a refused write: the next attempt covers the same data.
    const built = storageHealth(this.ctx).write('queueing a report', () => this.options.builder.queue(deviceId, this.ctx.clock.now(), heartbeatIfEmpty));
    if (!built.ok) return null;
    const outcome = built.value;
    if (outcome.dropped.length > 0) {
      this.ctx.logger.log('warn', 'Outbox full: dropped the oldest undelivered reports without findings', {
        dropped: outcome.dropped.length,
        firstDroppedSeq: outcome.dropped[0] ?? null,
      });
    }
    for (const entry of outcome.queued) {
      this.ctx.logger.log('debug', 'Report queued', { seq: entry.seq, kind: entry.kind, reason });
      this.ctx.events.emit('reportQueued', { seq: entry.seq, kind: entry.kind });
    }
    return outcome;
  }
}
