/**
 * The headless agent: `npm run agent -- [--policy FILE] [--data-dir DIR] [--duration-seconds N]`.
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
import { parseArgs } from 'node:util';
import { TelltaleError } from '../common/result';
import { Agent } from './agent';
import { EXIT_CODES, exitCodeFor } from './exit-codes';
import { flattenTimingWindow } from '../common/timing';
import { createJsonLogger } from './log';

const USAGE = 'usage: npm run agent -- [--policy FILE] [--data-dir DIR] [--duration-seconds N] [--no-input]';

function fatal(line: string, exitCode: number): never {
  process.stderr.write(`telltale-agent: ${line}\n`);
  process.exit(exitCode);
}

async function main(argv: readonly string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        policy: { type: 'string' },
        'data-dir': { type: 'string' },
        'duration-seconds': { type: 'string' },
        'no-input': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    fatal(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, EXIT_CODES.usage);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let durationMs: number | null = null;
  if (values['duration-seconds'] !== undefined) {
    const seconds = Number(values['duration-seconds']);
    if (!Number.isFinite(seconds) || seconds <= 0) fatal(`--duration-seconds must be a positive number, got "${values['duration-seconds']}"`, EXIT_CODES.usage);
    durationMs = seconds * 1000;
  }

  const logger = createJsonLogger();
  const created = await Agent.create({
    policyPath: values.policy,
    dataDir: values['data-dir'],
    inputSource: values['no-input'] ? null : undefined,
    logger,
  });
  if (!created.ok) fatal(`${created.error.code}: ${created.error.message}`, exitCodeFor(created.error.code));
  const agent = created.value;
  const ctx = agent.context;
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
  logger.log('info', 'Agent running', { services: agent.services.map((service) => service.name).join(',') });

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
