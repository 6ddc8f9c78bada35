/**
 * Running degraded when the disk cannot take a write.
 *
 * A full disk, a file system remounted read-only or a database locked by someone else are
 * conditions of the machine, not bugs: the agent keeps running, keeps what it has not stored yet in
 * memory where it can (input capture), and tries again later. Every service that writes goes
 * through one StorageHealth per database, so the log gets one line when a condition starts and one
 * when writes work again, not one per failed write. Anything else a write throws is a bug and is
 * rethrown.
 *
 * A failed write never loses what was committed before it: SQLite rolls the transaction back and
 * the rows already in the database (and its WAL) stay as they were.
 */
import { fail, ok, type Result } from '../../common/result';
import type { Clock, Logger } from '../context';
import type { Db } from './database';

/** What is wrong with the disk or the database file, as far as a write can tell. */
export type StorageFault = 'full' | 'read-only' | 'locked' | 'io';

const FAULT_DETAIL: Readonly<Record<StorageFault, string>> = {
  full: 'the disk is full',
  'read-only': 'the database or its folder is read-only',
  locked: 'the database is locked by another process',
  io: 'the disk reports I/O errors',
};

/** The storage condition an error stands for, or null when it is not one (a bug). */
export function storageFaultOf(error: unknown): StorageFault | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code.startsWith('SQLITE_CANTOPEN') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return 'read-only';
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'io';
  return null;
}

/** The same condition logged again within this time is a flapping disk, not news (ms). */
export const REPEAT_LOG_MS = 10 * 60_000;

export class StorageHealth {
  private current: StorageFault | null = null;
  private failedWrites = 0;
  /** Whether the current episode's start was logged (its end is logged only if so). */
  private announced = false;
  private readonly lastLogged = new Map<StorageFault, number>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** The condition writes are failing with now, or null when the last write worked. */
  get fault(): StorageFault | null {
    return this.current;
  }

  /**
   * Run one write (a transaction). A storage fault is logged (once per condition) and returned as
   * DATABASE_UNWRITABLE; any other error is rethrown.
   */
  write<T>(what: string, run: () => T): Result<T> {
    let value: T;
    try {
      value = run();
    } catch (error) {
      const fault = this.absorb(error, what);
      if (fault === null) throw error;
      return fail('DATABASE_UNWRITABLE', `${what}: ${FAULT_DETAIL[fault]}`);
    }
    this.succeeded();
    return ok(value);
  }

  /**
   * For callers with their own try/catch: returns the fault (after logging it once) when `error`
   * is a storage condition, null when it is a bug the caller must rethrow.
   */
  absorb(error: unknown, what: string): StorageFault | null {
    const fault = storageFaultOf(error);
    if (fault === null) return null;
    this.failedWrites++;
    if (fault === this.current) return fault;
    this.current = fault;
    const now = this.clock.now();
    const last = this.lastLogged.get(fault);
    this.announced = last === undefined || now - last >= REPEAT_LOG_MS || now < last;
    if (this.announced) {
      this.lastLogged.set(fault, now);
      this.logger.log('error', `Cannot write local data: ${FAULT_DETAIL[fault]}. The agent keeps running and retries; nothing already stored is lost`, {
        condition: fault,
        code: String((error as { code?: unknown }).code),
        during: what,
      });
    }
    return fault;
  }

  /** Record a write that worked: ends a degraded episode (logged once if its start was). */
  succeeded(): void {
    if (this.current === null) return;
    if (this.announced) {
      this.logger.log('info', 'Local data can be written again', { condition: this.current, failedWrites: this.failedWrites });
    }
    this.current = null;
    this.failedWrites = 0;
    this.announced = false;
  }
}

const healthByDb = new WeakMap<Db, StorageHealth>();

/** The one StorageHealth of this database handle, shared by every service that writes to it. */
export function storageHealth(ctx: { readonly db: Db; readonly logger: Logger; readonly clock: Clock }): StorageHealth {
  let health = healthByDb.get(ctx.db);
  if (health === undefined) {
    health = new StorageHealth(ctx.logger, ctx.clock);
    healthByDb.set(ctx.db, health);
  }
  return health;
}
