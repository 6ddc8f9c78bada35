/**
 * Audit transparency: fetch the collector's audit entries about this device (every IT read and
 * action, common/audit.ts), verify them, store them for the transparency view and the export.
 *
 * When: once at start (after enrollment), every report period, and shortly after each delivered
 * report (IT usually looks at a device because a report arrived). Each fetch asks for the entries
 * after the newest stored one and pages until the collector says there are no more.
 *
 * What is checked before anything is stored, so a forged or altered feed never reaches the view:
 * - the feed is signed by the collector key pinned in kv `audit.collectorKey` (pinned on the first
 *   feed that verifies; a feed under another key is refused with one log line per distinct key,
 *   since re-pinning would let whoever holds the new key rewrite what the employee sees);
 * - every entry's hash matches its fields (protocol/report-crypto.ts verifyAuditFeed);
 * - the feed is for this device, entries concern this device (or the whole fleet), their seqs rise
 *   strictly after the newest stored one, and where two entries are adjacent in the collector's
 *   chain (seq n and n+1) the second names the first's hash as prevHash. Entries about other devices
 *   sit between this device's entries in the one chain, so only adjacent links can be checked here.
 *
 * A refused page stores nothing and moves no cursor; the next fetch asks again from the same place.
 */
import { Value } from '@sinclair/typebox/value';
import { DEVICE_AUDIT_PAGE, DeviceAuditFeedSchema, type AuditEntry, type DeviceAuditFeed, type DeviceAuditRequest } from '../../common/audit';
import { assertNever } from '../../common/result';
import { signDeviceAuditRequest, verifyAuditFeed } from '../../protocol/report-crypto';
import type { AgentContext, AgentService } from '../context';
import type { DeviceIdentity } from '../identity/device-identity';
import { getDeviceId } from '../identity/enrollment';
import { insertAuditEntries, lastAuditEntry } from '../store/audit-entries';
import { getValue, setValue } from '../store/kv';
import { storageHealth } from '../store/storage-health';
import { checkCollectorUrl } from '../sync/collector-url';
import { CLOCK_SKEW_KEY, type ClockSkew } from '../sync/sync-service';
import { FetchUploader, type UploadOutcome } from '../sync/uploader';

/** kv key of the pinned collector audit key (SPKI DER, base64). */
export const AUDIT_COLLECTOR_KEY = 'audit.collectorKey';

/** Most pages one fetch reads, so a huge backlog is taken over several periods rather than in one burst. */
const MAX_PAGES_PER_FETCH = 20;
/** Wait after a delivered report before asking, so a burst of deliveries makes one fetch. */
const AFTER_DELIVERY_DELAY_MS = 2_000;

/** How the service reaches the collector's feed: FetchUploader in production, anything answering the same in tests. */
export interface AuditFeedClient {
  fetchDeviceAudit(request: DeviceAuditRequest): Promise<UploadOutcome<DeviceAuditFeed>>;
  abort?(): void;
}

/** What one fetch came to. */
export type AuditFetchOutcome =
  | { readonly kind: 'fetched'; readonly stored: number; readonly pages: number }
  | { readonly kind: 'not-enrolled' }
  /** The collector does not serve the audit feed (404 on the route). */
  | { readonly kind: 'unsupported' }
  | { readonly kind: 'disabled'; readonly reason: string }
  | { readonly kind: 'unreachable'; readonly message: string }
  | { readonly kind: 'refused'; readonly reason: string };

export interface AuditFetchServiceOptions {
  readonly identity: DeviceIdentity;
  /** Default: a FetchUploader for policy.collectorUrl. */
  readonly client?: AuditFeedClient;
  /** Period between fetches, ms. Default: the policy's report period. */
  readonly intervalMs?: number;
  /** Delay after a delivered report before fetching, ms (default 2 s). */
  readonly afterDeliveryDelayMs?: number;
}

