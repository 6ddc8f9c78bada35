/**
 * The report service: makes reports on a period, at once on a high-severity finding, and
 * heartbeats when there is nothing to report. Periods count from the newest report of any kind, so
 * a report queued for any reason also stands for the period report and the heartbeat due next.
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
  private timer: NodeJS.Timeout | null = null;
  private urgent: NodeJS.Immediate | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly options: ReportServiceOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.ctx.events.on('findingsChanged', (change) => {
      if (!change.opened.some((finding) => finding.severity === 'high')) return;
      // Coalesce a burst of detector results into one report on the next turn.
      this.urgent ??= setImmediate(() => {
        this.urgent = null;
        this.reportNow('high-severity finding');
      });
    });
    // One timer and one decision per tick, so a tick queues at most one report: every report carries
    // the open findings, so separate period and heartbeat timers firing together would each find
    // something to send. A quarter of the shorter period keeps a period that starts off the beat
    // (after an urgent report) from stretching by more than a quarter.
    this.timer = setInterval(() => this.tick(), this.tickMs());
    // Catch up at start: whatever was stored while the agent was down or not yet enrolled.
    this.reportNow('start');
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    if (this.urgent) clearImmediate(this.urgent);
    this.timer = this.urgent = null;
  }

  /**
   * Measured from the newest report of any kind: a report period since it → report what is new; a
   * heartbeat period since it → report, or a bare heartbeat when nothing is new.
   */
  private tick(): void {
    const { reportSeconds, heartbeatSeconds } = this.ctx.policy.intervals;
    const heartbeatDue = this.elapsed(heartbeatSeconds);
    if (this.elapsed(reportSeconds)) this.queue(heartbeatDue, 'period');
    else if (heartbeatDue) this.queue(true, 'heartbeat');
  }

  private tickMs(): number {
    const { reportSeconds, heartbeatSeconds } = this.ctx.policy.intervals;
    return (Math.min(reportSeconds, heartbeatSeconds) * 1000) / 4;
  }

  /**
   * Whether a period has passed since the newest report, to within half a tick (timers drift).
   * Before the first report, and when the clock was set back, it has: rather report than go silent.
   */
  private elapsed(periodSeconds: number): boolean {
    const last = getChainHead(this.ctx.db)?.lastQueuedAt ?? null;
    const now = this.ctx.clock.now();
    return last === null || now < last || now - last + this.tickMs() / 2 >= periodSeconds * 1000;
  }

  /** Queue a report of everything since the last one (nothing when there is nothing new). */
  reportNow(reason: string): QueueOutcome | null {
    return this.queue(false, reason);
  }

  /** The laptop moved (or its first location was read): queue a report or heartbeat carrying the new location now. */
  reportLocationChange(): QueueOutcome | null {
    return this.queue(true, 'location changed');
  }

  /**
   * When nothing was queued for a heartbeat period, queue one report: everything since the last
   * one, or a bare heartbeat when there is nothing. Otherwise queue nothing: a report queued since
   * the last beat already proves liveness, and the builder puts every open finding in every report,
   * so "something to report" is always true while one is open and would double each tick.
   */
  heartbeatIfQuiet(): QueueOutcome | null {
    return this.elapsed(this.ctx.policy.intervals.heartbeatSeconds) ? this.queue(true, 'heartbeat') : null;
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
