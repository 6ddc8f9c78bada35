/**
 * Precise input injection for integration tests: test/tools/xtest-inject.c, compiled on demand.
 *
 * xdotool's per-command X round trips add 10-35 ms to every sleep, which swamps typing rhythm;
 * this injector sleeps to absolute CLOCK_MONOTONIC deadlines and injects through XTEST, so the
 * schedule reaches the X server within about a millisecond.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCE = path.resolve(import.meta.dirname, '..', 'tools', 'xtest-inject.c');
let built: string | null = null;

/** Compile the injector once per process; returns its path. Needs gcc, libx11-dev, libxtst-dev. */
export function buildInjector(): string {
  if (built && fs.existsSync(built)) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-inject-'));
  const binary = path.join(dir, 'xtest-inject');
  const result = spawnSync('gcc', ['-O2', '-Wall', '-o', binary, SOURCE, '-lX11', '-lXtst'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gcc failed to build ${SOURCE}:\n${result.stderr}`);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  built = binary;
  return binary;
}

/** Run one schedule (e.g. ["down:a@0", "up:a@80"]) on the display in `env`; resolves when done. */
export function inject(env: NodeJS.ProcessEnv, steps: readonly string[]): Promise<void> {
  const binary = buildInjector();
  return new Promise((resolve, reject) => {
    execFile(binary, [...steps], { env, timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`xtest-inject failed: ${stderr || error.message}`));
      else resolve();
    });
  });
}

/** Keystrokes alternating over `keysyms`, each held `dwellMs`, key-downs `flightMs` apart, from `startMs`. */
export function typingSchedule(count: number, options: { dwellMs: number; flightMs: number; keysyms?: readonly string[]; startMs?: number }): string[] {
  const keysyms = options.keysyms ?? ['a', 's'];
  const start = options.startMs ?? 0;
  const steps: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = keysyms[i % keysyms.length]!;
    const down = start + i * options.flightMs;
    steps.push(`down:${key}@${down}`, `up:${key}@${down + options.dwellMs}`);
  }
  // Steps must be in time order for the injector: a dwell longer than the flight interleaves them.
  return steps.sort((a, b) => Number(a.split('@')[1]) - Number(b.split('@')[1]));
}

/** Pointer moves in a straight line, (dx, dy) per step, `intervalMs` apart. */
export function movementSchedule(count: number, options: { from: [number, number]; dx: number; dy: number; intervalMs: number; startMs?: number }): string[] {
  const start = options.startMs ?? 0;
  return Array.from(
    { length: count },
    (_, i) => `move:${options.from[0] + i * options.dx},${options.from[1] + i * options.dy}@${start + i * options.intervalMs}`,
  );
}

/** Poll `check` until it returns true (generous default for a busy 2-core machine). */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
