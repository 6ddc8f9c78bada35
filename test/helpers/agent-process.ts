/**
 * The headless agent CLI as a child process, for integration tests.
 *
 * Runs `node --import tsx agent/cli.ts ...` (the same code as `npm run agent`, without npm's
 * wrapper process, so `pid` is the agent itself). Collects stdout JSON lines and raw bytes of both
 * streams, and is killed on test end if still running. Hooked processes must exit before their
 * Xvfb does: uiohook keeps an X connection open, and Xlib exits the process when it breaks.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Parsed stdout JSON lines so far. */
  readonly lines: Record<string, unknown>[];
  stdout(): Buffer;
  stderr(): Buffer;
  /** Resolves with the first stdout line matching, polling until timeout. */
  waitForLine(predicate: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Send a signal and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function spawnAgent(args: readonly string[], env: NodeJS.ProcessEnv, t?: { after(fn: () => unknown): void }): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'agent', 'cli.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out.push(chunk);
    partial += chunk.toString('utf8');
    let newline;
    while ((newline = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ unparsed: line });
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const agent: AgentProcess = {
    child,
    pid: child.pid!,
    lines,
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err),
    exited,
    async waitForLine(predicate, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(predicate);
        if (found) return found;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`agent exited (${child.exitCode ?? child.signalCode}) before ${what}; stderr: ${Buffer.concat(err).toString()}`);
        }
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; stdout: ${Buffer.concat(out).toString()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  t?.after(() => agent.stop('SIGKILL'));
  return agent;
}

/** The test's environment without DISPLAY: the agent runs without input capture's hook. */
export function headlessEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.DISPLAY;
  return env;
}

/** A fatal exit's stderr: exactly one line and no stack frame; returns the line. */
export function oneStderrLine(stderr: Buffer): string {
  const lines = stderr.toString().split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one stderr line, got:\n${stderr.toString()}`);
  assert.doesNotMatch(stderr.toString(), /^\s+at /m);
  return lines[0]!;
}
