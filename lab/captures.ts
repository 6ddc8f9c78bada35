/**
 * Lab capture plans: which human sessions and pointer plans to replay, on which route, under which
 * link conditions, and a cache of the captured (privacy-safe) event streams under test-output/ so
 * the detector can be re-scored without replaying in real time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InputEvent } from '../agent/input/input-source';
import type { TimingWindow } from '../common/timing';
import type { StampedEvent } from './clock-models';
import type { LinkDelay } from './delay-proxy';
import { startLab, type LoopDelay, type RemoteTool, type Route, type VncViewer, type X11vncMode } from './lab';
import type { JitterKind } from './relay-model';
import { loadFineTypingSessions, pointerSchedule, typingSchedule, type TypingSession } from './schedules';
import { AGGREGATOR_LIMITS, windowsFromStamped } from './windows';

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
  /** The VNC viewer on the remote route (default 'tigervnc'; VNC only). */
  readonly viewer?: VncViewer;
  /** Shape of the link's jitter (default 'exponential'). */
  readonly jitter?: JitterKind;
  /** The link's bandwidth cap, kbit/s, both directions (absent: uncapped). */
  readonly rateKbps?: number;
  /** Local route with a busy loop on every core (lab.ts RunOptions.cpuHog). */
  readonly cpuHog?: boolean;
}

/** Bumped when typing schedules change meaning: 'fine-clock' = fixture sessions de-quantized (schedules.ts dequantizeSession). */
export const SCHEDULE_VERSION = 'fine-clock';

/** The fields that define a replay: a cached capture is reused only when all of them match. */
const IDENTITY_FIELDS = ['modality', 'route', 'delayMs', 'jitterMs', 'user', 'session', 'rateHz', 'seed', 'durationMs', 'x11vnc', 'tool', 'viewer', 'jitter', 'rateKbps', 'cpuHog'] as const;

/** Defaults of identity fields that older captures lack (they were all VNC with tuned x11vnc, TigerVNC, exponential jitter, uncapped, unloaded). */
const IDENTITY_DEFAULTS: Partial<Record<(typeof IDENTITY_FIELDS)[number], string | boolean>> = {
  x11vnc: 'tuned',
  tool: 'vnc',
  viewer: 'tigervnc',
  jitter: 'exponential',
  cpuHog: false,
};

/** Whether a cached capture is the replay `item` asks for. */
export function sameReplay(cached: CaptureItem, item: CaptureItem): boolean {
  return IDENTITY_FIELDS.every((field) => (cached[field] ?? IDENTITY_DEFAULTS[field]) === (item[field] ?? IDENTITY_DEFAULTS[field]));
}

/** A replay's result: the events the target's capture saw (times on the target X server clock). */
export interface Capture extends CaptureItem {
  /** The schedule generation it replayed (SCHEDULE_VERSION); older captures lack it. */
  readonly schedule?: string;
  readonly events: readonly InputEvent[];
  /** Each event's delivery delay, ms (older captures lack them: read as 0). */
  readonly deliveryDelaysMs?: readonly number[];
  /** The capture process's event-loop stalls (older captures lack them). */
  readonly loopDelays?: readonly LoopDelay[];
  readonly maxLateUs: number;
  /** The 1-minute load average when the replay ended (older captures lack it). */
  readonly loadAverage?: number;
  readonly capturedAt: string;
}

/**
 * A capture's events with what the agent's load guard reads beside them (delivery delay, loop
 * stalls), ready for lab/windows.ts windowsFromStamped: scored as the agent would score them.
 */
export function capturedStamped(capture: Pick<Capture, 'events' | 'deliveryDelaysMs' | 'loopDelays'>): StampedEvent[] {
  const stalls = new Map<number, number>();
  for (const { index, ms } of capture.loopDelays ?? []) stalls.set(index, Math.max(ms, stalls.get(index) ?? 0));
  return capture.events.map((event, i) => {
    const loopDelayMs = stalls.get(i);
    return { event, deliveryDelayMs: capture.deliveryDelaysMs?.[i] ?? 0, ...(loopDelayMs === undefined ? {} : { loopDelayMs }) };
  });
}

