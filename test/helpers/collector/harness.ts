/**
 * Test harness: the lab collector (lab/collector/harness.ts) closed in `t.after`, plus a manual
 * schedule for the silence sweep.
 */
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { CollectorOptions } from '../../../collector/app';
import type { CollectorConfigInput } from '../../../collector/config';
import type { Schedule } from '../../../collector/ingest/silence';
import { startLabCollector, type LabCollector } from '../../../lab/collector/harness';
import { tempDir } from '../temp-dir';

export {
  TEST_DEVICES_ONLY_TOKEN,
  TEST_DEVICES_WRITE_TOKEN,
  TEST_ENROLLMENT_SECRET,
  TEST_IT_TOKEN,
  TEST_TRIAGE_ACTOR,
  TEST_TRIAGE_TOKEN,
} from '../../../lab/collector/harness';

/** A lab collector owned by a test. */
export type TestCollector = LabCollector;

/** A temporary SQLite file path, removed after the test. */
export function tempDatabaseFile(t: TestContext): string {
  return path.join(tempDir(t, 'telltale-collector-'), 'collector.db');
}

/** Start a lab collector (a temporary SQLite file unless `overrides`/`options` give storage), closed after the test. */
export async function startTestCollector(
  t: TestContext,
  overrides: Partial<CollectorConfigInput> = {},
  options: CollectorOptions = {},
): Promise<TestCollector> {
  const collector = await startLabCollector(overrides, options);
  t.after(() => collector.close());
  return collector;
}

/** A CollectorOptions.schedule whose tasks run only when the test calls `tick`, instead of on a timer. */
export class ManualSchedule {
  private readonly tasks = new Set<() => Promise<void>>();
  /** The interval the app asked for, to check it against the config. */
  intervalMs: number | undefined;

  readonly schedule: Schedule = (intervalMs, task) => {
    this.intervalMs = intervalMs;
    this.tasks.add(task);
    return () => this.tasks.delete(task);
  };

  /** Run every scheduled task once, as if their interval elapsed, and wait for them. */
  async tick(): Promise<void> {
    await Promise.all([...this.tasks].map((task) => task()));
  }
}
