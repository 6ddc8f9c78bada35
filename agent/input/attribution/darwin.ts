/**
 * macOS attribution: the event's source state and posting process.
 *
 * Every CGEvent an event tap sees carries kCGEventSourceStateID and kCGEventSourceUnixProcessID
 * (CGEventGetIntegerValueField). Hardware input is posted by the HID system under
 * kCGEventSourceStateHIDSystemState (1); a program that posts with CGEventPost uses its own
 * source, normally kCGEventSourceStateCombinedSessionState (0) or a private state (Apple's
 * CGEventSourceStateID documentation names remote-control programs as users of private state), and
 * the field carries the posting process id. A program that posts under the HID state is still
 * caught by its process id, which hardware events do not carry (read here as 0).
 *
 * uiohook-napi's darwin hook reads neither field (libuiohook darwin/input_hook.c only queries
 * CGEventSourceKeyState for modifiers), so the live source needs a tap of its own, not built here.
 * This module is the decision logic such a tap feeds, tested against synthesized fixtures.
 */
import { fail, type Result } from '../../../common/result';
import type { AttributedEvent, AttributionListener, AttributionSource } from './attribution-source';

export const CG_EVENT_SOURCE_STATE_HID_SYSTEM = 1;

/** The CGEventType values the decision counts (CGEventTypes.h). */
const KEY_DOWN = 10;
const LEFT_MOUSE_DOWN = 1;
const RIGHT_MOUSE_DOWN = 3;
const OTHER_MOUSE_DOWN = 25;
const MOUSE_MOVED = 5;
const LEFT_MOUSE_DRAGGED = 6;
const RIGHT_MOUSE_DRAGGED = 7;
const OTHER_MOUSE_DRAGGED = 27;
const SCROLL_WHEEL = 22;

/** One tapped event as the decision needs it. */
export interface DarwinEventRecord {
  /** CGEventType. */
  readonly type: number;
  /** kCGEventSourceStateID. */
  readonly sourceStateId: number;
  /** kCGEventSourceUnixProcessID (0 for hardware). */
  readonly sourcePid: number;
}

/** Whether an event was posted by a program rather than the HID system. */
export function darwinInjected(record: Pick<DarwinEventRecord, 'sourceStateId' | 'sourcePid'>): boolean {
  return record.sourceStateId !== CG_EVENT_SOURCE_STATE_HID_SYSTEM || record.sourcePid !== 0;
}

/** Attribute one tapped event; null for events that are not counted (releases, flags changes). */
export function attributeDarwin(record: DarwinEventRecord): AttributedEvent | null {
  const injected = darwinInjected(record);
  switch (record.type) {
    case KEY_DOWN:
      return { inputClass: 'key', injected };
    case MOUSE_MOVED:
    case LEFT_MOUSE_DRAGGED:
    case RIGHT_MOUSE_DRAGGED:
    case OTHER_MOUSE_DRAGGED:
    case SCROLL_WHEEL:
      return { inputClass: 'pointer', injected };
    case LEFT_MOUSE_DOWN:
    case RIGHT_MOUSE_DOWN:
    case OTHER_MOUSE_DOWN:
      return { inputClass: 'click', injected };
    default:
      return null;
  }
}

/** Parse one fixture line, `{"type":10,"sourceStateId":1,"sourcePid":0}`; throws a one-line error. */
export function parseDarwinEventRecord(line: string): DarwinEventRecord {
  const value = JSON.parse(line) as Record<string, unknown>;
  const integer = (field: string): number => {
    const raw = value[field];
    if (typeof raw !== 'number' || !Number.isInteger(raw)) throw new Error(`darwin event record: ${field} is not an integer`);
    return raw;
  };
  return { type: integer('type'), sourceStateId: integer('sourceStateId'), sourcePid: integer('sourcePid') };
}

/** The live source: needs an event tap that reads the source fields, which is not built yet. */
export class DarwinAttributionSource implements AttributionSource {
  readonly name = 'darwin-event-source';

  async start(_listener: AttributionListener, _onLost: (reason: string) => void): Promise<Result<void>> {
    return fail('UNSUPPORTED_PLATFORM', 'Input attribution on macOS needs an event tap that reads kCGEventSourceStateID; uiohook-napi does not pass it on');
  }

  stop(): void {}
}
