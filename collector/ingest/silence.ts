/**
 * Silent devices: a device with no report or heartbeat for `silentAfterMs` is silent. Whether a
 * device is silent is decided on read from its last contact (`isSilent`); its device-silent finding,
 * which the findings stream and OCSF export carry, is opened by sweeps the app runs on a timer, so
 * IT reads never write.
 */
import { listDevicesSeenBefore } from '../storage/devices';
import { listDevicesWithOpenKind } from '../storage/findings';
import type { SqlDatabase } from '../storage/sql';
import { DEVICE_SILENT_KIND, openSilence } from './findings';

/** Runs `task` every `intervalMs` until the returned function is called. */
export type Schedule = (intervalMs: number, task: () => Promise<void>) => () => void;

/** setInterval, not keeping the process alive. */
export const everyInterval: Schedule = (intervalMs, task) => {
  const timer = setInterval(() => void task(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

/** A quarter of the silence threshold, so a finding lags the silence by at most that; 1 s to 1 min. */
export function silenceSweepInterval(silentAfterMs: number): number {
  return Math.max(1000, Math.min(60_000, silentAfterMs / 4));
}

export function isSilent(lastSeenAt: number, now: number, silentAfterMs: number): boolean {
  return lastSeenAt < now - silentAfterMs;
}

/**
 * Open a device-silent finding for every device not heard from since `now - silentAfterMs`.
 * Idempotent: one finding per silence (keyed by the last contact time). Returns how many opened.
 */
export async function sweepSilentDevices(database: SqlDatabase, now: number, silentAfterMs: number): Promise<number> {
  return database.transaction(async (tx) => {
    const candidates = await listDevicesSeenBefore(tx, now - silentAfterMs);
    if (candidates.length === 0) return 0;
    const alreadySilent = await listDevicesWithOpenKind(tx, DEVICE_SILENT_KIND);
    let opened = 0;
    for (const device of candidates) {
      if (alreadySilent.has(device.id)) continue;
      if (await openSilence(tx, device, silentAfterMs, now)) opened += 1;
    }
    return opened;
  });
}

export interface SilenceSweepsOptions {
  readonly database: SqlDatabase;
  readonly clock: () => number;
  readonly silentAfterMs: number;
  readonly schedule: Schedule;
  /** A failed timed sweep (the next one retries). */
  readonly onError: (error: unknown) => void;
}

export interface SilenceSweeps {
  /** Cancel the timer and wait for a sweep in flight (call before closing the database). */
  stop(): Promise<void>;
}

/**
 * Sweep once now, so findings of devices that went silent while the collector was down exist before
 * it serves (a failure here throws), then every silenceSweepInterval. Sweeps never overlap.
 */
export async function startSilenceSweeps(options: SilenceSweepsOptions): Promise<SilenceSweeps> {
  const sweep = async () => {
    await sweepSilentDevices(options.database, options.clock(), options.silentAfterMs);
  };
  await sweep();
  let running: Promise<void> | null = null;
  let stopped = false;
  const cancel = options.schedule(silenceSweepInterval(options.silentAfterMs), async () => {
    if (stopped) return;
    running ??= sweep()
      .catch(options.onError)
      .finally(() => {
        running = null;
      });
    await running;
  });
  return {
    async stop() {
      stopped = true;
      cancel();
      await running;
    },
  };
}
