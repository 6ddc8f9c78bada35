/**
 * The hook boundary: where raw OS input events lose their identity.
 *
 * Raw events (uiohook-napi's shape: type, time, keycode, x, y) go in; InputEvents (times, held
 * counts, step lengths) come out. The only identity kept is transient and in memory: which keycodes
 * are held right now (to pair a key-down with its key-up and ignore auto-repeat) and the last
 * pointer position (to measure the next step). Neither is ever exposed, logged or stored.
 */
import type { StampedTime } from './input-clock';
import type { InputListener } from './input-source';

/** uiohook-napi's event type numbers (libuiohook's event_type enum). */
export const RawEventType = {
  keyPressed: 4,
  keyReleased: 5,
  mouseClicked: 6,
  mousePressed: 7,
  mouseReleased: 8,
  mouseMoved: 9,
  mouseDragged: 10,
  mouseWheel: 11,
} as const;

/** The fields of a uiohook-napi event that the boundary reads. */
export interface RawInputEvent {
  readonly type: number;
  /** The hook's native clock in ms (the X server's timestamp on Linux). */
  readonly time: number;
  readonly keycode?: number;
  readonly x?: number;
  readonly y?: number;
}

/** Counters about what the boundary saw, without identity: for diagnostics and tests. */
export interface BoundaryCounters {
  /** Auto-repeat key-downs of an already-held key (ignored). */
  repeats: number;
  /** Key-ups with no recorded key-down (key held before capture started). */
  unpairedUps: number;
}

export class HookBoundary {
  /** keycode -> down time. Lives only here, only while the key is held. */
  private readonly held = new Map<number, number>();
  /** Whether a pointer position has been seen (the first move has no step). */
  private hasPosition = false;
  private lastX = 0;
  private lastY = 0;
  readonly counters: BoundaryCounters = { repeats: 0, unpairedUps: 0 };

  constructor(private readonly listener: InputListener) {}

  /**
   * Translate one raw event. O(1); `stamped` is the event's time and delivery delay from the
   * platform's input clock (agent/input/input-clock.ts); without it the raw time is used and the
   * delay is unknown.
   */
  accept(raw: RawInputEvent, stamped?: StampedTime): void {
    this.acceptFields(raw.type, stamped?.time ?? raw.time, raw.keycode, raw.x, raw.y, stamped?.deliveryDelayMs);
  }

  /**
   * `accept` on the hook's hot path: the raw event's fields with the clock's time and delay already
   * applied, so no stamp object is made per event. Allocates only the InputEvent it hands on.
   */
  acceptFields(type: number, time: number, keycode: number | undefined, x: number | undefined, y: number | undefined, delay: number | undefined): void {
    switch (type) {
      case RawEventType.keyPressed: {
        const key = keycode ?? -1;
        if (this.held.has(key)) {
          this.counters.repeats++;
          return;
        }
        const heldCount = this.held.size;
        this.held.set(key, time);
        this.listener({ kind: 'keyDown', time, heldCount }, delay);
        return;
      }
      case RawEventType.keyReleased: {
        const key = keycode ?? -1;
        const downTime = this.held.get(key);
        if (downTime === undefined) {
          this.counters.unpairedUps++;
          return;
        }
        this.held.delete(key);
        this.listener({ kind: 'keystroke', downTime, upTime: time }, delay);
        return;
      }
      case RawEventType.mouseMoved:
      case RawEventType.mouseDragged: {
        const nextX = x ?? 0;
        const nextY = y ?? 0;
        const distance = this.hasPosition ? Math.hypot(nextX - this.lastX, nextY - this.lastY) : null;
        this.hasPosition = true;
        this.lastX = nextX;
        this.lastY = nextY;
        this.listener({ kind: 'mouseMove', time, distance }, delay);
        return;
      }
      case RawEventType.mousePressed:
        this.listener({ kind: 'click', time }, delay);
        return;
      case RawEventType.mouseWheel:
        this.listener({ kind: 'wheel', time }, delay);
        return;
      default:
        // Clicked (a press+release summary) and released carry nothing the features use.
        return;
    }
  }

  /** Forget held keys and the last position (on stop, so nothing lingers in memory). */
  reset(): void {
    this.held.clear();
    this.hasPosition = false;
    this.lastX = 0;
    this.lastY = 0;
  }
}
