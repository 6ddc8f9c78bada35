/**
 * The input seam: what crosses the hook boundary, and the interface every input source implements.
 *
 * An InputSource turns OS input events into InputEvents. Key identity (keycodes, names, text) and
 * absolute pointer coordinates stay inside the source: an InputEvent carries times (the hook's
 * native clock, ms), a count of keys held, and pointer step lengths. Nothing else leaves.
 */
import type { Result } from '../../common/result';

/** A key went down that was not already held. `heldCount` is how many other keys were held. */
export interface KeyDownEvent {
  readonly kind: 'keyDown';
  readonly time: number;
  readonly heldCount: number;
}

/** A key-down paired with its key-up: both times on the hook's clock. */
export interface KeystrokeEvent {
  readonly kind: 'keystroke';
  readonly downTime: number;
  readonly upTime: number;
}

/**
 * The pointer moved. `distance` is the Euclidean step from the previous move in pixels, or null for
 * the first move the source has seen (there is nothing to measure it from).
 */
export interface MouseMoveEvent {
  readonly kind: 'mouseMove';
  readonly time: number;
  readonly distance: number | null;
}

/** A mouse button went down (which button is not kept). */
export interface ClickEvent {
  readonly kind: 'click';
  readonly time: number;
}

/** A wheel notch or scroll gesture (direction and amount are not kept). */
export interface WheelEvent {
  readonly kind: 'wheel';
  readonly time: number;
}

export type InputEvent = KeyDownEvent | KeystrokeEvent | MouseMoveEvent | ClickEvent | WheelEvent;

/**
 * Receives each event and, where the source's input clock measures it, how much later than the
 * promptest event so far it arrived (ms, agent/input/input-clock.ts): timing of the delivery, never content.
 */
export type InputListener = (event: InputEvent, deliveryDelayMs?: number) => void;

/**
 * A source of privacy-safe input events.
 *
 * `start` resolves to a coded failure when capture is impossible here (no X display, say); the
 * agent logs it and runs on without input timing. `stop` is idempotent.
 */
export interface InputSource {
  readonly name: string;
  /** Resolution of the event times it gives, ms (1 when absent). */
  readonly clockResolutionMs?: number;
  start(listener: InputListener): Promise<Result<void>>;
  stop(): void;
}
