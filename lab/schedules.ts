/**
 * Injector schedules for the lab: real human typing times and generated human-like pointer motion.
 *
 * Key identity in the lab is irrelevant and never recorded: every keystroke is mapped to one of a few
 * safe letter keys, chosen so that overlapping keystrokes use different letters (a held key pressed
 * again would read as auto-repeat).
 */
import fs from 'node:fs';
import path from 'node:path';
import { seededRandom } from './delay-proxy';
import { mergeSchedules, scheduleLine, type ScheduleLine } from './injector';

/** One keystroke of a recorded session, ms from the session start. */
export interface Keystroke {
  readonly press: number;
  readonly release: number;
}

export interface TypingSession {
  readonly user: number;
  readonly session: number;
  readonly keystrokes: readonly Keystroke[];
}

export const FIXTURE_DIR = path.resolve(import.meta.dirname, '../test/fixtures/keystrokes');

/** Load a timing fixture (`user,session,timepress,timerelease`), grouped by session, in file order. */
export function loadTypingSessions(file = 'free_text-timing.csv'): TypingSession[] {
  const text = fs.readFileSync(path.join(FIXTURE_DIR, file), 'utf8');
  const sessions = new Map<string, { user: number; session: number; keystrokes: Keystroke[] }>();
  for (const line of text.split('\n').slice(1)) {
    if (line === '') continue;
    const [user, session, press, release] = line.split(',').map(Number) as [number, number, number, number];
    const key = `${user}/${session}`;
    let entry = sessions.get(key);
    if (!entry) {
      entry = { user, session, keystrokes: [] };
      sessions.set(key, entry);
    }
    entry.keystrokes.push({ press, release });
  }
  return [...sessions.values()];
}

/** Recording clock ticks seen in the fixture (ms), largest first: a Windows timer tick, then others. */
export const RECORDING_TICKS_MS = [15.625, 12.5, 10, 8] as const;

/**
 * The recording clock's tick of a session, ms: one of RECORDING_TICKS_MS, or 1 (fine).
 *
 * Most fixture sessions were recorded on a coarse clock: consecutive press/release gaps are almost
 * all multiples of 15.6 ms (or 12.5, 10, 8 ms), with hundreds of exact 0 ms gaps (a release and the
 * next press in the same tick). Replayed as is, those ties look exactly like a relay bunching
 * events, which no 1 ms hook clock (the X server's) would show for the same typing. A session is
 * coarse with tick T when over 60% of its gaps (under 2 s) sit on a multiple of T (exactly for
 * integer T, within 1 ms for fractional T); on a 1 ms clock 1/T to 3/T of them land there by chance.
 */
export function recordingTickMs(keystrokes: readonly Keystroke[]): number {
  const times = keystrokes.flatMap((k) => [k.press, k.release]).sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    if (gap <= 2000) gaps.push(gap);
  }
  if (gaps.length === 0) return 1;
  for (const tick of RECORDING_TICKS_MS) {
    // Integer ticks land exactly on integer ms; fractional ones within 1 ms either side.
    const tolerance = Number.isInteger(tick) ? 0 : 1.01;
    let on = 0;
    for (const gap of gaps) {
      const r = gap % tick;
      if (r <= tolerance || r >= tick - tolerance) on++;
    }
    if (on / gaps.length > 0.6) return tick;
  }
  return 1;
}

/**
 * A coarse-clock session moved onto a fine clock: every press and release time gets an independent
 * uniform offset in [0, tick) (where within its tick the event really happened), seeded by user and
 * session so replays are repeatable. Order across ticks is kept; ties within a tick are broken at
 * random, as real time would. Fine sessions are returned unchanged. This is a model of the unknown
 * sub-tick times, stated here because every offline and lab result for typing rests on it.
 */
export function dequantizeSession(session: TypingSession): TypingSession {
  const tick = recordingTickMs(session.keystrokes);
  if (tick === 1) return session;
  const random = seededRandom(1_000_003 * (session.user + 1) + session.session);
  const keystrokes = session.keystrokes.map((k) => {
    const press = k.press + random() * tick;
    const release = Math.max(press + 1, k.release + random() * tick);
    return { press: Math.round(press * 1000) / 1000, release: Math.round(release * 1000) / 1000 };
  });
  return { user: session.user, session: session.session, keystrokes };
}

