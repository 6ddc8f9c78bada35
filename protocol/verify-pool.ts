/**
 * Ed25519 verification on a pool of worker threads, behind the `SignatureVerifier` seam.
 *
 * Jobs arriving in one event-loop turn go to a worker in one message (postMessage costs about as
 * much as one verify, so one message per report would eat the gain). A lone request with nothing in
 * flight, and any request while every worker already holds `maxInFlightPerWorker` jobs, is verified
 * inline instead: the first keeps an idle collector's latency at one verify, the second keeps the
 * main thread doing useful work rather than growing a queue.
 *
 * Workers cache device KeyObjects by SPKI (LRU-bounded), so a key is parsed once per worker, not per
 * report. Workers start lazily (a collector that never sees load never spawns one), hold the event
 * loop open only while they have jobs, and are terminated by `close()`; jobs still outstanding then
 * (or on a worker crash) are verified inline, so no caller ever waits on a dead thread.
 */
import type { KeyObject } from 'node:crypto';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { decodeSignature, spkiOf, SIGNATURE_BYTES, verifySignatureBytes, type SignatureVerifier } from './report-crypto';
import type { VerifyBatch, VerifyReply, VerifyWorkerData } from './verify-worker';
import { siblingModule, startModuleWorker } from './worker-start';

const WORKER_FILE = siblingModule(import.meta.url, 'verify-worker');

function startWorker(workerData: VerifyWorkerData): Worker {
  return startModuleWorker(WORKER_FILE, workerData);
}

export interface VerifierPoolOptions {
  /** Worker threads (default: available cores). 0 verifies everything inline. */
  readonly threads?: number;
  /** Jobs queued on one worker before further ones run inline. */
  readonly maxInFlightPerWorker?: number;
  /** Verify inline when nothing is in flight (lowest latency for light load). Default true. */
  readonly inlineWhenIdle?: boolean;
  /** Device keys each worker keeps parsed. */
  readonly keyCacheSize?: number;
}

export interface VerifierPoolStats {
  /** Verifications done on a worker thread. */
  readonly pooled: number;
  /** Verifications done on the calling thread (idle fast path, busy pool, closed pool, crash). */
  readonly inline: number;
  /** Messages sent to workers (each carries a batch of jobs). */
  readonly messages: number;
  /** Workers currently running. */
  readonly liveWorkers: number;
}

interface Job {
  readonly id: number;
  readonly key: KeyObject;
  readonly spki: string;
  readonly message: Uint8Array;
  readonly signature: Buffer;
  resolve(valid: boolean): void;
}

interface WorkerSlot {
  readonly worker: Worker;
  /** Jobs sent or queued to this worker, by id. */
  readonly outstanding: Map<number, Job>;
  /** Jobs waiting for this turn's message. */
  queued: Job[];
  alive: boolean;
  referenced: boolean;
}

/** Ed25519 verifier pool; `verify` is the SignatureVerifier to hand to the app. */
export class VerifierPool {
  readonly threads: number;
  private readonly maxInFlightPerWorker: number;
  private readonly inlineWhenIdle: boolean;
  private readonly keyCacheSize: number;
  private readonly slots: WorkerSlot[] = [];
  private readonly spkiOf = new WeakMap<KeyObject, string>();
  private flushScheduled = false;
  /** A verification was already requested in this event-loop turn. */
  private turnBusy = false;
  private closed = false;
  private nextId = 1;
  private inFlight = 0;
  private pooledCount = 0;
  private inlineCount = 0;
  private messageCount = 0;

  constructor(options: VerifierPoolOptions = {}) {
    this.threads = options.threads ?? defaultThreads();
    this.maxInFlightPerWorker = options.maxInFlightPerWorker ?? 64;
    this.inlineWhenIdle = options.inlineWhenIdle ?? true;
    this.keyCacheSize = options.keyCacheSize ?? 10_000;
    if (!Number.isInteger(this.threads) || this.threads < 0) throw new Error(`threads must be a non-negative integer, got ${this.threads}`);
  }

  /** The SignatureVerifier (bound, safe to pass around). */
  readonly verify: SignatureVerifier = (publicKey, message, signature) => {
    const raw = decodeSignature(signature);
    if (raw === null) return Promise.resolve(false);
    const slot = this.pickSlot();
    if (slot === null) {
      this.inlineCount += 1;
      return Promise.resolve(verifySignatureBytes(publicKey, message, raw));
    }
    return new Promise<boolean>((resolve) => {
      const job: Job = { id: this.nextId++, key: publicKey, spki: this.spki(publicKey), message, signature: raw, resolve };
      slot.outstanding.set(job.id, job);
      slot.queued.push(job);
      this.inFlight += 1;
      this.scheduleFlush();
    });
  };