export class AuditFetchService implements AgentService {
  readonly name = 'audit-fetch';
  private client: AuditFeedClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private running: Promise<AuditFetchOutcome> | null = null;
  private again = false;
  private stopped = false;
  /** The last refusal logged, so a collector that keeps sending the same bad feed logs one line, not one per period. */
  private lastLogged: string | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly options: AuditFetchServiceOptions,
  ) {}

  start(): void {
    const raw = this.ctx.policy.collectorUrl;
    if (raw === null) return;
    if (this.options.client) this.client = this.options.client;
    else {
      const checked = checkCollectorUrl(raw);
      // The sync service logs a refused URL; nothing to fetch from then.
      if (!checked.ok) return;
      this.client = new FetchUploader(checked.value);
    }
    this.unsubscribe = this.ctx.events.on('reportDelivered', () => this.fetchSoon());
    this.timer = setInterval(() => void this.fetchNow(), this.options.intervalMs ?? this.ctx.policy.intervals.reportSeconds * 1000);
    this.timer.unref();
    void this.fetchNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.timer = this.soon = null;
    this.client?.abort?.();
    await this.running;
  }

  /**
   * Fetch now (a fetch already under way is followed by one more, so nothing asked for is missed).
   * Resolves with what the fetch came to; never rejects for an expected failure.
   */
  fetchNow(): Promise<AuditFetchOutcome> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.fetchAll()
      .catch((error: unknown): AuditFetchOutcome => {
        if (storageHealth(this.ctx).absorb(error, 'storing audit entries') !== null) return { kind: 'unreachable', message: 'the disk refused the write' };
        this.ctx.logger.log('error', 'Audit fetch failed', { reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        return { kind: 'refused', reason: 'internal error' };
      })
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.fetchNow();
        }
      });
    return this.running;
  }

  private fetchSoon(): void {
    if (this.stopped || this.soon !== null) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      void this.fetchNow();
    }, this.options.afterDeliveryDelayMs ?? AFTER_DELIVERY_DELAY_MS);
    this.soon.unref();
  }

  private async fetchAll(): Promise<AuditFetchOutcome> {
    const client = this.client;
    if (client === null) return { kind: 'disabled', reason: 'no collector' };
    const deviceId = getDeviceId(this.ctx.db);
    if (deviceId === undefined) return { kind: 'not-enrolled' };
    let stored = 0;
    let pages = 0;
    while (pages < MAX_PAGES_PER_FETCH && !this.stopped) {
      const last = lastAuditEntry(this.ctx.db);
      const request = signDeviceAuditRequest({ deviceId, after: last?.seq ?? 0, signedAt: this.collectorNow() }, this.options.identity.privateKey);
      const outcome = await client.fetchDeviceAudit(request);
      if (this.stopped) break;
      pages++;
      switch (outcome.kind) {
        case 'ok':
          break;
        case 'unreachable':
          return { kind: 'unreachable', message: outcome.message };
        case 'rejected':
          if (outcome.status === 404 && (outcome.code === 'NOT_FOUND' || outcome.code === 'UNRECOGNIZED_ANSWER')) {
            // A collector from before the audit feed: nothing is wrong, there is just nothing to show.
            if (this.lastLogged !== 'unsupported') {
              this.lastLogged = 'unsupported';
              this.ctx.logger.log('info', 'The collector has no audit feed (POST /v1/device-audit answered 404); will ask again later', {});
            }
            return { kind: 'unsupported' };
          }
          return this.refuse(`the collector refused the request (${outcome.status} ${outcome.code}: ${outcome.message})`);
        default:
          return assertNever(outcome, 'audit fetch outcome');
      }
      const problem = this.problemOf(outcome.value, deviceId, last);
      if (problem !== null) return this.refuse(problem);
      const entries = outcome.value.body.entries;
      const added = insertAuditEntries(this.ctx.db, entries, this.ctx.clock.now());
      stored += added;
      this.lastLogged = null;
      if (added > 0) {
        const newest = entries[entries.length - 1]!;
        this.ctx.events.emit('auditChanged', { added, newestSeq: newest.seq });
      }
      if (!outcome.value.body.more || entries.length === 0) break;
    }
    if (stored > 0) this.ctx.logger.log('info', 'Audit entries about this device received', { stored, pages });
    return { kind: 'fetched', stored, pages };
  }

  /** Why this feed must not be stored, or null. Pins the collector key on the first feed that verifies. */
  private problemOf(feed: DeviceAuditFeed, deviceId: string, last: { seq: number; hash: string } | undefined): string | null {
    if (!Value.Check(DeviceAuditFeedSchema, feed)) return 'the feed is not in the audit feed format';
    const pinned = getValue<string>(this.ctx.db, AUDIT_COLLECTOR_KEY) ?? null;
    if (pinned !== null && feed.collectorKey !== pinned) {
      return `the feed is signed by a collector key other than the one pinned on first use (${short(feed.collectorKey)} instead of ${short(pinned)}); audit entries are not accepted until this is resolved`;
    }
    if (!verifyAuditFeed(feed, pinned)) return 'the feed signature or an entry hash does not verify';
    if (feed.body.deviceId !== deviceId) return `the feed is for device ${feed.body.deviceId}, not this one`;
    const chainProblem = chainProblemOf(feed.body.entries, deviceId, last);
    if (chainProblem !== null) return chainProblem;
    if (pinned === null) {
      setValue(this.ctx.db, AUDIT_COLLECTOR_KEY, feed.collectorKey);
      this.ctx.logger.log('info', 'Collector audit key pinned', { key: short(feed.collectorKey) });
    }
    return null;
  }

  private refuse(reason: string): AuditFetchOutcome {
    if (reason !== this.lastLogged) {
      this.lastLogged = reason;
      this.ctx.logger.log('error', 'Audit feed refused', { reason });
    }
    return { kind: 'refused', reason };
  }

  /** Our clock moved by the collector's skew (measured by sync), so the request's signedAt falls inside the collector's window. */
  private collectorNow(): number {
    const skew = getValue<ClockSkew>(this.ctx.db, CLOCK_SKEW_KEY);
    const now = this.ctx.clock.now();
    return Math.max(0, Math.round(now + (skew && Number.isFinite(skew.skewMs) ? skew.skewMs : 0)));
  }
}

/**
 * Why these entries do not continue the stored ones, or null: each is about this device (or the
 * whole fleet), seqs rise strictly after the newest stored entry, and adjacent seqs link by hash.
 */
export function chainProblemOf(entries: readonly AuditEntry[], deviceId: string, last: { seq: number; hash: string } | undefined): string | null {
  if (entries.length > DEVICE_AUDIT_PAGE) return `the feed carries ${entries.length} entries, more than a page`;
  let previous = last;
  for (const entry of entries) {
    if (entry.deviceId !== null && entry.deviceId !== deviceId) return `entry ${entry.seq} is about another device`;
    if (previous !== undefined && entry.seq <= previous.seq) return `entry ${entry.seq} does not come after entry ${previous.seq}`;
    if (previous !== undefined && entry.seq === previous.seq + 1 && entry.prevHash !== previous.hash) {
      return `entry ${entry.seq} does not link to entry ${previous.seq} (its prevHash is not that entry's hash)`;
    }
    previous = entry;
  }
  return null;
}

/** A key's short name for log lines: its last 12 base64 characters (the SPKI prefix is the same for every Ed25519 key). */
function short(spki: string): string {
  return `…${spki.slice(-12)}`;
}
