/**
 * Latency in the loop: a simulated person steering the pointer through the lab's viewer to targets
 * on the target display, so the link's delay enters the control loop (see lab/loop-operator.c for the
 * controller, lab/loop-target.c for the task).
 *
 *   target Xvfb: loop-target (red squares; the target's cursor painted into the content) + capture
 *   operator Xvfb: vncviewer ── delay proxy ── x11vnc ── target;  loop-operator reads the viewer's
 *   image at a video rate and drives the operator pointer with XTEST
 *
 * Two ways the operator knows its cursor: 'vnc' (the viewer draws the operator's own cursor, seen at
 * once; only the screen content is delayed) and 'kvm' (the cursor is known only from the video, as
 * with an IP-KVM: pointer input and screen update are both in the loop).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { InputEvent } from '../agent/input/input-source';
import { seededRandom } from '../agent/sync/backoff';
import { buildLabProgram } from './injector';
import { stopChild, type Lab } from './lab';

/** How the operator knows where its cursor is. */
export type LoopVariant = 'vnc' | 'kvm';

export const LOOP_VARIANTS: readonly LoopVariant[] = ['vnc', 'kvm'];

/** The C sources of the task and the operator. */
export const LOOP_TARGET_SOURCE = path.join(import.meta.dirname, 'loop-target.c');
export const LOOP_OPERATOR_SOURCE = path.join(import.meta.dirname, 'loop-operator.c');

/** One simulated person: the controller's timing and accuracy (see lab/loop-operator.c). */
export interface LoopPersona {
  /** Reaction time to a new target, mean and SD, ms. */
  readonly rt: number;
  readonly rt_sd: number;
  /** Fitts' law: intercept ms and slope ms per bit. */
  readonly fitts_a: number;
  readonly fitts_b: number;
  /** Pause to check where the cursor came to rest, mean and SD, ms. */
  readonly verify: number;
  readonly verify_sd: number;
  /** Button hold, ms. */
  readonly hold: number;
  /** Fraction of the seen distance a submovement covers (people undershoot). */
  readonly gain: number;
  /** Endpoint-noise scale. */
  readonly noise: number;
  /** Mouse report rate, Hz. */
  readonly rate: number;
  /** Frames the operator sees per second. */
  readonly fps: number;
}

/**
 * The person a seed stands for: every seed draws its own timing and accuracy from ranges around
 * published pointing figures, so a held-out seed is a different person, not the same person again.
 */
export function loopPersona(seed: number): LoopPersona {
  const random = seededRandom(seed * 7919 + 17);
  const between = (low: number, high: number): number => Math.round((low + (high - low) * random()) * 1000) / 1000;
  const rt = between(180, 300);
  const verify = between(90, 220);
  return {
    rt,
    rt_sd: Math.round(rt * 0.15),
    fitts_a: between(40, 90),
    fitts_b: between(95, 165),
    verify,
    verify_sd: Math.round(verify * 0.25),
    hold: between(70, 130),
    gain: between(0.92, 0.99),
    noise: between(0.8, 1.3),
    rate: [125, 125, 250, 500][Math.floor(random() * 4)]!,
    fps: 60,
  };
}

/** Build both C programs (cached); throws with the compiler's message when that fails. */
export function buildLoopPrograms(): { target: string; operator: string } {
  return {
    target: buildLabProgram(LOOP_TARGET_SOURCE, ['-lX11', '-lm']),
    operator: buildLabProgram(LOOP_OPERATOR_SOURCE, ['-lXtst', '-lXext', '-lX11', '-lm']),
  };
}

export interface LoopRunOptions {
  readonly variant: LoopVariant;
  readonly seed: number;
  /** Squares to reach. */
  readonly targets: number;
  /** Give up after this long, ms (default 4 s per target plus 20 s). */
  readonly timeoutMs?: number;
  /** Let the operator trace each plan (positions included) to this process's stderr: lab debugging only. */
  readonly trace?: boolean;
}

export interface LoopRun {
  /** Squares the operator reached and clicked, as the target task counted them. */
  readonly hits: number;
  /** Corrective submovements per reached square, as the operator counted them (lab truth, not captured). */
  readonly corrections: readonly number[];
  /** What the agent's capture saw on the target display: times and step lengths only. */
  readonly events: readonly InputEvent[];
  /** The machine's 1-minute load average when the run ended. */
  readonly load: number;
  /** Mean time to read one frame of the viewer, µs (the operator's own cost). */
  readonly grabUs: number;
}

/** Spawn a lab program whose stdout lines go to `onLine`; registered with the lab at once. */
function spawnLines(command: string, args: readonly string[], env: NodeJS.ProcessEnv, adopt: (child: ChildProcess) => void, onLine: (line: string) => void, trace = false): ChildProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  adopt(child);
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
    if (trace) process.stderr.write(chunk);
  });
  child.once('exit', (code) => {
    if (code !== null && code !== 0 && errors !== '') process.stderr.write(`${path.basename(command)}: ${errors.trim()}\n`);
  });
  readline.createInterface({ input: child.stdout! }).on('line', onLine);
  return child;
}

/**
 * One pointing run in a started lab: the task on the target display, the operator on the operator
 * display, until `targets` squares were clicked (or the timeout). The link is whatever the lab has.
 */
export async function runLoop(lab: Lab, options: LoopRunOptions): Promise<LoopRun> {
  const programs = buildLoopPrograms();
  const persona = loopPersona(options.seed);
  let hits = 0;
  let ready = false;
  const corrections: number[] = [];
  let grabUs = 0;
  const children: ChildProcess[] = [];
  try {
    const { events } = await lab.record(async (adopt) => {
      let finished: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (finished = resolve));
      const task = spawnLines(programs.target, [String(options.seed)], lab.target.env, adopt, (line) => {
        if (line === 'ready') ready = true;
        const hit = /^hit (\d+)$/.exec(line);
        if (hit) {
          hits = Number(hit[1]);
          if (hits >= options.targets) finished();
        }
      });
      children.push(task);
      task.once('exit', () => finished());
      const readyBy = Date.now() + 10_000;
      while (!ready && task.exitCode === null && Date.now() < readyBy) await new Promise((resolve) => setTimeout(resolve, 20));
      if (!ready) throw new Error('loop: the target task did not draw its first square');
      const settings = Object.entries(persona).map(([name, value]) => `${name}=${value}`);
      const { x, y } = lab.viewerOrigin;
      const { width, height } = lab.targetSize;
      const operator = spawnLines(programs.operator, [options.variant, String(options.seed), String(x), String(y), String(width), String(height), ...settings, ...(options.trace ? ['trace=1'] : [])], lab.operator.env, adopt, (line) => {
        const trial = /^trial (\d+)$/.exec(line);
        if (trial) corrections.push(Number(trial[1]));
        const frames = /^frames \d+ (\d+)$/.exec(line);
        if (frames) grabUs = Number(frames[1]);
      }, options.trace);
      children.push(operator);
      operator.once('exit', () => finished());
      const timer = setTimeout(finished, options.timeoutMs ?? options.targets * 4000 + 20_000);
      await done;
      clearTimeout(timer);
      await stopChild(operator);
    });
    return { hits, corrections, events, load: os.loadavg()[0]!, grabUs };
  } finally {
    for (const child of children) await stopChild(child);
  }
}
