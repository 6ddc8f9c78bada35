/**
 * The sync loop: enroll once, then deliver pending outbox reports to the collector in seq order.
 *
 * Delivery is at-least-once from here and exactly-once at the collector (it acknowledges a repeat
 * of a stored seq+hash as 'duplicate'): a row is marked delivered only after a 200 ack, so a crash
 * between the collector's commit and our write just resends it. All state lives in the outbox
 * table, so a restarted agent resumes with the oldest pending row.
 *
 * Failures:
 * - unreachable, timeout, 429 or 5xx: retried with exponential backoff and full jitter (1 s to
 *   5 min by default, at least the collector's Retry-After); new reports do not cut a backoff short;
 * - the collector refuses THIS report (400/409/413...: SYNC_REJECTED): the row is marked rejected
 *   with the error, kept for the transparency view, and the loop moves on (the collector then sees
 *   a gap, which it flags): one bad row never blocks the rest, and nothing is retried in a loop;
 * - the collector refuses the DEVICE (unknown device, enrollment denied, other 401/403/404): nothing can be
 *   delivered, so the loop waits the backoff cap before trying again and reports 'offline'.
 *
 * - the local disk refuses a write (full, read-only, locked): the attempt is retried after a
 *   backoff, logged once by the storage health. A report the collector acknowledged but we could
 *   not mark delivered is simply sent again and acknowledged as a duplicate.
 *
 * Time: the agent's clock never orders anything (seq does). Each ack carries the collector's clock;
 * the skew estimate (collector minus agent, at the request's midpoint) is kept in kv `sync.clock`.
 */
import { assertNever } from '../../common/result';
import type { AgentContext, AgentService } from '../context';
import type { AgentEventMap } from '../events';
import { ensureEnrolled } from '../identity/enrollment';
import type { DeviceIdentity } from '../identity/device-identity';
import { setValue } from '../store/kv';
import { storageHealth } from '../store/storage-health';
import { countPending, markDelivered, markRejected, markRetry, markSending, nextPending } from '../store/outbox';
import { Backoff, type RandomSource } from './backoff';
import { checkCollectorUrl } from './collector-url';
import { FetchUploader, type RefusalCode, type Uploader } from './uploader';

export type SyncState = AgentEventMap['syncStateChanged']['state'];

/** The collector's clock relative to ours. */
export interface ClockSkew {
  /** Collector clock minus agent clock, ms (positive: the agent is behind). */
  readonly skewMs: number;
  /** Round trip of the request it was measured on, ms (the estimate's uncertainty is half of it). */
  readonly roundTripMs: number;
  readonly serverTime: number;
  /** Agent clock when measured. */
  readonly measuredAt: number;
}

export const CLOCK_SKEW_KEY = 'sync.clock';

export interface SyncStatus {
  readonly state: SyncState;
  readonly detail: string;
  readonly pending: number;
  readonly lastDeliveredSeq: number | null;
}

export interface SyncServiceOptions {
  readonly identity: DeviceIdentity;
  /** Default: a FetchUploader for policy.collectorUrl. */
  readonly uploader?: Uploader;
  readonly random?: RandomSource;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /** Called once the device has a device id (the report service can start making reports). */
  readonly onEnrolled?: (deviceId: string) => void;
}

/**
 * Whether a refusal concerns the whole device (wait and retry) rather than one report (record it
 * and move on). Anything not known to be about the report itself keeps the report: skipping one
 * loses it, waiting loses nothing.
 */
export function isDeviceRefusal(status: number, code: RefusalCode): boolean {
  switch (code) {
    case 'SIGNATURE_INVALID':
    case 'CHAIN_FORK':
    case 'PAYLOAD_INVALID':
    case 'PAYLOAD_TOO_LARGE':
    case 'UNSUPPORTED_MEDIA_TYPE':
      return false;
    case 'UNRECOGNIZED_ANSWER':
      // A proxy's page: only its status says which.
      return status === 401 || status === 403 || status === 404 || status === 405;
    case 'DEVICE_UNKNOWN':
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
    case 'ENROLLMENT_DENIED':
    case 'IDENTITY_CHANGED':
    case 'NO_ENROLLMENT_SECRET':
    case 'NOT_FOUND':
    case 'METHOD_NOT_ALLOWED':
    case 'RATE_LIMITED':
    case 'OVERLOADED':
    case 'CONFIG_INVALID':
    case 'DATABASE_TOO_NEW':
    case 'STORAGE_UNAVAILABLE':
    case 'SHUTTING_DOWN':
    case 'INTERNAL':
      return true;
    default:
      return assertNever(code, 'refusal code');
  }
}

