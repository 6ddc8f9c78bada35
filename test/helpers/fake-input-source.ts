/**
 * A hand-written InputSource for unit tests, with driver methods.
 *
 * Drivers take raw events (with keycodes and coordinates, like the real hook) and push them through
 * the real HookBoundary, so tests exercise the same pairing and distance code as production.
 */
import { fail, ok, type ErrorCode, type Result } from '../../common/result';
import { HookBoundary, RawEventType } from '../../agent/input/hook-boundary';
import type { InputListener, InputSource } from '../../agent/input/input-source';

export class FakeInputSource implements InputSource {
  readonly name = 'fake';
  private boundary: HookBoundary | null = null;
  /** When set, start() fails with this code (e.g. to simulate "no display"). */
  startFailure: { code: ErrorCode; message: string } | null = null;
  started = false;

  async start(listener: InputListener): Promise<Result<void>> {
    if (this.startFailure) return fail(this.startFailure.code, this.startFailure.message);
    this.boundary = new HookBoundary(listener);
    this.started = true;
    return ok(undefined);
  }

  stop(): void {
    this.boundary?.reset();
    this.boundary = null;
    this.started = false;
  }

  keyDown(keycode: number, time: number): void {
    this.boundary?.accept({ type: RawEventType.keyPressed, time, keycode });
  }

  keyUp(keycode: number, time: number): void {
    this.boundary?.accept({ type: RawEventType.keyReleased, time, keycode });
  }

  /** A key pressed at `downTime` and released at `upTime`. */
  tap(keycode: number, downTime: number, upTime: number): void {
    this.keyDown(keycode, downTime);
    this.keyUp(keycode, upTime);
  }

  move(x: number, y: number, time: number): void {
    this.boundary?.accept({ type: RawEventType.mouseMoved, time, x, y });
  }

  press(time: number): void {
    this.boundary?.accept({ type: RawEventType.mousePressed, time, x: 0, y: 0 });
  }

  wheel(time: number): void {
    this.boundary?.accept({ type: RawEventType.mouseWheel, time, x: 0, y: 0 });
  }
}
