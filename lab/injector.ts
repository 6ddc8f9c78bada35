/**
 * The one way to send real X input with known timing: lab/injector.c (XTEST, absolute monotonic
 * deadlines), compiled here on demand, and its schedule format. The lab, the bench's input rows and
 * the integration tests all inject through `inject()`.
 *
 * A schedule is a list of lines "<t_ms> <verb> <args>": `down <keysym>`, `up <keysym>`,
 * `move <x> <y>`, `click <button>`, `press <button>`, `release <button>` (see injector.c).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One line of an injector schedule. */
export type ScheduleLine = string;

/** A schedule line as data. */
export type Step =
  | { readonly t: number; readonly kind: 'down' | 'up'; readonly key: string }
  | { readonly t: number; readonly kind: 'move'; readonly x: number; readonly y: number }
  | { readonly t: number; readonly kind: 'click' | 'press' | 'release'; readonly button: number };

/** Format a step as the injector reads it (µs resolution). */
export function scheduleLine(step: Step): ScheduleLine {
  const t = step.t.toFixed(3);
  switch (step.kind) {
    case 'down':
    case 'up':
      return `${t} ${step.kind} ${step.key}`;
    case 'move':
      return `${t} move ${step.x} ${step.y}`;
    default:
      return `${t} ${step.kind} ${step.button}`;
  }
}

/** Parse a schedule line; throws on anything the injector would reject. */
export function parseScheduleLine(line: ScheduleLine): Step {
  const [time, verb, a, b] = line.trim().split(/\s+/);
  const t = Number(time);
  if (!Number.isFinite(t) || a === undefined) throw new Error(`bad schedule line '${line}'`);
  if (verb === 'down' || verb === 'up') return { t, kind: verb, key: a };
  if (verb === 'move' && b !== undefined) return { t, kind: 'move', x: Number(a), y: Number(b) };
  if (verb === 'click' || verb === 'press' || verb === 'release') return { t, kind: verb, button: Number(a) };
  throw new Error(`bad schedule line '${line}'`);
}

/** A line's time, ms from the schedule start. */
export function lineTime(line: ScheduleLine): number {
  return Number(line.slice(0, line.indexOf(' ')));
}

/** Merge schedules into one in time order; equal times keep their given order (a release listed before a press stays first). */
export function mergeSchedules(...schedules: readonly (readonly ScheduleLine[])[]): ScheduleLine[] {
  return schedules
    .flat()
    .map((line, index) => ({ line, index, t: lineTime(line) }))
    .sort((a, b) => a.t - b.t || a.index - b.index)
    .map((entry) => entry.line);
}

export const INJECTOR_SOURCE = path.join(import.meta.dirname, 'injector.c');
const WORK_DIR = path.join(os.tmpdir(), 'telltale-lab');

/**
 * Compile the injector once per source version (cached by hash in the temp dir, shared by
 * concurrent processes); returns the binary's path. Needs gcc, libx11-dev and libxtst-dev.
 */
export function buildInjector(): string {
  return buildLabProgram(INJECTOR_SOURCE, ['-lXtst', '-lX11']);
}

/**
 * Compile one of the lab's C programs once per source version (cached by hash in the temp dir,
 * shared by concurrent processes) and return the binary's path; `libraries` are gcc's -l flags.
 */
export function buildLabProgram(source: string, libraries: readonly string[]): string {
  const hash = crypto.createHash('sha256').update(fs.readFileSync(source)).digest('hex').slice(0, 12);
  const binary = path.join(WORK_DIR, `${path.basename(source, '.c')}-${hash}`);
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(WORK_DIR, { recursive: true });
  // Built under a private name and renamed, so a concurrent run never executes a half-written binary.
  const partial = `${binary}.${process.pid}.tmp`;
  const result = spawnSync('gcc', ['-O2', '-Wall', source, '-o', partial, ...libraries], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    fs.rmSync(partial, { force: true });
    throw new Error(`${path.basename(source)} build failed (needs gcc, libx11-dev, libxtst-dev, libxext-dev): ${(result.stderr || result.error?.message || '').trim()}`);
  }
  fs.renameSync(partial, binary);
  return binary;
}

export interface InjectOptions {
  /** Time between the injector's start-up and the schedule's time 0, ms (default 100). */
  readonly leadMs?: number;
  /** Kill the injector after this long (default: the schedule's length plus a minute). */
  readonly timeoutMs?: number;
  /** Called with the injector's process as soon as it is spawned, e.g. to register it for cleanup. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export interface InjectResult {
  /** Events the injector sent. */
  readonly events: number;
  /** Its worst wake-up lateness, µs: large values mean the machine was overloaded. */
  readonly maxLateUs: number;
}

/** Replay `lines` (put in time order first) on the display in `env`; resolves when all were sent. */
export async function inject(lines: readonly ScheduleLine[], env: NodeJS.ProcessEnv, options: InjectOptions = {}): Promise<InjectResult> {
  const binary = buildInjector();
  const ordered = mergeSchedules(lines);
  const leadMs = options.leadMs ?? 100;
  const file = path.join(WORK_DIR, `schedule-${process.pid}-${crypto.randomUUID()}.txt`);
  fs.writeFileSync(file, `${ordered.join('\n')}\n`);
  try {
    const child = spawn(binary, [file, String(leadMs)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    options.onSpawn?.(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const lastMs = ordered.length === 0 ? 0 : lineTime(ordered[ordered.length - 1]!);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? leadMs + lastMs + 60_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.once('exit', (c, s) => resolve([c, s]));
      child.once('error', (error) => {
        err += error.message;
        resolve([null, null]);
      });
    });
    clearTimeout(timer);
    const done = /done (\d+) (\d+)/.exec(out);
    if (code !== 0 || !done) throw new Error(`injector failed (${signal ?? `exit ${code}`}): ${err.trim() || out.trim() || 'no output'}`);
    return { events: Number(done[1]), maxLateUs: Number(done[2]) };
  } finally {
    fs.rmSync(file, { force: true });
  }
}
