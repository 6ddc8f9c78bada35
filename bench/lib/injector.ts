/**
 * Real input for the hook rows: the lab's XTEST injector (lab/injector.ts) replaying a steady load
 * of key taps and pointer moves into Xvfb.
 */
import { buildInjector, inject, mergeSchedules, scheduleLine, type ScheduleLine } from '../../lab/injector';
import { steadyTyping } from '../../lab/schedules';
import { MissingCodeError, track } from './children';

/** Compile the injector. Throws MissingCodeError when gcc or libXtst is missing. */
export function requireInjector(): void {
  try {
    buildInjector();
  } catch (error) {
    throw new MissingCodeError(`a working gcc with libxtst-dev (${(error instanceof Error ? error.message : String(error)).split('\n')[0]})`);
  }
}

export interface LoadShape {
  readonly seconds: number;
  /** Key taps per second (each a down and an up, 80 ms apart). */
  readonly keysPerSecond: number;
  /** Pointer moves per second, along a circle so every move has a non-zero step. */
  readonly movesPerSecond: number;
}

/** The schedule for `shape`: one X event per line. */
export function loadSchedule(shape: LoadShape): ScheduleLine[] {
  const keyStep = 1000 / shape.keysPerSecond;
  const moveStep = 1000 / shape.movesPerSecond;
  const keys = steadyTyping(Math.ceil(shape.seconds * shape.keysPerSecond), { dwellMs: 80, flightMs: keyStep, keysyms: [...'etaoinshrdlu'] });
  const moves: ScheduleLine[] = [];
  for (let i = 0; i * moveStep < shape.seconds * 1000; i++) {
    const angle = (i / 200) * 2 * Math.PI;
    moves.push(scheduleLine({ t: i * moveStep, kind: 'move', x: Math.round(500 + 200 * Math.cos(angle)), y: Math.round(400 + 200 * Math.sin(angle)) }));
  }
  return mergeSchedules(keys, moves);
}

/** Replay `shape` on `env.DISPLAY`, the injector tracked for cleanup; resolves with what it sent and its worst lateness (µs). */
export function injectLoad(shape: LoadShape, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ events: number; maxLateUs: number }> {
  return inject(loadSchedule(shape), env, { leadMs: 100, timeoutMs, onSpawn: (child) => track(child) });
}
