/**
 * The collector's command line: flags and environment variables → a validated CollectorConfig, with
 * every problem named as the flag (and variable) the operator typed rather than a schema path.
 * `server.ts` calls `collectorConfigFromCommandLine` and exits 2 on a UsageProblem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { LOG_FORMAT_FLAG, resolveLogFormat, type CommandSpec, type FlagSpec, type LogFormat } from '../common/command-line';
import { CollectorConfigSchema, IT_READ_SCOPES, IT_SCOPES, type CollectorConfig, type ItScope, type ItToken } from './config';

export const COLLECTOR_COMMAND = {
  usage: 'npm run collector --',
  name: 'collector',
  summary:
    'Runs the Telltale collector: agents enroll and deliver signed reports to it, IT reads devices, findings and reports ' +
    'with a bearer token and sees the dashboard at /. Prints {"listening":"http://HOST:PORT"} on stdout once listening, ' +
    'then one JSON log line per request (never bodies or tokens), enrolment and rejection. Every flag has an environment ' +
    'variable; a flag wins over its variable. SIGINT/SIGTERM stop accepting, finish requests in flight, commit queued ' +
    'reports and close the database.',
  flags: {
    port: { type: 'string', value: 'N', description: 'TCP port; 0 picks a free one.', default: '8443', env: 'TELLTALE_COLLECTOR_PORT' },
    host: { type: 'string', value: 'HOST', description: 'Address to listen on.', default: '127.0.0.1', env: 'TELLTALE_COLLECTOR_HOST' },
    db: { type: 'string', value: 'FILE', description: 'SQLite database file; its folder must exist.', default: 'telltale-collector.db', env: 'TELLTALE_COLLECTOR_DB' },
    pg: { type: 'string', value: 'URL', description: 'PostgreSQL instead of SQLite: postgres://user:pass@host/db.', env: 'TELLTALE_COLLECTOR_PG_URL' },
    'enrollment-secret': { type: 'string', value: 'S', description: 'Shared secret agents present to enroll (8-256 characters). Required.', env: 'TELLTALE_ENROLLMENT_SECRET' },
    'it-token': {
      type: 'strings',
      value: '[NAME:]T[=scope+scope]',
      description: `A bearer token for IT (at least 16 characters): TOKEN for every read scope, or TOKEN=scope+scope from read (every read scope), ${IT_SCOPES.join(', ')} (the write and audit scopes only when named). NAME: names its holder in the audit log (default token-N). Without one the IT API and dashboard refuse everything.`,
      env: 'TELLTALE_IT_TOKENS (comma-separated)',
    },
    'siem-url': { type: 'string', value: 'URL', description: 'Push finding changes (new, severity changed, resolved) as OCSF to this SIEM endpoint, e.g. https://splunk:8088/services/collector/event.', env: 'TELLTALE_SIEM_URL' },
    'siem-format': { type: 'string', value: 'hec|webhook', description: 'hec: Splunk HTTP Event Collector JSON; webhook: {"events":[...]} JSON.', default: 'hec', env: 'TELLTALE_SIEM_FORMAT' },
    'siem-token': { type: 'string', value: 'T', description: 'Sent as "Splunk T" (hec) or "Bearer T" (webhook).', env: 'TELLTALE_SIEM_TOKEN' },
    'siem-queue': { type: 'string', value: 'DIR', description: 'Folder of batches waiting for the SIEM to accept them.', default: 'beside --db, or ./telltale-siem-queue', env: 'TELLTALE_SIEM_QUEUE' },
    'silent-after-minutes': { type: 'string', value: 'M', description: 'A device that sends nothing for this long is silent and gets a device-silent finding.', default: '60', env: 'TELLTALE_SILENT_AFTER_MINUTES' },
    'rate-per-ip': { type: 'string', value: 'N', description: 'Requests per minute per client address on every route but report delivery.', default: '600', env: 'TELLTALE_RATE_PER_IP' },
    'rate-per-device': { type: 'string', value: 'N', description: 'Report deliveries per minute per device.', default: '600', env: 'TELLTALE_RATE_PER_DEVICE' },
    'writer-thread': {
      type: 'string',
      value: 'on|off',
      description: 'SQLite: commit reports on a writer thread with its own connection (off: on the main thread).',
      default: 'on',
      env: 'TELLTALE_WRITER_THREAD',
    },
    'verify-threads': { type: 'string', value: 'N', description: 'Worker threads verifying signatures; 0 verifies on the main thread.', default: 'one per core beyond two (none on 2 cores)', env: 'TELLTALE_VERIFY_THREADS' },
    'trusted-proxy': {
      type: 'strings',
      value: 'ADDR',
      description: 'A reverse proxy (address or CIDR) whose X-Forwarded-For names the client: the egress address correlated across laptops. Repeatable.',
      env: 'TELLTALE_TRUSTED_PROXIES (comma-separated)',
    },
    'asn-database': {
      type: 'string',
      value: 'DIR[,DIR]',
      description: 'Folder(s) with the @ip-location-db ASN and country CSV files (asn-ipv4-num.csv, asn-country-ipv4-num.csv...).',
      default: 'the installed @ip-location-db/asn and @ip-location-db/asn-country packages',
      env: 'TELLTALE_ASN_DATABASE_DIR',
    },
    'private-egress': {
      type: 'boolean',
      description: 'Count private and loopback client addresses as egress addresses (labs, demos and tests; normally they are a proxy).',
      env: 'TELLTALE_PRIVATE_EGRESS=1',
    },
    'log-level': { type: 'string', value: 'LEVEL', description: 'fatal, error, warn, info, debug, trace or silent.', default: 'info', env: 'TELLTALE_LOG_LEVEL' },
    'log-format': LOG_FORMAT_FLAG,
  },
  examples: [
    ["npm run collector -- --db collector.db --enrollment-secret 'a-long-shared-secret' --it-token 'it-token-for-the-dashboard'", 'SQLite in the current folder.'],
    ['TELLTALE_ENROLLMENT_SECRET=... TELLTALE_IT_TOKENS=... npm run collector -- --pg postgres://user:pass@db-host/telltale', 'PostgreSQL, secrets from the environment.'],
  ],
  exitCodes: [
    [0, 'stopped by SIGINT/SIGTERM'],
    [1, 'could not start (storage unreachable, port taken) or could not close cleanly'],
    [2, 'usage: an unknown flag or a bad value, named'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

type Values = {
  -readonly [K in keyof typeof COLLECTOR_COMMAND.flags]?: (typeof COLLECTOR_COMMAND.flags)[K]['type'] extends 'strings'
    ? string[]
    : (typeof COLLECTOR_COMMAND.flags)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** A configuration mistake, in the operator's terms. */
