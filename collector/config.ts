/**
 * Collector configuration: one TypeBox schema, defaults, and a parser with clear errors.
 *
 * `server.ts` builds the raw object from CLI flags and environment variables; tests build it
 * directly. Anything invalid fails at startup with CONFIG_INVALID naming every bad field.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { MAX_REPORT_BYTES } from '../common/report';
import { CollectorError } from './errors';

/** Scopes a bare IT token gets. */
export const IT_READ_SCOPES = ['devices:read', 'findings:read', 'reports:read'] as const;
/**
 * Scopes an IT bearer token can hold. Beyond the reads: `findings:write` (acknowledge, assign,
 * resolve, reopen, suppress, notes), `devices:write` (tags, retire, delete a device) and `audit:read`
 * (the audit log), `location:write` (expected countries, approved places); each only when named.
 */
export const IT_SCOPES = [...IT_READ_SCOPES, 'findings:write', 'devices:write', 'audit:read', 'location:write'] as const;
export type ItScope = (typeof IT_SCOPES)[number];

const ScopeSchema = Type.Union(IT_SCOPES.map((scope) => Type.Literal(scope)));

export const StorageConfigSchema = Type.Union([
  Type.Object({ kind: Type.Literal('sqlite'), file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('postgres'),
      url: Type.String({ pattern: '^postgres(ql)?://' }),
      /** Optional schema (search_path), e.g. a throwaway one per test run; must exist. */
      schema: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
    },
    { additionalProperties: false },
  ),
]);