export const CAPTURE_DIR = path.resolve(import.meta.dirname, '../test-output/lab-captures');

/** A capture's windows as the agent builds them, its load guard's inputs (delivery delays, loop stalls) included. */
export function captureWindows(capture: Pick<Capture, 'events' | 'deliveryDelaysMs' | 'loopDelays'>): TimingWindow[] {
  return windowsFromStamped(capturedStamped(capture), AGGREGATOR_LIMITS);
}

/** The remote tool of a capture as the tables name it. */
export function describeTool(item: Pick<CaptureItem, 'tool' | 'x11vnc' | 'route'>): string {
  if (item.route === 'local') return '-';
  return item.tool === 'rdp' ? 'FreeRDP' : item.x11vnc === 'default' ? 'x11vnc default' : 'x11vnc tuned';
}

/** A capture's link as the tables name it: jitter ("20 exponential") and cap ("256 kbit/s", "-"). */
export function describeLink(item: Pick<CaptureItem, 'jitterMs' | 'jitter' | 'rateKbps'>): { jitter: string; cap: string } {
  return {
    jitter: item.jitterMs === 0 ? '0' : `${item.jitterMs} ${item.jitter ?? 'exponential'}`,
    cap: item.rateKbps === undefined ? '-' : item.rateKbps >= 1000 ? `${item.rateKbps / 1000} Mbit/s` : `${item.rateKbps} kbit/s`,
  };
}

/** Stable label for a remote or local condition. */
export function conditionLabel(route: Route, delayMs: number, jitterMs: number): string {
  return route === 'local' ? 'local' : `d${delayMs}-j${jitterMs}`;
}

/** An item's link, both directions alike. */
function linkOf(item: CaptureItem): LinkDelay {
  return { delayMs: item.delayMs, jitterMs: item.jitterMs, ...(item.jitter ? { jitter: item.jitter } : {}), ...(item.rateKbps ? { rateKbps: item.rateKbps } : {}) };
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
  // One lab per tool, x11vnc mode and viewer (fixed at start).
  const setups = [
    ['vnc', 'tuned', 'tigervnc'],
    ['vnc', 'default', 'tigervnc'],
    ['vnc', 'tuned', 'tightvnc'],
    ['vnc', 'default', 'tightvnc'],
    ['rdp', 'tuned', 'tigervnc'],
  ] as const;
  for (const [tool, mode, viewer] of setups) {
    const group = pending.filter(
      (item) => (item.tool ?? 'vnc') === tool && (tool === 'rdp' || ((item.x11vnc ?? 'tuned') === mode && (item.viewer ?? 'tigervnc') === viewer)),
    );
    if (group.length > 0) await replay(group, { tool, mode, viewer }, fileOf, results, options.verbose ?? false);
  }
  return items.map((item) => results.get(item.label)!);
}

async function replay(
  pending: readonly CaptureItem[],
  { tool, mode, viewer }: { tool: RemoteTool; mode: X11vncMode; viewer: VncViewer },
  fileOf: (item: CaptureItem) => string,
  results: Map<string, Capture>,
  verbose: boolean,
): Promise<void> {
  const sessions = loadFineTypingSessions();
  const first = pending[0]!;
  const lab = await startLab({ upstream: linkOf(first), seed: 7, verbose, x11vnc: mode, tool, viewer });
  try {
    for (const item of pending) {
      lab.setLink(linkOf(item));
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
      const run = await lab.run(lines, item.route, { cpuHog: item.cpuHog === true });
      const capture: Capture = {
        ...item,
        schedule: SCHEDULE_VERSION,
        events: run.events,
        deliveryDelaysMs: run.deliveryDelaysMs,
        loopDelays: run.loopDelays,
        maxLateUs: run.maxLateUs,
        loadAverage: run.loadAverage,
        capturedAt: new Date().toISOString(),
      };
      fs.writeFileSync(fileOf(item), JSON.stringify(capture));
      results.set(item.label, capture);
    }
  } finally {
    await lab.stop();
  }
}
