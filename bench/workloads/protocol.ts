/**
 * The child side of the bench's IPC protocol.
 *
 * Every measured workload runs in its own child process (forked by bench/lib/children.ts) so its
 * CPU and RSS are its own. The parent sends `{ id, op, args }`; the child answers
 * `{ id, ok, value | error }`. Two ops exist everywhere: `sample` (process.cpuUsage and memory)
 * and `stop` (clean up, then exit). A child also exits when the parent disconnects or its
 * BENCH_MAX_LIFETIME_MS passes, so nothing outlives a crashed run.
 */

export type Handler = (args: unknown) => unknown | Promise<unknown>;

export interface CpuSample {
  /** process.cpuUsage() user + system, µs: all threads of the process. */
  readonly cpuUs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

interface Request {
  readonly id: number;
  readonly op: string;
  readonly args?: unknown;
}

export function cpuSample(): CpuSample {
  const usage = process.cpuUsage();
  const memory = process.memoryUsage();
  return { cpuUs: usage.user + usage.system, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed };
}

/**
 * Answer the parent's requests with `handlers`, and tell it we are ready with `info`.
 * `onStop` runs before exit (stop the hook, close the server, remove files).
 */
export function serve(handlers: Record<string, Handler>, onStop: () => void | Promise<void>, info: unknown = null): void {
  if (!process.send) throw new Error('bench workloads must be started by bench/run.ts (no IPC channel)');
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await onStop();
    } finally {
      process.exit(code);
    }
  };
  const lifetime = Number(process.env.BENCH_MAX_LIFETIME_MS ?? 600_000);
  // unref: this guard must not itself count as a live timer in the idle measurements.
  setTimeout(() => void stop(3), lifetime).unref();
  process.on('disconnect', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('message', (message: Request) => {
    const reply = (body: Record<string, unknown>): void => {
      process.send?.({ id: message.id, ...body });
    };
    if (message.op === 'stop') {
      reply({ ok: true, value: null });
      void stop(0);
      return;
    }
    const handler = message.op === 'sample' ? () => cpuSample() : handlers[message.op];
    if (!handler) {
      reply({ ok: false, error: `unknown op ${message.op}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  process.send({ id: 0, ok: true, value: info, ready: true });
}

/** Command-line flag value for a workload (`--name value`), or the fallback. */
export function argValue(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1]! : fallback;
}
