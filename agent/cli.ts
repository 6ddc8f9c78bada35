/**
 * The headless agent: `npm run agent -- [--policy FILE] [--data-dir DIR] ...` (agent/cli-args.ts, `--help`).
 *
 * Runs the same Agent the tray app runs, without Electron. stdout gets JSON lines: startup info
 * (data folder, policy source, database path), one line per flushed timing window (features only),
 * warnings. SIGINT/SIGTERM (or the duration running out) flush the open window and exit 0.
 *
 * An expected fatal condition (bad policy, corrupt/too-new/unwritable database, unsupported OS,
 * unbuilt transparency view) prints ONE line to stderr and exits with that condition's own code,
 * without a stack trace and without touching the offending file, so a service manager does not
 * crash-loop over a stack dump.
 */
import { parseOrExit, resolveLogFormat, usageExit } from '../common/command-line';
import { TelltaleError } from '../common/result';
import { Agent } from './agent';
import { EXIT_CODES, exitCodeFor } from './exit-codes';
import { flattenTimingWindow } from '../common/timing';
import { logActivity, runningFields } from './activity-log';
import { AGENT_COMMAND } from './cli-args';
import { createJsonLogger, isLogLevel } from './log';

function fatal(line: string, exitCode: number): never {
  process.stderr.write(`telltale-agent: ${line}\n`);
  process.exit(exitCode);
}

async function main(argv: readonly string[]): Promise<void> {
  const values = parseOrExit(AGENT_COMMAND, argv, process);
  let durationMs: number | null = null;
  if (values['duration-seconds'] !== undefined) {
    const seconds = Number(values['duration-seconds']);
    if (!Number.isFinite(seconds) || seconds <= 0) usageExit(AGENT_COMMAND, `--duration-seconds must be a positive number, got "${values['duration-seconds']}"`, process);
    durationMs = seconds * 1000;
  }
  const minLevel = values['log-level'] ?? process.env.TELLTALE_LOG_LEVEL ?? 'info';
  if (!isLogLevel(minLevel)) usageExit(AGENT_COMMAND, `--log-level must be debug, info, warn or error, got "${minLevel}"`, process);

  const format = resolveLogFormat(values['log-format'] ?? process.env.TELLTALE_LOG_FORMAT, process.stdout.isTTY === true);
  if (format === null) usageExit(AGENT_COMMAND, `--log-format must be auto, json or text, got "${values['log-format'] ?? process.env.TELLTALE_LOG_FORMAT}"`, process);
  const logger = createJsonLogger({ minLevel, format });
  const created = await Agent.create({
    policyPath: values.policy,
    dataDir: values['data-dir'],
    inputSource: values['no-input'] ? null : undefined,
    logger,
  });
  if (!created.ok) fatal(`${created.error.code}: ${created.error.message}`, exitCodeFor(created.error.code));
  const agent = created.value;
  const ctx = agent.context;
  logActivity(ctx);
  ctx.events.on('windowFlushed', ({ id, window }) => logger.log('info', 'window', { id, ...flattenTimingWindow(window) }));

  let stopping: Promise<void> | null = null;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.log('info', 'Agent stopping', { reason });
      await agent.stop();
      logger.log('info', 'Agent stopped', { reason });
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    void shutdown(signal).then(() => process.exit(EXIT_CODES.ok));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  logger.log('info', 'Agent started', {
    version: ctx.agentVersion,
    pid: process.pid,
    dataDir: ctx.dataDir,
    databasePath: agent.databasePath,
    policySource: agent.policySource,
    windowSeconds: ctx.policy.intervals.windowSeconds,
    windowKeystrokes: ctx.policy.intervals.windowKeystrokes,
  });
  try {
    await agent.start();
  } catch (error) {
    if (error instanceof TelltaleError) fatal(`${error.code}: ${error.message}`, exitCodeFor(error.code));
    throw error;
  }
  logger.log('info', 'Agent running', runningFields(agent.services));

  if (durationMs !== null) {
    setTimeout(() => void shutdown('duration').then(() => process.exit(EXIT_CODES.ok)), durationMs);
  } else {
    // Keep the event loop alive: the services' own timers are unref'd.
    setInterval(() => undefined, 1 << 30);
  }
}

/**
 * A bug, not an expected condition, wherever it surfaces (a rejected start, a throwing timer or
 * listener): the stack goes to the log as one JSON line, stderr gets one line, and the process
 * exits 1 so a service manager restarts it instead of it running on half-broken.
 */
function dieOfBug(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? (error.stack ?? message) : message;
  try {
    process.stdout.write(`${JSON.stringify({ time: Date.now(), level: 'error', message: 'Internal error; the agent exits', reason: message, stack })}\n`);
  } catch {
    // stdout is gone (a closed pipe): stderr's line below still says why.
  }
  fatal(`internal error (a bug): ${message.split('\n')[0]}`, EXIT_CODES.bug);
}
process.on('uncaughtException', dieOfBug);
process.on('unhandledRejection', dieOfBug);

main(process.argv.slice(2)).catch(dieOfBug);
