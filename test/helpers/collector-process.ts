/**
 * The real collector as a child process (collector/server.ts through tsx) on 127.0.0.1, for agent
 * sync tests. It can be killed and restarted on the same port and database file, and its SQLite
 * database can be read directly to check what arrived.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import Database from 'better-sqlite3';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface CollectorProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every stdout line so far, raw (the collector's JSON log lines and its listening line). */
  readonly output: string[];
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful: commits queued reports, closes the DB) and wait for exit. */
  stop(): Promise<void>;
}

export interface StartCollectorOptions {
  readonly dbFile: string;
  readonly enrollmentSecret: string;
  readonly itToken: string;
  /** 0 for a random free port. */
  readonly port?: number;
  /** Default warn: tests that do not read the log keep it quiet. */
  readonly logLevel?: string;
  /** More flags, after the ones above. */
  readonly extraArgs?: readonly string[];
}

/** Start collector/server.ts and resolve once it prints its listening line. */
export async function startCollectorProcess(options: StartCollectorOptions): Promise<CollectorProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'collector', 'server.ts'),
      '--port',
      String(options.port ?? 0),
      '--host',
      '127.0.0.1',
      '--db',
      options.dbFile,
      '--enrollment-secret',
      options.enrollmentSecret,
      '--it-token',
      options.itToken,
      '--log-level',
      options.logLevel ?? 'warn',
      ...(options.extraArgs ?? []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const lines = readline.createInterface({ input: child.stdout! });
  const output: string[] = [];
  lines.on('line', (line) => output.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start within 60 s: ${stderr}`)), 60_000);
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { listening?: string };
        if (parsed.listening) {
          clearTimeout(timer);
          resolve(parsed.listening);
        }
      } catch {
        // Not our line (Fastify logs go to stdout as JSON too, without `listening`).
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code} before listening: ${stderr}`));
    });
  });
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return { url, port: Number(new URL(url).port), child, output, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

/** Start on a fixed port, retrying briefly while the old socket is released. */
export async function restartCollectorProcess(options: StartCollectorOptions & { port: number }): Promise<CollectorProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await startCollectorProcess(options);
    } catch (error) {
      lastError = error;
      if (!/EADDRINUSE/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw lastError;
}

/** A stored report as the collector's SQLite database holds it. */
export interface StoredReportRow {
  readonly device_id: string;
  readonly seq: number;
  readonly hash: string;
  readonly prev_hash: string;
  readonly body: string;
  readonly sig: string;
}

/** Read what the collector stored (reports in seq order, open and closed chain gaps). */
export function readCollectorDatabase(dbFile: string): { reports: StoredReportRow[]; gaps: { from_seq: number; to_seq: number; closed_at: number | null }[]; devices: { id: string; public_key: string }[] } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return {
      reports: db.prepare('SELECT device_id, seq, hash, prev_hash, body, sig FROM reports ORDER BY device_id, seq').all() as StoredReportRow[],
      gaps: db.prepare('SELECT from_seq, to_seq, closed_at FROM chain_gaps ORDER BY from_seq').all() as { from_seq: number; to_seq: number; closed_at: number | null }[],
      devices: db.prepare('SELECT id, public_key FROM devices').all() as { id: string; public_key: string }[],
    };
  } finally {
    db.close();
  }
}