export class SyncService implements AgentService {
  readonly name = 'sync';
  private running = false;
  private loop: Promise<void> | null = null;
  private uploader: Uploader | null = null;
  private readonly backoff: Backoff;
  private wakeIdle: (() => void) | null = null;
  private wakeAny: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private current: { state: SyncState; detail: string } = { state: 'disabled', detail: 'not started' };
  private lastDeliveredSeq: number | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly options: SyncServiceOptions,
  ) {
    this.backoff = new Backoff({ baseMs: options.backoffBaseMs, capMs: options.backoffCapMs, random: options.random });
  }

  /** The device identity (the transparency view verifies the outbox with `identity.publicKey`). */
  get identity(): DeviceIdentity {
    return this.options.identity;
  }

  start(): void {
    const raw = this.ctx.policy.collectorUrl;
    if (raw === null) {
      this.setState('disabled', 'No collectorUrl in the policy: reports stay on this device.');
      this.ctx.logger.log('info', 'No collector configured: reports stay on this device', {});
      return;
    }
    const checked = checkCollectorUrl(raw);
    if (!checked.ok) {
      // Input capture and the transparency view keep working; only sync is off.
      this.ctx.logger.log('error', 'Sync disabled: the collector URL is not allowed', { code: checked.error.code, reason: checked.error.message });
      this.setState('disabled', `${checked.error.code}: ${checked.error.message}`);
      return;
    }
    this.uploader = this.options.uploader ?? new FetchUploader(checked.value);
    this.running = true;
    this.unsubscribe = this.ctx.events.on('reportQueued', () => this.wakeIdle?.());
    this.loop = this.run(checked.value.href).catch((error: unknown) => {
      // A bug: log it loudly rather than leave an unhandled rejection; sync stays down.
      this.ctx.logger.log('error', 'Sync loop crashed', { reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      this.setState('offline', 'Sync stopped after an internal error; see the log.');
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.uploader instanceof FetchUploader) this.uploader.abort();
    this.wakeAny?.();
    await this.loop;
    this.loop = null;
  }

  /** Try now, even in the middle of a backoff (the UI's "retry now", tests). */
  syncNow(): void {
    this.wakeAny?.();
  }

  status(): SyncStatus {
    return { ...this.current, pending: countPending(this.ctx.db), lastDeliveredSeq: this.lastDeliveredSeq };
  }

  private async run(collectorUrl: string): Promise<void> {
    const uploader = this.uploader!;
    // Enroll (once per device; stored in kv).
    while (this.running) {
      let outcome;
      try {
        outcome = await ensureEnrolled({
          db: this.ctx.db,
          uploader,
          identity: this.options.identity,
          enrollmentSecret: this.ctx.policy.enrollmentSecret,
          collectorUrl,
          agentVersion: this.ctx.agentVersion,
          now: this.ctx.clock.now(),
        });
      } catch (error) {
        await this.retryAfterStorageFault(error, 'storing the enrollment');
        continue;
      }
      if (!this.running) return;
      if (outcome.kind === 'ok') {
        this.backoff.reset();
        this.ctx.logger.log('info', 'Enrolled', { deviceId: outcome.value.deviceId, collector: collectorUrl });
        this.setState('ok', `Enrolled as ${outcome.value.deviceId}.`);
        this.options.onEnrolled?.(outcome.value.deviceId);
        break;
      }
      if (outcome.kind === 'unreachable') {
        this.setState('offline', `Enrollment: ${outcome.message}`);
        const delay = Math.max(this.backoff.nextDelayMs(), outcome.retryAfterMs ?? 0);
        this.ctx.logger.log('warn', 'Enrollment failed: collector unreachable; retrying', { collector: collectorUrl, reason: outcome.message, retryInMs: delay });
        await this.sleep(delay, false);
      } else {
        this.ctx.logger.log('error', 'Enrollment refused', { code: outcome.code, status: outcome.status, reason: outcome.message });
        this.setState('offline', `SYNC_REJECTED: enrollment refused (${outcome.code}): ${outcome.message}`);
        await this.sleep(this.backoff.capMs, false);
      }
    }

    // Honour a backoff recorded before a restart, but never wait past the cap (the clock may have jumped).
    const first = nextPending(this.ctx.db);
    const waitMs = first?.nextAttemptAt != null ? Math.min(first.nextAttemptAt - this.ctx.clock.now(), this.backoff.capMs) : 0;
    if (waitMs > 0) await this.sleep(waitMs, false);

    while (this.running) {
      try {
        await this.deliverNext(uploader);
      } catch (error) {
        await this.retryAfterStorageFault(error, 'recording a delivery');
      }
    }
  }

  /** Back off after a write the disk refused; rethrow anything else (a bug). */
  private async retryAfterStorageFault(error: unknown, what: string): Promise<void> {
    if (storageHealth(this.ctx).absorb(error, what) === null) throw error;
    await this.sleep(this.backoff.nextDelayMs(), false);
  }

  /** Send the oldest pending report and record the outcome, or wait for one to be queued. */
  private async deliverNext(uploader: Uploader): Promise<void> {
    const entry = nextPending(this.ctx.db);
    if (entry === undefined) {
      await this.sleep(null, true);
      return;
    }
    // Only dropped rows have no body, and they are never pending.
    const envelope = entry.body!;
    const sentAt = this.ctx.clock.now();
    markSending(this.ctx.db, entry.seq, sentAt);
    const outcome = await uploader.sendReport(envelope);
    const receivedAt = this.ctx.clock.now();
    if (!this.running && outcome.kind !== 'ok') return;
    switch (outcome.kind) {
      case 'ok': {
        markDelivered(this.ctx.db, entry.seq, receivedAt);
        storageHealth(this.ctx).succeeded();
        this.recordSkew(outcome.value.serverTime, sentAt, receivedAt);
        this.backoff.reset();
        this.lastDeliveredSeq = entry.seq;
        this.ctx.logger.log('info', 'Report delivered', { seq: entry.seq, duplicate: outcome.value.status === 'duplicate', roundTripMs: receivedAt - sentAt });
        this.ctx.events.emit('reportDelivered', { seq: entry.seq, duplicate: outcome.value.status === 'duplicate' });
        if (this.current.state !== 'ok') this.setState('ok', 'Connected to the collector.');
        break;
      }
      case 'unreachable': {
        const delay = Math.max(this.backoff.nextDelayMs(), outcome.retryAfterMs ?? 0);
        markRetry(this.ctx.db, entry.seq, `SYNC_UNREACHABLE: ${outcome.message}`, receivedAt + delay);
        this.ctx.logger.log('warn', 'Delivery failed: collector unreachable; retrying', { seq: entry.seq, reason: outcome.message, retryInMs: delay });
        this.setState('offline', `SYNC_UNREACHABLE: ${outcome.message}`);
        await this.sleep(delay, false);
        break;
      }
      case 'rejected': {
        const message = `SYNC_REJECTED: ${outcome.status} ${outcome.code}: ${outcome.message}`;
        if (isDeviceRefusal(outcome.status, outcome.code)) {
          markRetry(this.ctx.db, entry.seq, message, receivedAt + this.backoff.capMs);
          this.ctx.logger.log('error', 'The collector refuses this device', { code: outcome.code, status: outcome.status, reason: outcome.message, retryInMs: this.backoff.capMs });
          this.setState('offline', message);
          await this.sleep(this.backoff.capMs, false);
        } else {
          markRejected(this.ctx.db, entry.seq, message, receivedAt);
          this.ctx.logger.log('error', 'The collector rejected a report', { seq: entry.seq, code: outcome.code, status: outcome.status, reason: outcome.message });
          // Connectivity is fine; say so, and name the refusal so the tray can surface it.
          this.setState('ok', `Connected; report ${entry.seq} was rejected (${outcome.code}).`);
        }
        break;
      }
      default:
        assertNever(outcome, 'upload outcome');
    }
  }

  private recordSkew(serverTime: number, sentAt: number, receivedAt: number): void {
    const skew: ClockSkew = {
      skewMs: Math.round(serverTime - (sentAt + receivedAt) / 2),
      roundTripMs: receivedAt - sentAt,
      serverTime,
      measuredAt: receivedAt,
    };
    setValue(this.ctx.db, CLOCK_SKEW_KEY, skew);
  }

  /** Wait `ms` (null: until woken). `idle` sleeps also wake when a report is queued. */
  private sleep(ms: number | null, idle: boolean): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        this.wakeAny = null;
        this.wakeIdle = null;
        resolve();
      };
      if (ms !== null) timer = setTimeout(done, ms);
      this.wakeAny = done;
      if (idle) this.wakeIdle = done;
    });
  }

  private setState(state: SyncState, detail: string): void {
    if (this.current.state === state && this.current.detail === detail) return;
    this.current = { state, detail };
    this.ctx.events.emit('syncStateChanged', { state, detail });
  }
}
