/**
 * Retention: the age cap and the size cap on the agent's database.
 *
 * Rows go through pruners, one per table, so a table owned by another module (the outbox, say) is
 * only ever trimmed by a pruner that module supplies. After deleting, the freed pages are handed
 * back to the file system (incremental_vacuum on databases created with auto_vacuum=INCREMENTAL,
 * a full VACUUM on older files) and the WAL is checkpointed and truncated, so the file really
 * shrinks rather than just gaining free pages.
 */
import fs from 'node:fs';
import type { AgentContext, AgentService } from '../context';
import type { Db } from './database';
import { storageHealth } from './storage-health';
import { deleteClosedFindingsBefore } from './findings';
import { deleteOldestTimingWindows, deleteTimingWindowsEndedBefore } from './timing-windows';

/** Trims one table. Each call runs inside retention's transaction. */
export interface RetentionPruner {
  readonly name: string;
  /** Delete rows whose time is before `cutoff` (epoch ms); return how many were deleted. */
  pruneBefore(db: Db, cutoff: number): number;
  /** Delete up to `count` of the oldest rows; return how many were deleted (0: nothing left to give). */
  pruneOldest(db: Db, count: number): number;
}

export const timingWindowsPruner: RetentionPruner = {
  name: 'timing_windows',
  pruneBefore: deleteTimingWindowsEndedBefore,
  pruneOldest: deleteOldestTimingWindows,
};

/** Closed findings only: an open finding is current state, never trimmed by age or size. */
export const closedFindingsPruner: RetentionPruner = {
  name: 'findings',
  pruneBefore: deleteClosedFindingsBefore,
  pruneOldest: (db, count) =>
    db
      .prepare(
        'DELETE FROM findings WHERE id IN (SELECT id FROM findings WHERE closed_at IS NOT NULL ORDER BY last_seen_at, id LIMIT ?)',
      )
      .run(count).changes,
};

export const DEFAULT_PRUNERS: readonly RetentionPruner[] = [timingWindowsPruner, closedFindingsPruner];

export interface RetentionLimits {
  readonly maxDays: number;
  readonly maxMegabytes: number;
}

export interface RetentionOutcome {
  /** Rows deleted by the age cap, per pruner name. */
  readonly deletedByAge: Record<string, number>;
  /** Rows deleted by the size cap, per pruner name. */
  readonly deletedBySize: Record<string, number>;
  /** Database + WAL bytes on disk before and after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** Rows deleted per pruner per size-cap round. */
const SIZE_BATCH_ROWS = 500;

/**
 * Apply the age cap, then the size cap, then give the space back.
 * `file` is the database's path (for measuring the file on disk).
 */
export function runRetention(
  db: Db,
  file: string,
  limits: RetentionLimits,
  now: number,
  pruners: readonly RetentionPruner[] = DEFAULT_PRUNERS,
): RetentionOutcome {
  const bytesBefore = bytesOnDisk(file);
  const deletedByAge: Record<string, number> = {};
  const deletedBySize: Record<string, number> = {};
  const cutoff = now - limits.maxDays * 86_400_000;
  db.transaction(() => {
    for (const pruner of pruners) deletedByAge[pruner.name] = pruner.pruneBefore(db, cutoff);
  }).immediate();

  const capBytes = limits.maxMegabytes * 1024 * 1024;
  for (const pruner of pruners) deletedBySize[pruner.name] = 0;
  // Live pages (not free ones) are what deleting rows can reduce; compare them with the cap.
  while (liveBytes(db) > capBytes) {
    let deleted = 0;
    db.transaction(() => {
      for (const pruner of pruners) {
        const count = pruner.pruneOldest(db, SIZE_BATCH_ROWS);
        deletedBySize[pruner.name] = (deletedBySize[pruner.name] ?? 0) + count;
        deleted += count;
      }
    }).immediate();
    if (deleted === 0) break;
  }

  const totalDeleted = [...Object.values(deletedByAge), ...Object.values(deletedBySize)].reduce((a, b) => a + b, 0);
  if (totalDeleted > 0 || (db.pragma('freelist_count', { simple: true }) as number) > 0) reclaimSpace(db);
  return { deletedByAge, deletedBySize, bytesBefore, bytesAfter: bytesOnDisk(file) };
}

/** Return free pages to the file system and truncate the WAL. */
export function reclaimSpace(db: Db): void {
  const autoVacuum = db.pragma('auto_vacuum', { simple: true }) as number;
  // 2 = INCREMENTAL. A file created before retention existed has 0 (NONE): only VACUUM shrinks it.
  if (autoVacuum === 2) db.pragma('incremental_vacuum');
  else if ((db.pragma('freelist_count', { simple: true }) as number) > 0) db.exec('VACUUM');
  db.pragma('wal_checkpoint(TRUNCATE)');
}

function liveBytes(db: Db): number {
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  const freePages = db.pragma('freelist_count', { simple: true }) as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  return (pageCount - freePages) * pageSize;
}

/** Size of the database file plus its WAL, in bytes (0 for files that do not exist). */
export function bytesOnDisk(file: string): number {
  let total = 0;
  for (const candidate of [file, `${file}-wal`]) {
    try {
      total += fs.statSync(candidate).size;
    } catch {
      // A missing WAL is normal after a TRUNCATE checkpoint or before the first write.
    }
  }
  return total;
}

/** How often the retention service runs (ms); it also runs once at start. */
export const RETENTION_PERIOD_MS = 60 * 60 * 1000;

/**
 * Runs retention at start and hourly. Other tables join by passing their pruner in `pruners`
 * (see createServices in agent/agent.ts).
 */
export class RetentionService implements AgentService {
  readonly name = 'retention';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly file: string,
    private readonly pruners: readonly RetentionPruner[] = DEFAULT_PRUNERS,
  ) {}

  start(): void {
    this.runNow();
    this.timer = setInterval(() => this.runNow(), RETENTION_PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Run once now; returns what it did, or null when the disk refused (the next run tries again). */
  runNow(): RetentionOutcome | null {
    const ran = storageHealth(this.ctx).write('retention', () =>
      runRetention(this.ctx.db, this.file, this.ctx.policy.retention, this.ctx.clock.now(), this.pruners),
    );
    if (!ran.ok) return null;
    const outcome = ran.value;
    const deleted = [...Object.values(outcome.deletedByAge), ...Object.values(outcome.deletedBySize)].reduce((a, b) => a + b, 0);
    if (deleted > 0) {
      this.ctx.logger.log('info', 'Retention trimmed old local data', {
        deleted,
        bytesBefore: outcome.bytesBefore,
        bytesAfter: outcome.bytesAfter,
      });
    }
    return outcome;
  }
}
