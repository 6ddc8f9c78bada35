/**
 * Windows attribution: the injected flags of the low-level hooks.
 *
 * A WH_KEYBOARD_LL callback's KBDLLHOOKSTRUCT.flags has LLKHF_INJECTED (bit 4) on every event
 * SendInput/keybd_event produced, and LLKHF_LOWER_IL_INJECTED (bit 1, always with bit 4) when the
 * injecting process ran at a lower integrity level; a WH_MOUSE_LL callback's MSLLHOOKSTRUCT.flags
 * has LLMHF_INJECTED (bit 0) and LLMHF_LOWER_IL_INJECTED (bit 1). (learn.microsoft.com,
 * winuser.h KBDLLHOOKSTRUCT / MSLLHOOKSTRUCT.)
 *
 * uiohook-napi reads these structures but does not pass the flags on (its event object has type,
 * time, mask, keycode/button, coordinates: uiohook-napi 1.5.5 src/lib/addon.c, libuiohook's
 * uiohook_event in include/uiohook.h; windows/input_hook.c uses kbhook->flags only to map the
 * extended-key scancode), so the live source needs a hook of its own, not built here. This module
 * is the decision logic such a hook feeds, tested against recorded-form fixtures.
 */
import { assertNever, fail, type Result } from '../../../common/result';
import type { AttributedEvent, AttributionListener, AttributionSource } from './attribution-source';

export const LLKHF_LOWER_IL_INJECTED = 0x02;
export const LLKHF_INJECTED = 0x10;
export const LLKHF_UP = 0x80;
export const LLMHF_INJECTED = 0x01;
export const LLMHF_LOWER_IL_INJECTED = 0x02;

const WM_KEYDOWN = 0x0100;
const WM_SYSKEYDOWN = 0x0104;
const WM_MOUSEMOVE = 0x0200;
const WM_LBUTTONDOWN = 0x0201;
const WM_RBUTTONDOWN = 0x0204;
const WM_MBUTTONDOWN = 0x0207;
const WM_MOUSEWHEEL = 0x020a;
const WM_XBUTTONDOWN = 0x020b;
const WM_MOUSEHWHEEL = 0x020e;

/** Whether a keyboard hook event was injected (either injected bit counts). */
export function win32KeyboardInjected(flags: number): boolean {
  return (flags & (LLKHF_INJECTED | LLKHF_LOWER_IL_INJECTED)) !== 0;
}

/** Whether a mouse hook event was injected. */
export function win32MouseInjected(flags: number): boolean {
  return (flags & (LLMHF_INJECTED | LLMHF_LOWER_IL_INJECTED)) !== 0;
}

/** One low-level hook callback as the decision needs it: which hook, its message and flags. */
export interface Win32HookRecord {
  readonly hook: 'keyboard' | 'mouse';
  /** The wParam message, e.g. 0x0100 (WM_KEYDOWN). */
  readonly message: number;
  readonly flags: number;
}

/**
 * Attribute one hook callback; null for events that are not counted (key releases, button
 * releases). Key presses: WM_KEYDOWN/WM_SYSKEYDOWN (auto-repeat included: a held key repeats the
 * same way whether a person or a program holds it).
 */
export function attributeWin32(record: Win32HookRecord): AttributedEvent | null {
  switch (record.hook) {
    case 'keyboard':
      if (record.message !== WM_KEYDOWN && record.message !== WM_SYSKEYDOWN) return null;
      return { inputClass: 'key', injected: win32KeyboardInjected(record.flags) };
    case 'mouse': {
      const injected = win32MouseInjected(record.flags);
      switch (record.message) {
        case WM_MOUSEMOVE:
        case WM_MOUSEWHEEL:
        case WM_MOUSEHWHEEL:
          return { inputClass: 'pointer', injected };
        case WM_LBUTTONDOWN:
        case WM_RBUTTONDOWN:
        case WM_MBUTTONDOWN:
        case WM_XBUTTONDOWN:
          return { inputClass: 'click', injected };
        default:
          return null;
      }
    }
    default:
      return assertNever(record.hook, 'hook');
  }
}

/**
 * Parse one fixture line, `{"hook":"keyboard","message":"0x0100","flags":"0x10"}` (numbers may be
 * hex strings or numbers). Throws a one-line error naming the problem.
 */
export function parseWin32HookRecord(line: string): Win32HookRecord {
  const value = JSON.parse(line) as Record<string, unknown>;
  const number = (field: string): number => {
    const raw = value[field];
    const parsed = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`win32 hook record: ${field} is not a non-negative integer`);
    return parsed;
  };
  const hook = value.hook;
  if (hook !== 'keyboard' && hook !== 'mouse') throw new Error('win32 hook record: hook must be "keyboard" or "mouse"');
  return { hook, message: number('message'), flags: number('flags') };
}

/** The live source: needs a low-level hook that reports the flags, which is not built yet. */
export class Win32AttributionSource implements AttributionSource {
  readonly name = 'win32-injected-flags';

  async start(_listener: AttributionListener, _onLost: (reason: string) => void): Promise<Result<void>> {
    return fail('UNSUPPORTED_PLATFORM', 'Input attribution on Windows needs a low-level hook that reports LLKHF_INJECTED; uiohook-napi does not pass it on');
  }

  stop(): void {}
}
