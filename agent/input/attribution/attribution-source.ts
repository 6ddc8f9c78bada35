/**
 * Input attribution: whether input came from a device or was injected by a program.
 *
 * Software remote control and automation inject input through an OS interface (XTEST on X11,
 * SendInput on Windows, CGEventPost on macOS), and every OS marks such input: XInput2 names the
 * XTEST source device, Windows' low-level hooks set LLKHF_INJECTED / LLMHF_INJECTED, macOS events
 * carry the posting process and event source state. An AttributionSource reports, per event, only
 * its class (key press, pointer event, click) and whether it was injected: never which key, which
 * button or where. A source delivers them as counts (the X11 helper counts for up to 250 ms before
 * it writes, so the agent is not woken per pointer update); the capture service adds them to the
 * next timing window.
 */
import { assertNever, type Result } from '../../../common/result';

/** What kind of input an attributed event was (a pointer event is a motion or a wheel notch). */
export type AttributedClass = 'key' | 'pointer' | 'click';

/** One input event's origin: its class and whether a program injected it. */
export interface AttributedEvent {
  readonly inputClass: AttributedClass;
  readonly injected: boolean;
}

export type AttributionListener = (counts: AttributionCounts) => void;

/**
 * A source of attributed events. `start` resolves to a coded failure when attribution cannot run
 * here (no helper, no XInput2, an OS hook that is not built); the agent logs it once and runs on
 * without attribution. `onLost` is called at most once if a started source stops by itself (its
 * helper died), never after `stop`. `stop` is idempotent.
 */
export interface AttributionSource {
  readonly name: string;
  start(listener: AttributionListener, onLost: (reason: string) => void): Promise<Result<void>>;
  stop(): void;
}

/** Per-window counts of injected and device input, as the timing window carries them. */
export interface AttributionCounts {
  readonly injectedKeyPresses: number;
  readonly deviceKeyPresses: number;
  readonly injectedPointerEvents: number;
  readonly devicePointerEvents: number;
  readonly injectedClicks: number;
  readonly deviceClicks: number;
}

/** The six counts in AttributionCounts' field order (the helper's line order too) as the named shape. */
export function countsOf(values: readonly number[]): AttributionCounts {
  const [injectedKeyPresses = 0, deviceKeyPresses = 0, injectedPointerEvents = 0, devicePointerEvents = 0, injectedClicks = 0, deviceClicks = 0] = values;
  return { injectedKeyPresses, deviceKeyPresses, injectedPointerEvents, devicePointerEvents, injectedClicks, deviceClicks };
}

/** Counts attributed events between two takes. O(1) per event. */
export class AttributionTally {
  private counts = [0, 0, 0, 0, 0, 0];

  add(event: AttributedEvent): void {
    const offset = event.injected ? 0 : 1;
    switch (event.inputClass) {
      case 'key':
        this.counts[offset]!++;
        return;
      case 'pointer':
        this.counts[2 + offset]!++;
        return;
      case 'click':
        this.counts[4 + offset]!++;
        return;
      default:
        assertNever(event.inputClass, 'input class');
    }
  }

  /** Add counts a source delivered. */
  addCounts(counts: AttributionCounts): void {
    this.counts[0]! += counts.injectedKeyPresses;
    this.counts[1]! += counts.deviceKeyPresses;
    this.counts[2]! += counts.injectedPointerEvents;
    this.counts[3]! += counts.devicePointerEvents;
    this.counts[4]! += counts.injectedClicks;
    this.counts[5]! += counts.deviceClicks;
  }

  /** Whether any event was counted since the last take. */
  get isEmpty(): boolean {
    return this.counts.every((count) => count === 0);
  }

  /** The counts since the last take, and start over. */
  take(): AttributionCounts {
    const counts = this.current();
    this.counts = [0, 0, 0, 0, 0, 0];
    return counts;
  }

  /** The counts since the last take, counting on (an open window's features so far). */
  current(): AttributionCounts {
    return countsOf(this.counts);
  }
}