  get stats(): VerifierPoolStats {
    return { pooled: this.pooledCount, inline: this.inlineCount, messages: this.messageCount, liveWorkers: this.slots.filter((slot) => slot.alive).length };
  }

  /** Terminate every worker; outstanding jobs are verified inline. Later calls verify inline. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        this.retire(slot);
        await slot.worker.terminate();
      }),
    );
  }

  /** A worker with room for one more job, spawning one if allowed; null means verify inline. */
  private pickSlot(): WorkerSlot | null {
    if (this.closed || this.threads === 0) return null;
    if (this.inlineWhenIdle && this.inFlight === 0 && !this.turnBusy) {
      // The first verification of an event-loop turn with nothing in flight: a lone request.
      this.turnBusy = true;
      this.scheduleFlush();
      return null;
    }
    let best: WorkerSlot | null = null;
    for (const slot of this.slots) if (best === null || slot.outstanding.size < best.outstanding.size) best = slot;
    if ((best === null || best.outstanding.size > 0) && this.slots.length < this.threads) return this.spawn();
    if (best === null || best.outstanding.size >= this.maxInFlightPerWorker) return null;
    return best;
  }

  private spawn(): WorkerSlot {
    const worker = startWorker({ keyCacheSize: this.keyCacheSize });
    const slot: WorkerSlot = { worker, outstanding: new Map(), queued: [], alive: true, referenced: true };
    worker.on('message', (reply: VerifyReply) => this.onReply(slot, reply));
    worker.on('error', () => this.retire(slot));
    worker.on('exit', () => this.retire(slot));
    this.slots.push(slot);
    return slot;
  }

  private onReply(slot: WorkerSlot, reply: VerifyReply): void {
    reply.ids.forEach((id, index) => {
      const job = slot.outstanding.get(id);
      if (!job) return;
      slot.outstanding.delete(id);
      this.inFlight -= 1;
      this.pooledCount += 1;
      job.resolve(reply.results[index] === 1);
    });
    this.updateRef(slot);
  }

  /** A worker is gone (closed, crashed or exited): finish its jobs here and forget it. */
  private retire(slot: WorkerSlot): void {
    if (!slot.alive) return;
    slot.alive = false;
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    for (const job of slot.outstanding.values()) {
      this.inFlight -= 1;
      this.inlineCount += 1;
      job.resolve(verifySignatureBytes(job.key, job.message, job.signature));
    }
    slot.outstanding.clear();
    slot.queued = [];
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate: every request handled in this poll phase joins the same message.
    setImmediate(() => {
      this.flushScheduled = false;
      this.turnBusy = false;
      for (const slot of this.slots) this.flush(slot);
    });
  }

  private flush(slot: WorkerSlot): void {
    if (!slot.alive || slot.queued.length === 0) return;
    const jobs = slot.queued;
    slot.queued = [];
    this.messageCount += 1;
    this.updateRef(slot);
    // One fresh buffer for all messages (and one for signatures), transferred rather than copied:
    // cloning a Buffer would copy its whole backing pool slab, not just the view.
    const ends = new Array<number>(jobs.length);
    let total = 0;
    jobs.forEach((job, index) => {
      total += job.message.byteLength;
      ends[index] = total;
    });
    const bytes = new Uint8Array(total);
    const signatures = new Uint8Array(jobs.length * SIGNATURE_BYTES);
    jobs.forEach((job, index) => {
      bytes.set(job.message, index === 0 ? 0 : ends[index - 1]);
      signatures.set(job.signature, index * SIGNATURE_BYTES);
    });
    const batch: VerifyBatch = { ids: jobs.map((job) => job.id), keys: jobs.map((job) => job.spki), ends, bytes, signatures };
    slot.worker.postMessage(batch, [bytes.buffer, signatures.buffer]);
  }

  /** Keep the process alive only while a worker owes us answers. */
  private updateRef(slot: WorkerSlot): void {
    const busy = slot.outstanding.size > 0;
    if (busy === slot.referenced) return;
    slot.referenced = busy;
    if (busy) slot.worker.ref();
    else slot.worker.unref();
  }

  private spki(key: KeyObject): string {
    let spki = this.spkiOf.get(key);
    if (spki === undefined) {
      spki = spkiOf(key);
      this.spkiOf.set(key, spki);
    }
    return spki;
  }
}

function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
