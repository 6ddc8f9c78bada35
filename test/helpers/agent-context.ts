/** A real AgentContext on a real SQLite file in a temporary folder, with a settable clock. */
import path from 'node:path';
import { DEFAULT_POLICY, type ResolvedPolicy } from '../../common/policy';
import type { AgentContext, Clock, Logger } from '../../agent/context';
import { AgentEvents } from '../../agent/events';
import { createMemoryLogger } from '../../agent/log';
import { openDatabase } from '../../agent/store/database';
import { tempDir } from './temp-dir';

export interface ManualClock extends Clock {
  set(time: number): void;
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let time = start;
  return { now: () => time, set: (value) => (time = value), advance: (ms) => (time += ms) };
}

export function testContext(
  t: { after(fn: () => void): void },
  overrides: { policy?: Partial<ResolvedPolicy>; clock?: Clock; logger?: Logger } = {},
): AgentContext & { clock: ManualClock; databasePath: string } {
  const dir = tempDir(t, 'telltale-ctx-');
  const databasePath = path.join(dir, 'telltale.db');
  const db = openDatabase(databasePath);
  t.after(() => {
    if (db.open) db.close();
  });
  return {
    db,
    policy: { ...DEFAULT_POLICY, ...overrides.policy },
    clock: (overrides.clock as ManualClock | undefined) ?? manualClock(),
    logger: overrides.logger ?? createMemoryLogger(),
    dataDir: dir,
    agentVersion: 'test',
    events: new AgentEvents(),
    databasePath,
  };
}