export class UsageProblem extends Error {}

export interface CommandLineConfig {
  readonly config: CollectorConfig;
  readonly port: number;
  readonly host: string;
  /** Things that work but are probably not meant (no IT token). */
  readonly warnings: readonly string[];
}

function logFormatOf(value: string | undefined, outputIsTerminal: boolean): LogFormat {
  const format = resolveLogFormat(value, outputIsTerminal);
  if (format === null) throw new UsageProblem(`--log-format (TELLTALE_LOG_FORMAT) must be auto, json or text, got ${JSON.stringify(value)}`);
  return format;
}

/** Where each config field comes from, for error messages. */
const SOURCES: Readonly<Record<string, string>> = {
  enrollmentSecret: '--enrollment-secret (TELLTALE_ENROLLMENT_SECRET)',
  silentAfterMinutes: '--silent-after-minutes (TELLTALE_SILENT_AFTER_MINUTES)',
  'rateLimit/perIp': '--rate-per-ip (TELLTALE_RATE_PER_IP)',
  'rateLimit/reportsPerDevice': '--rate-per-device (TELLTALE_RATE_PER_DEVICE)',
  verifyThreads: '--verify-threads (TELLTALE_VERIFY_THREADS)',
  writerThread: '--writer-thread (TELLTALE_WRITER_THREAD)',
  logLevel: '--log-level (TELLTALE_LOG_LEVEL)',
  logFormat: '--log-format (TELLTALE_LOG_FORMAT)',
  storage: '--db or --pg (TELLTALE_COLLECTOR_DB, TELLTALE_COLLECTOR_PG_URL)',
  'siem/url': '--siem-url (TELLTALE_SIEM_URL)',
  'siem/format': '--siem-format (TELLTALE_SIEM_FORMAT)',
  'siem/token': '--siem-token (TELLTALE_SIEM_TOKEN)',
  siem: '--siem-url, --siem-format, --siem-token, --siem-queue',
};

