/**
 * Collector entry point: parse flags and environment, build the app, listen, close gracefully.
 *
 *   npm run collector -- --port 0 --host 127.0.0.1 --db collector.db --enrollment-secret S --it-token T
 *   npm run collector -- --pg postgres://user:pass@host/db ...
 *
 * Flags override environment variables: TELLTALE_COLLECTOR_PORT, TELLTALE_COLLECTOR_HOST,
 * TELLTALE_COLLECTOR_DB, TELLTALE_COLLECTOR_PG_URL, TELLTALE_ENROLLMENT_SECRET,
 * TELLTALE_IT_TOKENS (comma-separated), TELLTALE_SILENT_AFTER_MINUTES, TELLTALE_LOG_LEVEL,
 * TELLTALE_RATE_PER_IP and TELLTALE_RATE_PER_DEVICE (requests per minute; flags --rate-per-ip, --rate-per-device),
 * TELLTALE_VERIFY_THREADS (signature-verifying worker threads, default one per core; --verify-threads).
 * An IT token is `TOKEN` (every read scope) or `TOKEN=scope1+scope2`.
 *
 * Once listening it prints exactly one JSON line to stdout: {"listening":"http://HOST:PORT"}.
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, commit queued reports, close the DB.
 */
import { parseArgs } from 'node:util';
import { buildCollector } from './app';
import { IT_READ_SCOPES, IT_SCOPES, type ItScope, type ItToken } from './config';
import { CollectorError } from './errors';

const HELP = `Usage: npm run collector -- [--port N] [--host H] (--db FILE | --pg URL) --enrollment-secret S [--it-token T[=scope+scope]]... [--silent-after-minutes M] [--rate-per-ip N] [--rate-per-device N] [--verify-threads N] [--log-level L]`;

/** Build the raw config object from argv and env (validated later by parseCollectorConfig). */
export function configFromArgs(argv: readonly string[], env: NodeJS.ProcessEnv): { config: Record<string, unknown>; port: number; host: string } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      pg: { type: 'string' },
      'enrollment-secret': { type: 'string' },
      'it-token': { type: 'string', multiple: true },
      'silent-after-minutes': { type: 'string' },
      'log-level': { type: 'string' },
      'rate-per-ip': { type: 'string' },
      'rate-per-device': { type: 'string' },
      'verify-threads': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.error(HELP);
    process.exit(0);
  }
  const portText = values.port ?? env.TELLTALE_COLLECTOR_PORT ?? '8443';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CollectorError('CONFIG_INVALID', `--port must be 0-65535, got ${JSON.stringify(portText)}`, 500);
  const pgUrl = values.pg ?? env.TELLTALE_COLLECTOR_PG_URL;
  const dbFile = values.db ?? env.TELLTALE_COLLECTOR_DB;
  if (pgUrl && dbFile) throw new CollectorError('CONFIG_INVALID', 'Give either --db (SQLite) or --pg (PostgreSQL), not both.', 500);
  const tokens = values['it-token'] ?? (env.TELLTALE_IT_TOKENS ? env.TELLTALE_IT_TOKENS.split(',').filter(Boolean) : []);
  const silent = values['silent-after-minutes'] ?? env.TELLTALE_SILENT_AFTER_MINUTES;
  const config: Record<string, unknown> = {
    storage: pgUrl ? { kind: 'postgres', url: pgUrl } : { kind: 'sqlite', file: dbFile ?? 'telltale-collector.db' },
    enrollmentSecret: values['enrollment-secret'] ?? env.TELLTALE_ENROLLMENT_SECRET,
    itTokens: tokens.map(parseToken),
  };
  if (silent !== undefined) config.silentAfterMinutes = Number(silent);
  const perIp = values['rate-per-ip'] ?? env.TELLTALE_RATE_PER_IP;
  const perDevice = values['rate-per-device'] ?? env.TELLTALE_RATE_PER_DEVICE;
  if (perIp !== undefined || perDevice !== undefined) {
    config.rateLimit = {
      ...(perIp === undefined ? {} : { perIp: Number(perIp) }),
      ...(perDevice === undefined ? {} : { reportsPerDevice: Number(perDevice) }),
    };
  }
  const verifyThreads = values['verify-threads'] ?? env.TELLTALE_VERIFY_THREADS;
  if (verifyThreads !== undefined) config.verifyThreads = Number(verifyThreads);
  const logLevel = values['log-level'] ?? env.TELLTALE_LOG_LEVEL;
  if (logLevel !== undefined) config.logLevel = logLevel;
  return { config, port, host: values.host ?? env.TELLTALE_COLLECTOR_HOST ?? '127.0.0.1' };
}

function parseToken(spec: string): ItToken {
  const [token = '', scopeList] = spec.split('=', 2);
  if (scopeList === undefined) return { token, scopes: [...IT_READ_SCOPES] };
  const scopes = scopeList.split('+');
  const unknown = scopes.filter((scope) => !(IT_SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0) throw new CollectorError('CONFIG_INVALID', `Unknown IT token scope(s): ${unknown.join(', ')} (known: ${IT_SCOPES.join(', ')})`, 500);
  return { token, scopes: scopes as ItScope[] };
}

async function main(): Promise<void> {
  const { config, port, host } = configFromArgs(process.argv.slice(2), process.env);
  const app = await buildCollector(config as never);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'closing');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`collector: error while closing: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ port, host });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`${JSON.stringify({ listening: `http://${shownHost}:${actualPort}` })}\n`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('collector/server.ts')) {
  main().catch((error: unknown) => {
    const code = error instanceof CollectorError ? error.code : 'INTERNAL';
    console.error(JSON.stringify({ error: { code, message: error instanceof Error ? error.message : String(error) } }));
    process.exit(1);
  });
}
