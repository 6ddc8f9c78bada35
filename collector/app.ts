/**
 * The collector as a Fastify app (fastify/demo shape): `buildCollector` opens storage, wires the
 * services and routes, starts the silent-device sweeps, and returns the instance without listening. `server.ts` listens; tests call
 * `app.inject` or listen on port 0.
 */
import type { KeyObject } from 'node:crypto';
import os from 'node:os';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { TokenRegistry } from './auth';
import { CommitQueue } from './commit-queue';
import { parseCollectorConfig, type CollectorConfig, type CollectorConfigInput } from './config';
import { assertNever } from '../common/result';
import { CollectorError, errorBody, type CollectorErrorCode } from './errors';
import { refuseBadText } from './edge';
import { agentRoutes } from './routes/agent';
import { dashboardRoutes } from './routes/dashboard';
import { enrollDevice, type EnrollInput } from './ingest/enroll';
import { ingestReports } from './ingest/ingest';
import { IngestWriter } from './ingest/writer-thread';
import { everyInterval, startSilenceSweeps, type Schedule, type SilenceSweeps } from './ingest/silence';
import { itRoutes } from './routes/it';
import { SiemPusher } from './siem/push';
import { triageRoutes } from './routes/triage';
import { deviceAuditRoutes } from './routes/device-audit';
import { locationRoutes } from './routes/location';
// Registers the device list's farmCluster filter before the IT routes build their query schema.
import './location/farm-filter';
import { AsnDatabase, defaultAsnDatabaseDirs } from './location/asn-database';
import { DEFAULT_CORRELATION, sweepStaleClusters, type CorrelationSettings } from './location/correlate';
import { HealthMonitor, INTEGRITY_INTERVAL_MS } from './health';
import { HealthSchema } from './schemas';
import { openPostgresStorage } from './storage/postgres';
import type { Queryable, SqlDatabase } from './storage/sql';
import { openSqliteStorage } from './storage/sqlite';
import { storageFaultOf } from './storage/faults';
import { textLogStream } from './log-text';
import { CollectorStore } from './storage/store';
import { CollectorLimits } from './limits';
import { LruMap } from './lru';
import { publicKeyFromSpki, type SignatureVerifier } from '../protocol/report-crypto';
import { VerifierPool } from '../protocol/verify-pool';

/** How often clusters are checked for members that stopped reporting. */
const CLUSTER_SWEEP_INTERVAL_MS = 10 * 60_000;

/** The collector's version, reported in OCSF metadata. */
export const COLLECTOR_VERSION = '0.1.0';

/** What routes share, reachable as `app.collector`. */
export interface CollectorServices {
  readonly config: CollectorConfig;
  readonly store: CollectorStore;
  readonly queue: CommitQueue;
  readonly tokens: TokenRegistry;
  readonly clock: () => number;
  readonly verifier: SignatureVerifier;
  /** The worker pool behind `verifier` (null when a verifier was injected); closed with the app. */
  readonly verifierPool: VerifierPool | null;
  readonly version: string;
  /** Enrolled devices' keys, parsed once and cached (LRU-bounded; keys never change for a device id). */
  readonly keys: LruMap<string, KeyObject>;
  /** The device's public key, or undefined when no such device is enrolled. */
  deviceKey(deviceId: string): Promise<KeyObject | undefined>;
  /** Enroll a key, or return the device already enrolled with it (idempotent); `admitNew` may refuse a new device. */
  enroll(input: EnrollInput, admitNew: (tx: Queryable) => Promise<void>): Promise<{ deviceId: string; created: boolean }>;
  /** Limits that count outcomes (verified reports, failed attempts, enrolments). */
  readonly limits: CollectorLimits;
  /** config.silentAfterMinutes in ms. */
  readonly silentAfterMs: number;
  /** The SIEM push when config.siem is set. */
  readonly siem: SiemPusher | null;
  /** Offline IP → ASN/country (empty when no database is installed). */
  readonly asn: AsnDatabase;
}