/** Flags and environment → config. Throws UsageProblem naming the flag. */
export function collectorConfigFromCommandLine(values: Values, env: NodeJS.ProcessEnv, outputIsTerminal = process.stdout.isTTY === true): CommandLineConfig {
  const portText = values.port ?? env.TELLTALE_COLLECTOR_PORT ?? '8443';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageProblem(`--port (TELLTALE_COLLECTOR_PORT) must be 0-65535, got ${JSON.stringify(portText)}`);
  const pgUrl = values.pg ?? env.TELLTALE_COLLECTOR_PG_URL;
  const dbFile = values.db ?? env.TELLTALE_COLLECTOR_DB;
  if (pgUrl && dbFile) throw new UsageProblem('give either --db (SQLite) or --pg (PostgreSQL), not both');
  const file = dbFile ?? 'telltale-collector.db';
  if (!pgUrl && file !== ':memory:') {
    const folder = path.dirname(path.resolve(file));
    if (!fs.existsSync(folder)) throw new UsageProblem(`--db ${file}: the folder ${folder} does not exist (create it first)`);
  }
  const tokenSpecs = values['it-token'] ?? (env.TELLTALE_IT_TOKENS ? env.TELLTALE_IT_TOKENS.split(',').filter(Boolean) : []);
  const raw: Record<string, unknown> = {
    storage: pgUrl ? { kind: 'postgres', url: pgUrl } : { kind: 'sqlite', file },
    enrollmentSecret: values['enrollment-secret'] ?? env.TELLTALE_ENROLLMENT_SECRET,
    itTokens: tokenSpecs.map(parseToken),
    // The CLI is watched by a person: info by default. Embedding callers keep the schema's default.
    logLevel: values['log-level'] ?? env.TELLTALE_LOG_LEVEL ?? 'info',
    logFormat: logFormatOf(values['log-format'] ?? env.TELLTALE_LOG_FORMAT, outputIsTerminal),
  };
  const number = (text: string | undefined): number | undefined => (text === undefined ? undefined : text.trim() === '' ? Number.NaN : Number(text));
  const silent = number(values['silent-after-minutes'] ?? env.TELLTALE_SILENT_AFTER_MINUTES);
  if (silent !== undefined) raw.silentAfterMinutes = silent;
  const perIp = number(values['rate-per-ip'] ?? env.TELLTALE_RATE_PER_IP);
  const perDevice = number(values['rate-per-device'] ?? env.TELLTALE_RATE_PER_DEVICE);
  if (perIp !== undefined || perDevice !== undefined) {
    raw.rateLimit = { ...(perIp === undefined ? {} : { perIp }), ...(perDevice === undefined ? {} : { reportsPerDevice: perDevice }) };
  }
  const siemUrl = values['siem-url'] ?? env.TELLTALE_SIEM_URL;
  if (siemUrl !== undefined) {
    const token = values['siem-token'] ?? env.TELLTALE_SIEM_TOKEN;
    raw.siem = {
      url: siemUrl,
      format: values['siem-format'] ?? env.TELLTALE_SIEM_FORMAT ?? 'hec',
      queueDir: values['siem-queue'] ?? env.TELLTALE_SIEM_QUEUE ?? (pgUrl || file === ':memory:' ? 'telltale-siem-queue' : `${file}.siem-queue`),
      ...(token === undefined ? {} : { token }),
    };
  }
  const writerThread = values['writer-thread'] ?? env.TELLTALE_WRITER_THREAD;
  if (writerThread !== undefined) {
    if (writerThread !== 'on' && writerThread !== 'off') throw new UsageProblem(`--writer-thread (TELLTALE_WRITER_THREAD) must be on or off, got ${JSON.stringify(writerThread)}`);
    raw.writerThread = writerThread === 'on';
  }
  const verifyThreads = number(values['verify-threads'] ?? env.TELLTALE_VERIFY_THREADS);
  if (verifyThreads !== undefined) raw.verifyThreads = verifyThreads;
  const proxies = values['trusted-proxy'] ?? (env.TELLTALE_TRUSTED_PROXIES ? env.TELLTALE_TRUSTED_PROXIES.split(',').filter(Boolean) : []);
  const asnDirs = values['asn-database'] ?? env.TELLTALE_ASN_DATABASE_DIR;
  for (const dir of asnDirs ? asnDirs.split(',') : []) {
    if (!fs.existsSync(dir)) throw new UsageProblem(`--asn-database ${dir}: no such folder`);
  }
  raw.location = {
    trustedProxies: proxies,
    ...(asnDirs ? { asnDatabaseDirs: asnDirs.split(',') } : {}),
    privateEgress: values['private-egress'] === true || env.TELLTALE_PRIVATE_EGRESS === '1',
  };

  const candidate = Value.Default(CollectorConfigSchema, raw);
  if (!Value.Check(CollectorConfigSchema, candidate)) {
    const problems = [...Value.Errors(CollectorConfigSchema, candidate)].map((error) => `${sourceOf(error.path)}: ${describeValue(error.path, error.message)}`);
    throw new UsageProblem([...new Set(problems)].slice(0, 5).join('; '));
  }
  const warnings =
    candidate.itTokens.length === 0
      ? ['no IT token (--it-token or TELLTALE_IT_TOKENS): agents can deliver, but the IT API and the dashboard will refuse every request']
      : [];
  return { config: candidate, port, host: values.host ?? env.TELLTALE_COLLECTOR_HOST ?? '127.0.0.1', warnings };
}

