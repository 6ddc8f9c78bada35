/**
 * The SQLite commit path on a thread of its own: the commit queue hands each batch of verified
 * reports to a worker thread (writer-worker.ts) that holds a second connection to the same database
 * file and runs `ingestReports` there, so the statements and the commit's fsync never block the
 * event loop, which keeps parsing, checking and verifying requests meanwhile.
 *
 * WAL mode lets the main thread's connection keep reading while the writer writes. The main
 * connection still writes the rare rest (enrolment, IT triage, sweeps); SQLite's lock orders those
 * against the writer's transactions (busy_timeout), and every write is one transaction either way.
 *
 * A report crosses as its canonical text (the signed bytes) and is parsed back on the thread, so it
 * arrives exactly as verified.
 * Errors come back as data (wire form below) and are rebuilt with the code that storage/faults.ts
 * and the route read. If the thread dies, every batch it held is answered 503 STORAGE_UNAVAILABLE
 * (whether it committed is unknown: the agent sends it again, and a report already stored is then
 * a duplicate), and the next batch starts a new thread.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../../protocol/worker-start';
import { CollectorError, type CollectorErrorCode } from '../errors';
import type { CorrelationSettings } from '../location/correlate';
import type { BatchOutcome, VerifiedReport } from './ingest';

const WORKER_FILE = siblingModule(import.meta.url, 'writer-worker');
/** How long close() waits for the thread to exit by itself before terminating it. */
const CLOSE_WAIT_MS = 5_000;

/** An error as it crosses the thread boundary. */
export type WireError =
  | { readonly kind: 'collector'; readonly code: CollectorErrorCode; readonly message: string; readonly statusCode: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly code?: string };

/** A batch outcome as it crosses the thread boundary. */
export type WireOutcome = Exclude<BatchOutcome, { status: 'failed' }> | { readonly status: 'failed'; readonly error: WireError };

/**
 * A verified report as it crosses to the thread: its canonical text stands for the body (the thread
 * parses it back), because structured-cloning a parsed body costs the main thread several times
 * what copying one string does, and the canonical text is exactly what was verified.
 */
export type WireReport = Omit<VerifiedReport, 'body'>;

/** A batch to commit, or the request to close the connection and exit. */
export type WriterRequest = { readonly id: number; readonly batch: readonly WireReport[] } | { readonly close: true };

export type WriterReply = { readonly id: number; readonly outcomes: readonly WireOutcome[] } | { readonly id: number; readonly error: WireError };

export interface WriterWorkerData {
  readonly file: string;
  readonly correlation: CorrelationSettings;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof CollectorError) {
    return { kind: 'collector', code: error.code, message: error.message, statusCode: error.statusCode, ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }) };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { kind: 'error', name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { kind: 'error', name: 'Error', message: String(error) };
}

export function fromWireError(wire: WireError): Error {
  if (wire.kind === 'collector') return new CollectorError(wire.code, wire.message, wire.statusCode, wire.retryAfterSeconds);
  return Object.assign(new Error(wire.message), { name: wire.name, ...(wire.code === undefined ? {} : { code: wire.code }) });
}

export function toWireReport(report: VerifiedReport): WireReport {
  return { canonical: report.canonical, hash: report.hash, sig: report.sig, receivedAt: report.receivedAt, egress: report.egress ?? null };
}

/** The verified report again: its body parsed from the canonical text that was signed. */
export function fromWireReport(wire: WireReport): VerifiedReport {
  return { ...wire, body: JSON.parse(wire.canonical) as VerifiedReport['body'] };
}

export interface IngestWriterOptions extends WriterWorkerData {
  /** Retry-After for batches a dead thread could not answer. */
  readonly retryAfterSeconds: number;
}

interface PendingWrite {
  resolve(outcomes: BatchOutcome[]): void;
  reject(error: unknown): void;
}

/** The writer thread, started on the first batch; `write` is the commit queue's write function. */
export class IngestWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, PendingWrite>();
  private nextId = 1;
  private started = 0;
  private closed = false;

  constructor(private readonly options: IngestWriterOptions) {}

  /** Threads started so far (1 unless one died). */
  get threadsStarted(): number {
    return this.started;
  }

  write(batch: readonly VerifiedReport[]): Promise<BatchOutcome[]> {
    if (this.closed) return Promise.reject(new CollectorError('SHUTTING_DOWN', 'The collector is shutting down; retry later.', 503, this.options.retryAfterSeconds));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<BatchOutcome[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Only a thread with work holds the process open.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, batch: batch.map(toWireReport) } satisfies WriterRequest);
    });
  }

  /**
   * Stop the thread; the commit queue has drained first, so nothing is pending. The thread closes
   * its connection and exits on its own (a clean SQLite close, and its CPU profile when one is
   * being taken); one that has not exited within CLOSE_WAIT_MS is terminated.
   */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref();
      worker.postMessage({ close: true } satisfies WriterRequest);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), CLOSE_WAIT_MS);
      });
      if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
      clearTimeout(timer);
    }
    this.failAll(new CollectorError('SHUTTING_DOWN', 'The collector is shutting down; retry later.', 503, this.options.retryAfterSeconds));
  }

  private start(): Worker {
    const worker = startModuleWorker(WORKER_FILE, { file: this.options.file, correlation: this.options.correlation } satisfies WriterWorkerData);
    this.worker = worker;
    this.started += 1;
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) waiting.reject(fromWireError(reply.error));
      else waiting.resolve(reply.outcomes.map((outcome) => (outcome.status === 'failed' ? { status: 'failed', error: fromWireError(outcome.error) } : outcome)));
    });
    const lost = (reason: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failAll(new CollectorError('STORAGE_UNAVAILABLE', `The storage writer thread stopped (${reason}); retry later.`, 503, this.options.retryAfterSeconds));
    };
    worker.on('error', (error) => lost(error.message.split('\n')[0]!.slice(0, 200)));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return worker;
  }

  private failAll(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const write of waiting) write.reject(error);
  }
}