declare module 'fastify' {
  interface FastifyInstance {
    collector: CollectorServices;
  }
}

/** Seams tests and benchmarks may replace. */
export interface CollectorOptions {
  /** Wall clock (epoch ms). */
  readonly clock?: () => number;
  /** Signature check; defaults to a worker-thread VerifierPool of config.verifyThreads threads. */
  readonly verifier?: SignatureVerifier;
  /** Storage already opened (e.g. PostgreSQL in a per-test schema); otherwise config.storage is opened. */
  readonly database?: SqlDatabase;
  /** The timer behind silent-device sweeps; defaults to setInterval. */
  readonly schedule?: Schedule;
  /** An ASN database already loaded (tests and benches share one); otherwise loaded from config.location. */
  readonly asn?: AsnDatabase;
}

/**
 * Build the collector app. Validates `input` (throws CollectorError CONFIG_INVALID), opens and
 * migrates storage, sweeps it once for silent devices (throws if that fails), and closes it again
 * when the app closes (after committing queued reports).
 */
/**
 * Signature-checking threads when the configuration names none: one per core beyond the two that the
 * event loop and the SQLite writer thread keep busy under load. Handing a report to a worker costs
 * each side about what the check itself does, so on a 2-core machine the pool only took CPU from the
 * threads that were already short of it (measured: 0.83-0.93 ms of CPU per stored report with two
 * verify threads, 0.61 ms verifying on the event loop, docs/benchmarks.md).
 */
export function defaultVerifyThreads(cores = os.availableParallelism()): number {
  return Math.max(0, cores - 2);
}

