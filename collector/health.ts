/**
 * What `/v1/health` says, checked rather than assumed: the database can be written and read back
 * (a counter bumped in a transaction and read again, at most every PROBE_TTL_MS), SQLite's
 * `PRAGMA quick_check` passed at start and on a timer, and the last commit of the queue did not
 * fail, and no request met a storage fault (disk full, I/O error...) since the last probe that
 * passed. Any failure makes the collector degraded with its reason, until a later check passes.
 *
 * quick_check reads the whole file; it runs at start and every INTEGRITY_INTERVAL_MS. Files of
 * WORKER_CHECK_MIN_BYTES or more are checked on a worker thread (storage/quick-check.ts), so a large
 * database delays neither start-up nor requests; smaller ones inline, where it takes milliseconds.
 */
import type { CommitQueue } from './commit-queue';
import { reserve } from './storage/counters';
import type { SqlDatabase } from './storage/sql';
import { quickCheckInWorker, wantsWorkerCheck } from './storage/quick-check';

/** How often the integrity check runs after the one at start. */
export const INTEGRITY_INTERVAL_MS = 15 * 60_000;
/** A write-and-read probe result is reused for this long, so polling health cannot load the database. */
export const PROBE_TTL_MS = 5_000;
const PROBE_COUNTER = 'health_probe';

export interface HealthReport {
  readonly ok: boolean;
  /** Why the collector is degraded; empty when ok. */
  readonly reasons: string[];
}

export class HealthMonitor {
  private integrityProblem: string | null = null;
  private probe: { at: number; problem: string | null; decided: number } | null = null;
  private storageFault: { at: number; reason: string; decided: number } | null = null;

  constructor(
    private readonly database: SqlDatabase,
    private readonly queue: CommitQueue,
    private readonly clock: () => number,
    /** The SQLite file the collector opened itself, checkable from a worker thread; null otherwise. */
    private readonly sqliteFile: string | null = null,
  ) {}

  /** Whether checkIntegrity would run on a worker thread (a large SQLite file), so the caller need not wait for it. */
  get checksInWorker(): boolean {
    return this.sqliteFile !== null && this.sqliteFile !== ':memory:' && wantsWorkerCheck(this.sqliteFile);
  }

  /** Run the integrity check now (SQLite; PostgreSQL checks its own pages and has no equivalent). Returns the problem, or null. */
  async checkIntegrity(): Promise<string | null> {
    if (this.database.dialect !== 'sqlite') return null;
    try {
      const lines = this.checksInWorker
        ? await quickCheckInWorker(this.sqliteFile!)
        : (await this.database.all('PRAGMA quick_check(5)')).map((row) => String(Object.values(row)[0]));
      this.integrityProblem = lines.length === 1 && lines[0] === 'ok' ? null : `database integrity check failed: ${lines.join('; ')}`;
    } catch (error) {
      this.integrityProblem = `database integrity check failed: ${messageOf(error)}`;
    }
    return this.integrityProblem;
  }

  /**
   * A request met a storage fault (storage/faults.ts): degraded with `reason` until reports commit
   * again, or a write-and-read probe passes PROBE_TTL_MS or more after the fault (the probe's few
   * bytes may still fit on a disk too full for a report, so a probe right after proves little).
   */
  noteStorageFault(reason: string): void {
    this.storageFault = { at: this.clock(), reason, decided: this.queue.stats.decided };
    this.probe = null;
  }

  /** The current health, running the write-and-read probe when its last result is older than PROBE_TTL_MS. */
  async report(): Promise<HealthReport> {
    const now = this.clock();
    const decided = this.queue.stats.decided;
    // A failed probe is retried at once when reports have committed since: storage is back.
    let probe = this.probe;
    if (!probe || now - probe.at >= PROBE_TTL_MS || now < probe.at || (probe.problem !== null && decided > probe.decided)) {
      probe = { at: now, problem: await this.writeAndRead(), decided };
      this.probe = probe;
    }
    const fault = this.storageFault;
    if (fault && (decided > fault.decided || (probe.problem === null && probe.at - fault.at >= PROBE_TTL_MS))) this.storageFault = null;
    const failure = this.queue.failure;
    const reasons = [
      this.integrityProblem,
      this.storageFault ? `storage unavailable: ${this.storageFault.reason}` : null,
      probe.problem,
      failure ? `the last commit of reports failed: ${failure.message}` : null,
    ].filter((reason): reason is string => reason !== null);
    return { ok: reasons.length === 0, reasons };
  }

  private async writeAndRead(): Promise<string | null> {
    try {
      const written = await this.database.transaction(async (tx) => {
        await tx.run(`INSERT INTO counters (name, value) VALUES (?, 0) ON CONFLICT (name) DO NOTHING`, [PROBE_COUNTER]);
        return reserve(tx, PROBE_COUNTER, 1);
      });
      const row = await this.database.get('SELECT value FROM counters WHERE name = ?', [PROBE_COUNTER]);
      if (Number(row?.value) < written) return `database read back ${String(row?.value)} after writing ${written}`;
      // The tables IT reads, so a database that stores but cannot list says so.
      for (const table of ['devices', 'reports', 'findings']) await this.database.all(`SELECT * FROM ${table} ORDER BY 1 DESC LIMIT 1`);
      return null;
    } catch (error) {
      return `database cannot be written and read: ${messageOf(error)}`;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
