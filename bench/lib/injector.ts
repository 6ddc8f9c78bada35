/**
 * Real input for the hook rows: the timing engineer's XTEST injector (test/lab/injector.c),
 * compiled at run time with gcc, replaying a schedule of key taps and pointer moves into Xvfb.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exited, MissingCodeError, OUTPUT_DIR, REPO_ROOT, spawnTracked } from './children';

const SOURCE = path.join(REPO_ROOT, 'test', 'lab', 'injector.c');
const BINARY = path.join(OUTPUT_DIR, 'bench-build', 'injector');

/** Compile the injector (once per run). Throws MissingCodeError when the source or gcc/libXtst is missing. */
export function buildInjector(): string {
  if (!fs.existsSync(SOURCE)) throw new MissingCodeError('test/lab/injector.c');
  if (fs.existsSync(BINARY) && fs.statSync(BINARY).mtimeMs >= fs.statSync(SOURCE).mtimeMs) return BINARY;
  fs.mkdirSync(path.dirname(BINARY), { recursive: true });
  const result = spawnSync('gcc', ['-O2', SOURCE, '-o', BINARY, '-lXtst', '-lX11'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new MissingCodeError(`a working gcc with libxtst-dev (${(result.stderr || result.error?.message || '').trim().split('\n')[0]})`);
  }
  return BINARY;
}

export interface LoadShape {
  readonly seconds: number;
  /** Key taps per second (each a down and an up, 80 ms apart). */
  readonly keysPerSecond: number;
  /** Pointer moves per second, along a circle so every move has a non-zero step. */
  readonly movesPerSecond: number;
}

/** Write the schedule for `shape`; returns its path and how many X events it sends. */
export function writeSchedule(shape: LoadShape, file: string): { file: string; events: number } {
  const lines: string[] = [];
  const letters = 'etaoinshrdlu';
  const keyStep = 1000 / shape.keysPerSecond;
  const moveStep = 1000 / shape.movesPerSecond;
  const timed: [number, string][] = [];
  for (let i = 0; i * keyStep < shape.seconds * 1000; i++) {
    const key = letters[i % letters.length]!;
    timed.push([i * keyStep, `down ${key}`], [i * keyStep + 80, `up ${key}`]);
  }
  for (let i = 0; i * moveStep < shape.seconds * 1000; i++) {
    const angle = (i / 200) * 2 * Math.PI;
    timed.push([i * moveStep, `move ${Math.round(500 + 200 * Math.cos(angle))} ${Math.round(400 + 200 * Math.sin(angle))}`]);
  }
  timed.sort((a, b) => a[0] - b[0]);
  for (const [t, action] of timed) lines.push(`${t.toFixed(3)} ${action}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, events: timed.length };
}

/** Replay a schedule on `env.DISPLAY`; resolves with the injector's worst lateness (µs). */
export async function inject(binary: string, schedule: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ events: number; maxLateUs: number }> {
  const child = spawnTracked(binary, [schedule, '100'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited(child);
  clearTimeout(timer);
  const done = /done (\d+) (\d+)/.exec(out);
  if (code !== 0 || !done) throw new Error(`injector failed (exit ${code}): ${err.trim() || out.trim()}`);
  return { events: Number(done[1]), maxLateUs: Number(done[2]) };
}
