/**
 * Wiring for signed reporting: the device identity, the report builder and the report and sync
 * services, built together from an AgentContext. agent/agent.ts `createServices` appends
 * `reporting.services` and passes `outboxPruner` to retention.
 */
import type { AgentContext, AgentService } from '../context';
import { loadOrCreateIdentity, type DeviceIdentity } from '../identity/device-identity';
import { getDeviceId } from '../identity/enrollment';
import type { KeyProtector } from '../identity/key-protector';
import type { RandomSource } from '../sync/backoff';
import { SyncService } from '../sync/sync-service';
import type { Uploader } from '../sync/uploader';
import { ReportBuilder } from './report-builder';
import { ReportSigner } from '../../protocol/report-crypto';
import { ReportService } from './report-service';
import { AuditFetchService, type AuditFeedClient } from '../audit/audit-fetch-service';

export interface ReportingOptions {
  /** How the private key is protected at rest. Default: the headless 0600 file. */
  readonly keyProtector?: KeyProtector;
  /** Default: fetch to policy.collectorUrl. */
  readonly uploader?: Uploader;
  readonly random?: RandomSource;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /** Byte budget per report envelope (default MAX_REPORT_BYTES). */
  readonly maxEnvelopeBytes?: number;
  /** Where the device's audit feed comes from (default: fetch to policy.collectorUrl). */
  readonly auditClient?: AuditFeedClient;
}

export interface Reporting {
  readonly identity: DeviceIdentity;
  readonly builder: ReportBuilder;
  readonly reportService: ReportService;
  readonly syncService: SyncService;
  /** Fetches and verifies what IT looked at and did on this device. */
  readonly auditService: AuditFetchService;
  /** In start order: report service first, so the sync loop starts with the catch-up report queued. */
  readonly services: readonly AgentService[];
}

/** Load (or create) the device identity and build the report and sync services. */
export function createReporting(ctx: AgentContext, options: ReportingOptions = {}): Reporting {
  const identity = loadOrCreateIdentity({ dataDir: ctx.dataDir, protector: options.keyProtector, logger: ctx.logger });
  const builder = new ReportBuilder({
    db: ctx.db,
    signer: new ReportSigner(identity.privateKey),
    agentVersion: ctx.agentVersion,
    maxPending: ctx.policy.outbox.maxReports,
    maxEnvelopeBytes: options.maxEnvelopeBytes,
  });
  const reportService = new ReportService(ctx, { builder, deviceId: () => getDeviceId(ctx.db) });
  const syncService = new SyncService(ctx, {
    identity,
    uploader: options.uploader,
    random: options.random,
    backoffBaseMs: options.backoffBaseMs,
    backoffCapMs: options.backoffCapMs,
    // The first report after enrollment covers everything stored while the device was not enrolled.
    // A heartbeat when there is nothing yet, so the collector sees the device's chain start at once.
    onEnrolled: () => {
      reportService.heartbeatIfQuiet();
      void auditService.fetchNow();
    },
  });
  const auditService = new AuditFetchService(ctx, { identity, ...(options.auditClient ? { client: options.auditClient } : {}) });
  return { identity, builder, reportService, syncService, auditService, services: [reportService, syncService, auditService] };
}