export const ItTokenSchema = Type.Object(
  {
    /** The bearer secret; at least 16 characters. */
    token: Type.String({ minLength: 16, maxLength: 512 }),
    scopes: Type.Array(ScopeSchema, { minItems: 1, uniqueItems: true }),
    /** Who holds it, for logs. */
    name: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const CollectorConfigSchema = Type.Object(
  {
    storage: StorageConfigSchema,
    /** Shared secret agents present to enroll. */
    enrollmentSecret: Type.String({ minLength: 8, maxLength: 256 }),
    itTokens: Type.Array(ItTokenSchema, { default: [] }),
    /** Largest HTTP body accepted (bytes). Report bodies are further held to MAX_REPORT_BYTES. */
    bodyLimit: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: MAX_REPORT_BYTES + 4096 }),
    rateLimit: Type.Object(
      {
        /** Requests per IP per window on every route except report delivery. */
        perIp: Type.Integer({ minimum: 1, default: 600 }),
        /** Report deliveries per IP per window (a whole fleet may sit behind one NAT address). */
        reportsPerIp: Type.Integer({ minimum: 1, default: 6000 }),
        /** Verified reports per device id per window. */
        reportsPerDevice: Type.Integer({ minimum: 1, default: 600 }),
        windowMs: Type.Integer({ minimum: 1000, default: 60_000 }),
        /** Failed IT-token and failed enrolment attempts per IP per failure window (Fleet's anchor: 720 an hour). */
        failuresPerIp: Type.Integer({ minimum: 1, default: 720 }),
        failureWindowMs: Type.Integer({ minimum: 1000, default: 3_600_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    enrollment: Type.Object(
      {
        /** New devices enrolled with the secret per window. */
        newDevicesPerWindow: Type.Integer({ minimum: 1, default: 1000 }),
        /** Enrolment requests from all addresses together per window. */
        attemptsPerWindow: Type.Integer({ minimum: 1, default: 20_000 }),
        windowMs: Type.Integer({ minimum: 1000, default: 3_600_000 }),
        /** Devices the collector holds at most; IT deletes retired ones to make room. */
        maxDevices: Type.Integer({ minimum: 1, default: 100_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    queue: Type.Object(
      {
        /** Reports waiting for a transaction before new ones get 429. */
        maxPending: Type.Integer({ minimum: 1, default: 2000 }),
        /** Reports per transaction. */
        maxBatch: Type.Integer({ minimum: 1, default: 500 }),
        retryAfterSeconds: Type.Integer({ minimum: 1, default: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * SQLite: commit reports on a writer thread with its own connection (collector/ingest/writer-thread.ts),
     * so statements and fsync stay off the event loop. false commits on the main thread.
     */
    writerThread: Type.Boolean({ default: true }),
    /** Worker threads verifying Ed25519 signatures (default: one per available core; 0: on the main thread). */
    verifyThreads: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
    /** Device public keys kept parsed in memory (per thread), least recently used evicted first. */
    keyCacheSize: Type.Integer({ minimum: 1, default: 10_000 }),
    /** A device with no report or heartbeat for this long gets a device-silent finding. */
    silentAfterMinutes: Type.Number({ exclusiveMinimum: 0, default: 60 }),
    /** Push finding state changes to a SIEM (collector/siem/push.ts); off when absent. */
    siem: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://' }),
          /** `hec`: Splunk HTTP Event Collector JSON; `webhook`: {"events":[...]} JSON. */
          format: Type.Union([Type.Literal('hec'), Type.Literal('webhook')], { default: 'hec' }),
          /** Sent as `Splunk <token>` (hec) or `Bearer <token>` (webhook). */
          token: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          /** Folder of the on-disk queue of batches not yet accepted. */
          queueDir: Type.String({ minLength: 1 }),
          intervalMs: Type.Integer({ minimum: 100, default: 5000 }),
          batchSize: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
          /** Batches held on disk at most; beyond, changes wait in the database. */
          maxQueuedBatches: Type.Integer({ minimum: 1, default: 10_000 }),
          timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Honour X-Forwarded-For (only behind a trusted reverse proxy). */
    trustProxy: Type.Boolean({ default: false }),
    location: Type.Object(
      {
        /** Addresses or CIDRs of the reverse proxies whose X-Forwarded-For names the egress address (overrides trustProxy). */
        trustedProxies: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { default: [] }),
        /** Folders holding the @ip-location-db CSV files; default: the installed npm packages. */
        asnDatabaseDirs: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        /** Count private and loopback source addresses as egress addresses (labs and tests; in production they are a proxy's). */
        privateEgress: Type.Boolean({ default: false }),
        /** A device's signals link it to others for this long after its last report. */
        windowHours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 30, default: 24 }),
        /** Laptops with different hostnames that make a possible farm. */
        minDevices: Type.Integer({ minimum: 2, maximum: 1000, default: 3 }),
      },
      { additionalProperties: false, default: {} },
    ),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      { default: 'silent' },
    ),
    /** `json` lines (for log shippers) or readable `text` lines; the command line resolves `auto`. */
    logFormat: Type.Union([Type.Literal('json'), Type.Literal('text')], { default: 'json' }),
  },
  { additionalProperties: false },
);

export type CollectorConfig = Static<typeof CollectorConfigSchema>;
export type StorageConfig = Static<typeof StorageConfigSchema>;
export type ItToken = Static<typeof ItTokenSchema>;

/** Input accepted by parseCollectorConfig: required fields, everything with a default optional. */
export type CollectorConfigInput = Pick<CollectorConfig, 'storage' | 'enrollmentSecret'> &
  Partial<Omit<CollectorConfig, 'storage' | 'enrollmentSecret' | 'rateLimit' | 'enrollment' | 'queue' | 'siem' | 'location'>> & {
    siem?: Pick<NonNullable<CollectorConfig['siem']>, 'url' | 'queueDir'> & Partial<NonNullable<CollectorConfig['siem']>>;
    rateLimit?: Partial<CollectorConfig['rateLimit']>;
    enrollment?: Partial<CollectorConfig['enrollment']>;
    queue?: Partial<CollectorConfig['queue']>;
    location?: Partial<CollectorConfig['location']>;
  };

/**
 * Fill defaults and validate. Throws CollectorError CONFIG_INVALID listing each problem by path.
 */
export function parseCollectorConfig(input: unknown): CollectorConfig {
  const candidate = Value.Default(CollectorConfigSchema, structuredClone(input));
  if (Value.Check(CollectorConfigSchema, candidate)) return candidate;
  const problems = [...Value.Errors(CollectorConfigSchema, candidate)]
    .slice(0, 10)
    .map((error) => `${error.path || '/'}: ${error.message}`);
  throw new CollectorError('CONFIG_INVALID', `Invalid collector configuration: ${[...new Set(problems)].join('; ')}`, 500);
}
