/**
 * Lab capture plans: which human sessions and pointer plans to replay, on which route, under which
 * link conditions, and a cache of the captured (privacy-safe) event streams under test-output/ so
 * the detector can be re-scored without replaying in real time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InputEvent } from '../agent/input/input-source';
import { startLab, type RemoteTool, type Route, type X11vncMode } from './lab';
import { loadFineTypingSessions, pointerSchedule, typingSchedule, type TypingSession } from './schedules';

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
  /** x11vnc input settings on the remote route (default 'tuned'; VNC only). */
  readonly x11vnc?: X11vncMode;
  /** The remote-desktop tool (default 'vnc': x11vnc + TigerVNC; 'rdp': FreeRDP shadow server + xfreerdp). */
  readonly tool?: RemoteTool;
}

/** Bumped when typing schedules change meaning: 'fine-clock' = fixture sessions de-quantized (schedules.ts dequantizeSession). */
export const SCHEDULE_VERSION = 'fine-clock';

/** The fields that define a replay: a cached capture is reused only when all of them match. */
const IDENTITY_FIELDS = ['modality', 'route', 'delayMs', 'jitterMs', 'user', 'session', 'rateHz', 'seed', 'durationMs', 'x11vnc', 'tool'] as const;

/** Defaults of identity fields that older captures lack (they were all VNC with tuned x11vnc). */
const IDENTITY_DEFAULTS: Partial<Record<(typeof IDENTITY_FIELDS)[number], string>> = { x11vnc: 'tuned', tool: 'vnc' };

/** Whether a cached capture is the replay `item` asks for. */
export function sameReplay(cached: CaptureItem, item: CaptureItem): boolean {
  return IDENTITY_FIELDS.every((field) => (cached[field] ?? IDENTITY_DEFAULTS[field]) === (item[field] ?? IDENTITY_DEFAULTS[field]));
}

/** A replay's result: the events the target's capture saw (times on the target X server clock). */
export interface Capture extends CaptureItem {
  /** The schedule generation it replayed (SCHEDULE_VERSION); older captures lack it. */
  readonly schedule?: string;
  readonly events: readonly InputEvent[];
  readonly maxLateUs: number;
  readonly capturedAt: string;
}

export const CAPTURE_DIR = path.resolve(import.meta.dirname, '../test-output/lab-captures');

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
 * Replay every item, reusing cached captures unless `fresh` or the cached file is a different replay
 * (another duration, link, typist, x11vnc mode or schedule version). A lab is started per x11vnc
 * mode only when something must be replayed, and always stopped.
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
    const cached = !options.fresh && fs.existsSync(fileOf(item)) ? (JSON.parse(fs.readFileSync(fileOf(item), 'utf8')) as Capture) : null;
    if (cached !== null && (cached.modality === 'mouse' || cached.schedule === SCHEDULE_VERSION) && sameReplay(cached, item)) results.set(item.label, cached);
    else {
      if (cached !== null && options.verbose) process.stderr.write(`lab: cached ${item.label} is a different replay; replaying\n`);
      pending.push(item);
    }
  }
  // One lab per tool and x11vnc mode (the server's settings are fixed at start).
  for (const [tool, mode] of [['vnc', 'tuned'], ['vnc', 'default'], ['rdp', 'tuned']] as const) {
    const group = pending.filter((item) => (item.tool ?? 'vnc') === tool && (tool === 'rdp' || (item.x11vnc ?? 'tuned') === mode));
    if (group.length > 0) await replay(group, tool, mode, fileOf, results, options.verbose ?? false);
  }
  return items.map((item) => results.get(item.label)!);
}

async function replay(
  pending: readonly CaptureItem[],
  tool: RemoteTool,
  mode: X11vncMode,
  fileOf: (item: CaptureItem) => string,
  results: Map<string, Capture>,
  verbose: boolean,
): Promise<void> {
  const sessions = loadFineTypingSessions();
  const first = pending[0]!;
  const lab = await startLab({ upstream: { delayMs: first.delayMs, jitterMs: first.jitterMs }, seed: 7, verbose, x11vnc: mode, tool });
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
      if (verbose) process.stderr.write(`lab: replaying ${item.label} (${(item.durationMs / 1000).toFixed(0)} s)\n`);
      const run = await lab.run(lines, item.route);
      const capture: Capture = { ...item, schedule: SCHEDULE_VERSION, events: run.events, maxLateUs: run.maxLateUs, capturedAt: new Date().toISOString() };
      fs.writeFileSync(fileOf(item), JSON.stringify(capture));
      results.set(item.label, capture);
    }
  } finally {
    await lab.stop();
  }
}
