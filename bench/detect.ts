// placeholder plan runner, replaced below
import { runCaptures, type CaptureItem } from '../test/lab/captures';

/** The remote conditions: a cross through (110 ms, 20 ms) over delay and over jitter. */
export const REMOTE_CONDITIONS: readonly { delayMs: number; jitterMs: number }[] = [
  { delayMs: 110, jitterMs: 0 },
  { delayMs: 110, jitterMs: 10 },
  { delayMs: 110, jitterMs: 20 },
  { delayMs: 110, jitterMs: 40 },
  { delayMs: 0, jitterMs: 20 },
  { delayMs: 50, jitterMs: 20 },
  { delayMs: 200, jitterMs: 20 },
];
export const QUICK_CONDITIONS = REMOTE_CONDITIONS.filter((c) => c.delayMs === 110 && c.jitterMs !== 40);

export function capturePlan(quick: boolean): CaptureItem[] {
  const items: CaptureItem[] = [];
  const localUsers = quick ? [1, 3] : [1, 3, 5, 7, 9, 11];
  for (const user of localUsers) {
    items.push({ label: `keys-local-u${user}`, modality: 'keys', route: 'local', delayMs: 0, jitterMs: 0, user, session: 5, durationMs: 30_000 });
  }
  const conditions = quick ? QUICK_CONDITIONS : REMOTE_CONDITIONS;
  const remoteUsers = [17, 19, 21, 23, 25, 27, 29];
  conditions.forEach((c, i) => {
    const user = remoteUsers[i % remoteUsers.length]!;
    items.push({ label: `keys-d${c.delayMs}-j${c.jitterMs}-u${user}`, modality: 'keys', route: 'remote', ...c, user, session: 4, durationMs: quick ? 30_000 : 45_000 });
  });
  const rates = quick ? [125, 1000] : [125, 250, 500, 1000];
  for (const rateHz of rates) {
    items.push({ label: `mouse-local-r${rateHz}`, modality: 'mouse', route: 'local', delayMs: 0, jitterMs: 0, rateHz, seed: rateHz, durationMs: quick ? 8000 : 10_000 });
  }
  conditions.forEach((c, i) => {
    const rateHz = [125, 250, 500, 1000][i % 4]!;
    items.push({ label: `mouse-d${c.delayMs}-j${c.jitterMs}-r${rateHz}`, modality: 'mouse', route: 'remote', ...c, rateHz, seed: 100 + i, durationMs: quick ? 8000 : 12_000 });
  });
  return items;
}

const quick = process.argv.includes('--quick');
await runCaptures(capturePlan(quick), { verbose: true, fresh: process.argv.includes('--fresh') });