/** Every fixture session on a fine clock (see dequantizeSession): what lab replays and the bench use. */
export function loadFineTypingSessions(file = 'free_text-timing.csv'): TypingSession[] {
  return loadTypingSessions(file).map(dequantizeSession);
}

/** The fixed split: held-out (evaluation) users have odd ids; tuning and the prior use even ids. */
export function isHeldOutUser(user: number): boolean {
  return user % 2 === 1;
}

/** Longest key hold replayed, ms. */
export const MAX_HOLD_MS = 2000;

const SAFE_KEYS = ['a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'e'] as const;

/**
 * Turn recorded keystrokes into injector lines. Idle gaps (no key held) longer than `maxIdleMs` are
 * shortened to it, which keeps lab runs short without touching typing rhythm (gaps that long are
 * pauses, outside every feature). Stops once `maxDurationMs` of schedule is filled.
 */
export function typingSchedule(
  keystrokes: readonly Keystroke[],
  options: { readonly maxIdleMs?: number; readonly maxDurationMs?: number; readonly startMs?: number } = {},
): { lines: ScheduleLine[]; durationMs: number; keystrokes: number } {
  const maxIdle = options.maxIdleMs ?? 1500;
  const maxDuration = options.maxDurationMs ?? Infinity;
  const start = options.startMs ?? 0;
  const events: { t: number; key: string; kind: 'down' | 'up'; order: number }[] = [];
  const heldUntil = new Map<string, number>();
  let shift = 0;
  let busyUntil = -Infinity;
  let count = 0;
  let next = 0;
  for (const stroke of keystrokes) {
    // Holds beyond MAX_HOLD_MS are recording glitches (a key "held" for minutes); X would also
    // auto-repeat them. Cap them so a schedule ends when its last press does.
    const release = Math.min(Math.max(stroke.release, stroke.press + 1), stroke.press + MAX_HOLD_MS);
    if (stroke.press - busyUntil > maxIdle && busyUntil > -Infinity) shift += stroke.press - busyUntil - maxIdle;
    const down = stroke.press - shift;
    const up = release - shift;
    if (down > maxDuration) break;
    busyUntil = Math.max(busyUntil, release);
    // Round-robin over letters, skipping any still held at this press.
    let key: string = SAFE_KEYS[next % SAFE_KEYS.length]!;
    for (let tries = 0; tries < SAFE_KEYS.length && (heldUntil.get(key) ?? -1) >= down; tries++) {
      next++;
      key = SAFE_KEYS[next % SAFE_KEYS.length]!;
    }
    next++;
    heldUntil.set(key, up);
    events.push({ t: start + down, key, kind: 'down', order: 1 }, { t: start + up, key, kind: 'up', order: 0 });
    count++;
  }
  // At equal times release before press, so a letter is never pressed while still down.
  events.sort((a, b) => a.t - b.t || a.order - b.order);
  const lines = events.map(scheduleLine);
  const durationMs = events.length === 0 ? 0 : events[events.length - 1]!.t - start;
  return { lines, durationMs, keystrokes: count };
}

/** Parameters of generated pointer motion. */
export interface PointerPlan {
  /** Device report rate, Hz (125, 250, 500, 1000 are typical USB mice). */
  readonly rateHz: number;
  /** Schedule length, ms. */
  readonly durationMs: number;
  readonly seed: number;
  /** Area to move in, in the coordinates of the display being injected into. */
  readonly area: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** First schedule time, ms. */
  readonly startMs?: number;
}

/** Minimum-jerk position profile: 10t^3 - 15t^4 + 6t^5 for t in [0, 1]. */
export function minimumJerk(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return c * c * c * (10 - 15 * c + 6 * c * c);
}

/**
 * Human-like pointing: point-to-point minimum-jerk movements whose duration follows Fitts' law,
 * each landing short or long of the target and followed by one or two small corrective
 * sub-movements, separated by pauses of 150-1200 ms; the device reports at `rateHz` with a small
 * clock wobble, and only when the integer position changes (as X does).
 */
export function pointerSchedule(plan: PointerPlan): { lines: ScheduleLine[]; moves: number } {
  const random = seededRandom(plan.seed);
  const { area } = plan;
  const start = plan.startMs ?? 0;
  const period = 1000 / plan.rateHz;
  const lines: ScheduleLine[] = [];
  let x = area.x + area.width / 2;
  let y = area.y + area.height / 2;
  let t = 0;
  let lastX = Math.round(x);
  let lastY = Math.round(y);
  let moves = 0;
  const move = (toX: number, toY: number, durationMs: number): void => {
    const fromX = x;
    const fromY = y;
    const steps = Math.max(1, Math.round(durationMs / period));
    for (let i = 1; i <= steps; i++) {
      const s = minimumJerk(i / steps);
      const px = Math.round(fromX + (toX - fromX) * s);
      const py = Math.round(fromY + (toY - fromY) * s);
      const at = t + i * period + (random() - 0.5) * 0.1 * period;
      if (px !== lastX || py !== lastY) {
        lines.push(scheduleLine({ t: start + at, kind: 'move', x: px, y: py }));
        lastX = px;
        lastY = py;
        moves++;
      }
    }
    t += steps * period;
    x = toX;
    y = toY;
  };
  while (t < plan.durationMs) {
    const targetX = area.x + 20 + random() * (area.width - 40);
    const targetY = area.y + 20 + random() * (area.height - 40);
    const distance = Math.hypot(targetX - x, targetY - y);
    const width = 10 + random() * 30;
    const fitts = 100 + 150 * Math.log2(distance / width + 1);
    // Primary movement covers 90-105% of the distance, slightly off-axis.
    const reach = 0.9 + random() * 0.15;
    const landX = x + (targetX - x) * reach + (random() - 0.5) * 0.04 * distance;
    const landY = y + (targetY - y) * reach + (random() - 0.5) * 0.04 * distance;
    move(landX, landY, fitts);
    const corrections = random() < 0.6 ? 1 : 2;
    for (let c = 0; c < corrections; c++) {
      t += 30 + random() * 120;
      const cx = c === corrections - 1 ? targetX : x + (targetX - x) * 0.8;
      const cy = c === corrections - 1 ? targetY : y + (targetY - y) * 0.8;
      move(cx, cy, 120 + 100 * Math.log2(Math.hypot(cx - x, cy - y) / width + 1));
    }
    t += 150 + random() * 1050;
  }
  return { lines, moves };
}

/** Steady typing: keystrokes round-robin over `keysyms`, each held `dwellMs`, key-downs `flightMs` apart, from `startMs`. */
export function steadyTyping(
  count: number,
  options: { readonly dwellMs: number; readonly flightMs: number; readonly keysyms?: readonly string[]; readonly startMs?: number },
): ScheduleLine[] {
  const keysyms = options.keysyms ?? ['a', 's'];
  const start = options.startMs ?? 0;
  const downs: ScheduleLine[] = [];
  const ups: ScheduleLine[] = [];
  for (let i = 0; i < count; i++) {
    const key = keysyms[i % keysyms.length]!;
    const t = start + i * options.flightMs;
    downs.push(scheduleLine({ t, kind: 'down', key }));
    ups.push(scheduleLine({ t: t + options.dwellMs, kind: 'up', key }));
  }
  // Ups first: when a release and the next press fall on the same time, the release goes first.
  return mergeSchedules(ups, downs);
}

/** Pointer moves along a straight line from `from`, (dx, dy) per step, `intervalMs` apart. */
export function lineMovement(
  count: number,
  options: { readonly from: readonly [number, number]; readonly dx: number; readonly dy: number; readonly intervalMs: number; readonly startMs?: number },
): ScheduleLine[] {
  const start = options.startMs ?? 0;
  return Array.from({ length: count }, (_, i) =>
    scheduleLine({ t: start + i * options.intervalMs, kind: 'move', x: options.from[0] + i * options.dx, y: options.from[1] + i * options.dy }),
  );
}