export async function buildCollector(input: CollectorConfigInput | CollectorConfig, options: CollectorOptions = {}): Promise<FastifyInstance> {
  const config = parseCollectorConfig(input);
  const database = options.database ?? (await openStorage(config));
  const store = new CollectorStore(database);
  const clock = options.clock ?? Date.now;
  const silentAfterMs = config.silentAfterMinutes * 60_000;
  const keys = new LruMap<string, KeyObject>(config.keyCacheSize);
  // Workers start lazily, on the first burst of reports; an injected verifier replaces the pool.
  const pool = options.verifier ? null : new VerifierPool({ threads: config.verifyThreads ?? defaultVerifyThreads(), keyCacheSize: config.keyCacheSize });
  const verifier: SignatureVerifier = options.verifier ?? (pool as VerifierPool).verify;

  const app = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel, ...(config.logFormat === 'text' ? { stream: textLogStream(process.stdout) } : {}) },
    bodyLimit: config.bodyLimit,
    trustProxy: config.location.trustedProxies.length > 0 ? config.location.trustedProxies : config.trustProxy,
    // Signed payloads must be checked exactly as received: no type coercion, no silently dropped
    // extra properties, no defaults filled in (any of these would change the bytes we canonicalize).
    // `unit` annotates timing fields for the views (common/timing.ts); it constrains nothing.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, keywords: ['unit'] } },
    return503OnClosing: true,
    // The router's own refusals (a path parameter over 100 characters, a malformed URL) in the API's error shape.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).type('application/json; charset=utf-8').send(errorBody('PAYLOAD_INVALID', `Invalid URL: ${error.message}`));
    },
  });

  const correlation: CorrelationSettings = { ...DEFAULT_CORRELATION, windowMs: config.location.windowHours * 3_600_000, minDevices: config.location.minDevices };
  const asn = options.asn ?? loadAsnDatabase(config);
  const writer =
    config.writerThread && database.dialect === 'sqlite' && typeof database.file === 'string'
      ? new IngestWriter({ file: database.file, correlation, retryAfterSeconds: config.queue.retryAfterSeconds })
      : null;
  const queue = new CommitQueue((batch) => (writer ? writer.write(batch) : ingestReports(database, batch, correlation)), config.queue);
  const siem = config.siem ? new SiemPusher({ database, config: config.siem, clock, version: COLLECTOR_VERSION, log: app.log }) : null;
  const services: CollectorServices = {
    config,
    store,
    queue,
    tokens: new TokenRegistry(config.itTokens),
    clock,
    verifier,
    verifierPool: pool,
    version: COLLECTOR_VERSION,
    keys,
    async deviceKey(deviceId) {
      const cached = keys.get(deviceId);
      if (cached) return cached;
      const device = await store.findDevice(deviceId);
      if (!device) return undefined;
      // Enrolment stored it normalized; here only the KeyObject is needed (no re-export to compare).
      let key: KeyObject;
      try {
        key = publicKeyFromSpki(device.publicKey);
      } catch (error) {
        throw new Error(`Stored key of device ${deviceId} does not parse: ${error instanceof Error ? error.message : String(error)}`);
      }
      keys.set(deviceId, key);
      return key;
    },
    async enroll(input, admitNew) {
      const enrolled = await enrollDevice(database, input, clock(), admitNew);
      app.log.info({ deviceId: enrolled.deviceId, created: enrolled.created }, enrolled.created ? 'device enrolled' : 'device enrolled again (same key)');
      return enrolled;
    },
    limits: new CollectorLimits(config, clock),
    silentAfterMs,
    siem,
    asn,
  };
  app.decorate('collector', services);

  const health = new HealthMonitor(database, queue, clock, !options.database && config.storage.kind === 'sqlite' ? config.storage.file : null);
  app.setErrorHandler((error: FastifyError | CollectorError, request, reply) => {
    const fault = error instanceof CollectorError ? null : storageFaultOf(error);
    if (fault !== null) {
      // The disk's or the database's fault, not a bug: one line, no stack, and the agent retries.
      health.noteStorageFault(fault);
      request.log.error(`storage unavailable: ${fault}`);
      reply.header('retry-after', String(config.queue.retryAfterSeconds));
      reply.code(503).type('application/json; charset=utf-8').send(errorBody('STORAGE_UNAVAILABLE', 'Storage is unavailable; retry later.'));
      return;
    }
    const { status, code, message } = describeError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    // The code and status only: messages may echo what the client sent.
    else request.log.info({ code, statusCode: status }, 'request rejected');
    if (error instanceof CollectorError && error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    // 5xx details stay in the log; the client learns only that it was our fault.
    reply.code(status).type('application/json; charset=utf-8').send(errorBody(code, status >= 500 ? 'Internal server error.' : message));
  });
  // Only JSON bodies: a text/plain body gets 415 instead of reaching schema validation as a string.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });

  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.perIp,
    timeWindow: config.rateLimit.windowMs,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) =>
      new CollectorError('RATE_LIMITED', `Too many requests; retry after ${context.after}.`, 429, Math.max(1, Math.ceil(context.ttl / 1000))),
  });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    // While closing, end each keep-alive connection after its in-flight response: server.close()
    // only drops connections idle at that moment, and a busy one would otherwise hold it open.
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.addHook('preValidation', refuseBadText);
  let reported = '';
  app.get('/v1/health', { schema: { response: { 200: HealthSchema, 503: HealthSchema } } }, async (request, reply) => {
    const { ok, reasons } = await health.report();
    if (reasons.join('\n') !== reported) request.log[ok ? 'info' : 'error']({ reasons }, ok ? 'collector healthy again' : 'collector degraded');
    reported = reasons.join('\n');
    reply.code(ok ? 200 : 503);
    return { ok, status: ok ? 'ok' : 'degraded', reasons, queueDepth: queue.depth, serverTime: clock() };
  });
  await app.register(agentRoutes);
  await app.register(itRoutes);
  await app.register(triageRoutes);
  await app.register(deviceAuditRoutes);
  await app.register(locationRoutes);
  if (!asn.loaded) app.log.warn('No ASN database: egress addresses are correlated but not looked up (install @ip-location-db/asn and @ip-location-db/asn-country, or pass --asn-database)');
  await app.register(dashboardRoutes);

  if (health.checksInWorker) {
    // A large file: checked on a worker thread while the collector starts and serves; health says so once it knows.
    const started = Date.now();
    void health.checkIntegrity().then((problem) => {
      if (problem) app.log.error(problem);
      else app.log.info({ ms: Date.now() - started }, 'database integrity check passed');
    });
  } else {
    const integrityProblem = await health.checkIntegrity();
    if (integrityProblem) app.log.error(integrityProblem);
  }
  const stopIntegrityChecks = (options.schedule ?? everyInterval)(INTEGRITY_INTERVAL_MS, async () => {
    const problem = await health.checkIntegrity();
    if (problem) app.log.error(problem);
  });
  let siemRunning: Promise<void> | null = null;
  const stopSiem = siem
    ? (options.schedule ?? everyInterval)(config.siem?.intervalMs ?? 0, async () => {
        siemRunning ??= siem.tick().finally(() => {
          siemRunning = null;
        });
        await siemRunning;
      })
    : () => undefined;
  // Clusters whose members went quiet shrink on a timer (registered before the silence sweeps, whose interval tests read).
  const stopClusterSweeps = (options.schedule ?? everyInterval)(CLUSTER_SWEEP_INTERVAL_MS, async () => {
    try {
      await sweepStaleClusters(database, clock(), correlation);
    } catch (error) {
      app.log.error({ err: error }, 'stale-cluster sweep failed');
    }
  });
  let sweeps: SilenceSweeps | null = null;
  app.addHook('onClose', async () => {
    stopSiem();
    await siemRunning;
    stopIntegrityChecks();
    stopClusterSweeps();
    await sweeps?.stop();
    await queue.close();
    await writer?.close();
    await pool?.close();
    await store.close();
  });
  try {
    sweeps = await startSilenceSweeps({
      database,
      clock,
      silentAfterMs,
      schedule: options.schedule ?? everyInterval,
      onError: (error) => app.log.error({ err: error }, 'silent-device sweep failed'),
    });
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** The configured ASN database, the installed packages', or an empty one when neither is there. */
function loadAsnDatabase(config: CollectorConfig): AsnDatabase {
  const dirs = config.location.asnDatabaseDirs ?? defaultAsnDatabaseDirs();
  if (dirs.length === 0) return AsnDatabase.empty();
  return AsnDatabase.load(dirs);
}

/** Open the storage the config names. */
export async function openStorage(config: CollectorConfig): Promise<SqlDatabase> {
  const storage = config.storage;
  switch (storage.kind) {
    case 'sqlite':
      return openSqliteStorage(storage.file);
    case 'postgres':
      return openPostgresStorage(storage.url, storage.schema === undefined ? {} : { schema: storage.schema });
    default:
      return assertNever(storage, 'storage kind');
  }
}

const STATUS_CODES: Readonly<Record<number, CollectorErrorCode>> = {
  400: 'PAYLOAD_INVALID',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SHUTTING_DOWN',
};

function describeError(error: FastifyError | CollectorError): { status: number; code: CollectorErrorCode; message: string } {
  if (error instanceof CollectorError) return { status: error.statusCode, code: error.code, message: error.message };
  if (error.validation) return { status: 400, code: 'PAYLOAD_INVALID', message: `Invalid ${error.validationContext ?? 'request'}: ${error.message}` };
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  if (status >= 500) return { status, code: status === 503 ? 'SHUTTING_DOWN' : 'INTERNAL', message: '' };
  const message = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError ? `Malformed JSON: ${error.message}` : error.message;
  return { status, code: STATUS_CODES[status] ?? 'PAYLOAD_INVALID', message };
}
