/**
 * SIEM push: state changes of findings (new, severity changed, resolved) as OCSF Detection Findings,
 * POSTed to a SIEM in a format it ingests without code:
 *
 * - `hec`: Splunk HTTP Event Collector JSON (`/services/collector/event`), one
 *   `{"time","host","source","sourcetype","event"}` object per line, `Authorization: Splunk <token>`;
 *   also what Elastic, Cribl, Sumo Logic and others accept as HEC-compatible input.
 * - `webhook`: `{"events":[...]}` as JSON with `Authorization: Bearer <token>`.
 *
 * Each tick first moves changes into the on-disk queue (then advances the push cursor: a crash in
 * between sends a batch twice, never loses one; events carry a stable metadata.uid to deduplicate),
 * then sends queued batches oldest first, removing each only on a 2xx. A failed send is retried on
 * later ticks with exponential backoff up to a minute; while the receiver is down, changes wait in
 * the queue and, past its bound, in the database (the cursor stops), so nothing is lost.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CollectorConfig } from '../config';
import { toFleetFinding } from '../routes/it';
import { toOcsf, type OcsfDetectionFinding } from '../ocsf';
import type { SqlDatabase } from '../storage/sql';
import { markQueued, readChanges } from './changes';
import { DiskQueue } from './disk-queue';

export type SiemConfig = NonNullable<CollectorConfig['siem']>;

const MAX_BACKOFF_MS = 60_000;

/** The HTTP body and headers for one batch. */
export function formatBatch(format: SiemConfig['format'], events: readonly OcsfDetectionFinding[], token: string | undefined): { body: string; headers: Record<string, string> } {
  switch (format) {
    case 'hec':
      return {
        body: events
          .map((event) => JSON.stringify({ time: event.time / 1000, host: event.device.hostname, source: 'telltale', sourcetype: 'ocsf:detection_finding', event }))
          .join('\n'),
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Splunk ${token}` }) },
      };
    case 'webhook':
      return { body: JSON.stringify({ events }), headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } };
    default: {
      const never: never = format;
      throw new Error(`Unknown SIEM format ${String(never)}`);
    }
  }
}

export class SiemPusher {
  private readonly queue: DiskQueue;
  private failures = 0;
  private retryAt = 0;
  /** Outcome counts since start, for logs and tests. */
  readonly stats = { queuedEvents: 0, sentBatches: 0, failedSends: 0 };

  constructor(
    private readonly options: { database: SqlDatabase; config: SiemConfig; clock: () => number; version: string; log: FastifyBaseLogger },
  ) {
    this.queue = new DiskQueue(options.config.queueDir);
  }

  /** Queue new changes, then send what is queued. Never throws: failures are logged and retried. */
  async tick(): Promise<void> {
    try {
      await this.collect();
    } catch (error) {
      this.options.log.error({ err: error }, 'SIEM push: reading changes failed');
    }
    await this.flush();
  }

  private async collect(): Promise<void> {
    const { database, config } = this.options;
    for (;;) {
      // The queue's bound holds changes in the database instead: the cursor stops until it drains.
      if (this.queue.size >= config.maxQueuedBatches) return;
      const { changes, lastCursor } = await readChanges(database, config.batchSize);
      if (lastCursor === null) return;
      if (changes.length > 0) {
        const events = changes.map((change) => toOcsf(toFleetFinding(change.finding), change.hostname, this.options.version, null, change.activity));
        this.queue.enqueue(JSON.stringify(events));
        this.stats.queuedEvents += events.length;
      }
      await database.transaction((tx) => markQueued(tx, changes, lastCursor));
    }
  }

  private async flush(): Promise<void> {
    const { config, clock, log } = this.options;
    if (clock() < this.retryAt) return;
    for (const name of this.queue.names()) {
      const events = JSON.parse(this.queue.read(name)) as OcsfDetectionFinding[];
      const { body, headers } = formatBatch(config.format, events, config.token);
      let status = 0;
      try {
        const response = await fetch(config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(config.timeoutMs) });
        status = response.status;
        await response.arrayBuffer().catch(() => undefined);
      } catch (error) {
        log.warn({ err: error instanceof Error ? error.message : String(error) }, 'SIEM push: receiver unreachable');
      }
      if (status >= 200 && status < 300) {
        this.queue.remove(name);
        this.stats.sentBatches += 1;
        this.failures = 0;
        continue;
      }
      this.stats.failedSends += 1;
      this.failures += 1;
      this.retryAt = clock() + Math.min(MAX_BACKOFF_MS, config.intervalMs * 2 ** (this.failures - 1));
      log.warn({ status, queuedBatches: this.queue.size, retryInMs: this.retryAt - clock() }, 'SIEM push: batch not accepted; kept on disk');
      return;
    }
  }
}
