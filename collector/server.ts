/**
 * Collector entry point: parse flags and environment, build the app, listen, close gracefully.
 *
 *   npm run collector -- --port 0 --host 127.0.0.1 --db collector.db --enrollment-secret S --it-token T
 *   npm run collector -- --pg postgres://user:pass@host/db ...
 *
 * Flags, their environment variables and the exit codes: collector/cli-config.ts (`--help`).
 *
 * Once listening it prints exactly one JSON line to stdout: {"listening":"http://HOST:PORT"}.
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, commit queued reports, close the DB.
 */
import { parseOrExit, usageExit } from '../common/command-line';
import { buildCollector } from './app';
import { collectorConfigFromCommandLine, COLLECTOR_COMMAND, UsageProblem, type CommandLineConfig } from './cli-config';
import { CollectorError } from './errors';

async function main(): Promise<void> {
  const values = parseOrExit(COLLECTOR_COMMAND, process.argv.slice(2), process);
  let settings: CommandLineConfig;
  try {
    settings = collectorConfigFromCommandLine(values, process.env);
  } catch (error) {
    if (error instanceof UsageProblem) usageExit(COLLECTOR_COMMAND, error.message, process);
    throw error;
  }
  for (const warning of settings.warnings) process.stderr.write(`collector: warning: ${warning}\n`);
  const { config, port, host } = settings;
  const app = await buildCollector(config);
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