function sourceOf(schemaPath: string): string {
  const field = schemaPath.replace(/^\//, '');
  const token = /^itTokens\/(\d+)/.exec(field);
  if (token) return `--it-token #${Number(token[1]) + 1} (TELLTALE_IT_TOKENS)`;
  const key = Object.keys(SOURCES).find((name) => field === name || field.startsWith(`${name}/`));
  return key ? SOURCES[key]! : field || 'configuration';
}

function describeValue(schemaPath: string, message: string): string {
  if (schemaPath === '/enrollmentSecret' && /Expected string/.test(message)) return 'required';
  if (/\/token$/.test(schemaPath) && /length/.test(message)) return 'must be at least 16 characters';
  if (/Expected (integer|number)/.test(message)) return 'must be a number';
  return message.replace(/^Expected/, 'expected');
}

/**
 * `[NAME:]TOKEN[=scope+scope]`. NAME (letters, digits, `.`, `_`, `@`, `-`) is who the audit log and
 * the logs name for the token; `read` stands for every read scope.
 */
export function parseToken(spec: string): ItToken {
  const named = /^([A-Za-z0-9._@-]{1,64}):(.+)$/.exec(spec);
  const name = named?.[1];
  const [token = '', scopeList] = (named?.[2] ?? spec).split('=', 2);
  const withName = (scopes: ItScope[]): ItToken => (name === undefined ? { token, scopes } : { token, scopes, name });
  if (scopeList === undefined) return withName([...IT_READ_SCOPES]);
  const scopes = [...new Set(scopeList.split('+').flatMap((scope) => (scope === 'read' ? [...IT_READ_SCOPES] : [scope])))];
  const unknown = scopes.filter((scope) => !(IT_SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0) throw new UsageProblem(`--it-token: unknown scope(s) ${unknown.join(', ')} (known: read, ${IT_SCOPES.join(', ')})`);
  return withName(scopes as ItScope[]);
}
