/**
 * Lab capture plans: which human sessions and pointer plans to replay, on which route, under which
 * link conditions, and a cache of the captured (privacy-safe) event streams under test-output/ so
 * the detector can be re-scored without replaying in real time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InputEvent } from '../../agent/input/input-source';
import { startLab, type Route } from './lab';
import { loadTypingSessions, pointerSchedule, typingSchedule, type TypingSession } from './schedules';

export type Modality = 'keys' | 'mouse';

/** One replay to perform. */
export interface CaptureItem {
  readonly label: string;
  readonly modality: Modality;
  readonly route: Route;
  readonly delayMs: number;
  readonly jitterMs: number;
  /** Typing: whose session, and how much of it. */
  readonly user?: number;
  readonly session?: number;
  /** Pointer: device report rate and seed. */
  readonly rateHz?: number;
  readonly seed?: number;
  readonly durationMs: number;
}

/** A replay's result: the events the target's capture saw (times on the target X server clock). */
export interface Capture extends CaptureItem {
  readonly events: readonly InputEvent[];
  readonly maxLateUs: number;
  readonly capturedAt: string;
}

export const CAPTURE_DIR = path.resolve(import.meta.dirname, '../../test-output/lab-captures');

/** Stable label for a remote or local condition. */
export function conditionLabel(route: Route, delayMs: number, jitterMs: number): string {
  return route === 'local' ? 'local' : `d${delayMs}-j${jitterMs}`;
}

function findSession(sessions: readonly TypingSession[], user: number, session: number): TypingSession {
  const found = sessions.find((s) => s.user === user && s.session === session);
  if (!found) throw new Error(`no typing session ${user}/${session}`);
  return found;
}

/**
 * Replay every item on one lab, reusing cached captures unless `fresh`. The lab is started only
 * when something must be replayed, and always stopped.
 */
export async function runCaptures(
  items: readonly CaptureItem[],
  options: { readonly cacheDir?: string; readonly fresh?: boolean; readonly verbose?: boolean } = {},
): Promise<Capture[]> {
  const dir = options.cacheDir ?? CAPTURE_DIR;
  fs.mkdirSync(dir, { recursive: true });
  const fileOf = (item: CaptureItem): string => path.join(dir, `${item.label}.json`);
  const results = new Map<string, Capture>();
  const pending: CaptureItem[] = [];
  for (const item of items) {
    if (!options.fresh && fs.existsSync(fileOf(item))) results.set(item.label, JSON.parse(fs.readFileSync(fileOf(item), 'utf8')) as Capture);
    else pending.push(item);
  }
  if (pending.length > 0) {
    const sessions = loadTypingSessions();
    const first = pending[0]!;
    const lab = await startLab({ upstream: { delayMs: first.delayMs, jitterMs: first.jitterMs }, seed: 7, verbose: options.verbose });
    try {
      for (const item of pending) {
        lab.setLink({ delayMs: item.delayMs, jitterMs: item.jitterMs });
        let lines: string[];
        if (item.modality === 'keys') {
          const session = findSession(sessions, item.user ?? 1, item.session ?? 0);
          lines = typingSchedule(session.keystrokes, { maxDurationMs: item.durationMs }).lines;
        } else {
          const offset = item.route === 'remote' ? lab.viewerOrigin : { x: 0, y: 0 };
          lines = pointerSchedule({
            rateHz: item.rateHz ?? 125,
            durationMs: item.durationMs,
            seed: item.seed ?? 1,
            area: { x: offset.x + 60, y: offset.y + 60, width: lab.targetSize.width - 120, height: lab.targetSize.height - 120 },
          }).lines;
        }
        if (options.verbose) process.stderr.write(`lab: replaying ${item.label} (${(item.durationMs / 1000).toFixed(0)} s)\n`);
        const run = await lab.run(lines, item.route);
        const capture: Capture = { ...item, events: run.events, maxLateUs: run.maxLateUs, capturedAt: new Date().toISOString() };
        fs.writeFileSync(fileOf(item), JSON.stringify(capture));
        results.set(item.label, capture);
      }
    } finally {
      await lab.stop();
    }
  }
  return items.map((item) => results.get(item.label)!);
}
