/**
 * Group commits: verified reports wait here and are written in one transaction per tick.
 *
 * Each submitter gets a promise that settles only after the transaction holding its report has
 * committed, so an acknowledgement always means "durably stored". The queue is bounded: when
 * `maxPending` reports are already waiting, `submit` refuses at once (the route answers 429 with
 * Retry-After) instead of letting memory and latency grow without limit.
 */
import { CollectorError } from './errors';
import type { BatchOutcome, IngestOutcome, VerifiedReport } from './ingest/ingest';

export interface CommitQueueOptions {
  /** Most reports waiting (not yet in a transaction) before submit refuses. */
  readonly maxPending: number;
  /** Most reports in one transaction. */
  readonly maxBatch: number;
  /** Seconds a refused client should wait. */
  readonly retryAfterSeconds: number;
}

interface Pending {
  readonly report: VerifiedReport;
  resolve(outcome: IngestOutcome): void;
  reject(error: unknown): void;
}

export interface CommitQueueStats {
  readonly batches: number;
  readonly reports: number;
  readonly largestBatch: number;
  /** Reports whose outcome was decided (not failed) in a committed transaction. */
  readonly decided: number;
}

export class CommitQueue {
  private pending: Pending[] = [];
  private running: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  private batches = 0;
  private reports = 0;
  private largestBatch = 0;
  private decided = 0;
  private lastFailure: { readonly at: number; readonly message: string } | null = null;

  constructor(
    private readonly write: (batch: readonly VerifiedReport[]) => Promise<BatchOutcome[]>,
    private readonly options: CommitQueueOptions,
  ) {}

  /** Queue a report; resolves with its outcome once committed. Throws OVERLOADED when full. */
  submit(report: VerifiedReport): Promise<IngestOutcome> {
    if (this.closed) throw new CollectorError('SHUTTING_DOWN', 'The collector is shutting down; retry later.', 503, this.options.retryAfterSeconds);
    if (this.pending.length >= this.options.maxPending) {
      throw new CollectorError(
        'OVERLOADED',
        `The collector has ${this.pending.length} reports waiting to be written; retry later.`,
        429,
        this.options.retryAfterSeconds,
      );
    }
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.pending.push({ report, resolve, reject });
      this.schedule();
    });
  }

  get depth(): number {
    return this.pending.length;
  }

  get stats(): CommitQueueStats {
    return { batches: this.batches, reports: this.reports, largestBatch: this.largestBatch, decided: this.decided };
  }

  /** Why the last batch failed as a whole (its transaction could not commit), or null once one commits again. */
  get failure(): { readonly at: number; readonly message: string } | null {
    return this.lastFailure;
  }

  /** Refuse new reports and wait until everything queued is committed. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running || this.pending.length > 0) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate lets every request parsed in this event-loop turn join the same transaction.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running) this.start();
    });
  }

  private start(): void {
    const batch = this.pending.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    this.running = this.commit(batch).finally(() => {
      this.running = null;
      if (this.pending.length > 0) this.schedule();
    });
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const outcomes = await this.write(batch.map((item) => item.report));
      this.batches += 1;
      this.reports += batch.length;
      this.largestBatch = Math.max(this.largestBatch, batch.length);
      this.lastFailure = null;
      batch.forEach((item, index) => {
        const outcome = outcomes[index];
        if (outcome === undefined) item.reject(new Error('Storage returned fewer outcomes than reports'));
        else if (outcome.status === 'failed') item.reject(outcome.error);
        else {
          this.decided += 1;
          item.resolve(outcome);
        }
      });
    } catch (error) {
      this.lastFailure = { at: Date.now(), message: error instanceof Error ? error.message : String(error) };
      for (const item of batch) item.reject(error);
    }
  }
}
