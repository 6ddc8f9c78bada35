/**
 * The real input source: uiohook-napi, behind the hook boundary.
 *
 * uiohook-napi is a process-wide singleton with a native hook thread, so only one HookInputSource
 * may run at a time. On Linux libuiohook aborts the whole process when it cannot open the X display
 * (see kwhat/libuiohook's xrecord_start), so the display is probed first and a missing one is a
 * coded failure instead of a crash.
 *
 * The native module is required lazily, only after the probe succeeds: loading it runs a library
 * constructor that opens X connections, and its unload destructor calls XtCloseDisplay, which on a
 * machine without a display makes the process exit with "Couldn't find per display information".
 * A process that loaded it must also exit before its X server goes away (Xlib exits on I/O errors).
 */
import net from 'node:net';
import { createRequire } from 'node:module';
import { fail, ok, type Result } from '../../common/result';
import { HookBoundary, type RawInputEvent } from './hook-boundary';
import { inputClockFor } from './input-clock';
import type { InputListener, InputSource } from './input-source';

interface UiohookModule {
  readonly uIOhook: {
    on(event: 'input', listener: (event: RawInputEvent) => void): unknown;
    removeListener(event: 'input', listener: (event: RawInputEvent) => void): unknown;
    start(): void;
    stop(): void;
  };
}

/** The running source's token: uiohook has one global hook, so one source at a time. */
let activeSource: object | null = null;

export class HookInputSource implements InputSource {
  readonly name = 'uiohook';
  /** Resolution of the event times: every platform's input clock gives whole ms (agent/input/input-clock.ts). */
  readonly clockResolutionMs = 1;
  private boundary: HookBoundary | null = null;
  private handler: ((event: RawInputEvent) => void) | null = null;
  private readonly token = {};

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  async start(listener: InputListener): Promise<Result<void>> {
    if (activeSource !== null) throw new Error('uiohook is a process-wide singleton: another HookInputSource is running');
    const clock = inputClockFor(this.platform);
    if (clock === null) return fail('UNSUPPORTED_PLATFORM', `The input hook has no clock model for platform ${this.platform}`);
    if (this.platform === 'linux') {
      const display = await probeX11Display(this.env);
      if (!display.ok) return display;
    }
    const require = createRequire(import.meta.url);
    const { uIOhook } = require('uiohook-napi') as UiohookModule;
    const boundary = new HookBoundary(listener);
    // The receive time is read first thing: it is the Windows event time and every clock's delivery check.
    // Stamped without an object (stampTime, then the clock's last delay): this runs once per raw event.
    const handler = (event: RawInputEvent): void => {
      const time = clock.stampTime(event.time, performance.now());
      boundary.acceptFields(event.type, time, event.keycode, event.x, event.y, clock.lastDeliveryDelayMs);
    };
    uIOhook.on('input', handler);
    try {
      uIOhook.start();
    } catch (error) {
      uIOhook.removeListener('input', handler);
      return fail('UNSUPPORTED_PLATFORM', `The input hook could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.boundary = boundary;
    this.handler = handler;
    activeSource = this.token;
    return ok(undefined);
  }

  stop(): void {
    if (activeSource !== this.token || this.handler === null) return;
    const require = createRequire(import.meta.url);
    const { uIOhook } = require('uiohook-napi') as UiohookModule;
    uIOhook.stop();
    uIOhook.removeListener('input', this.handler);
    this.boundary?.reset();
    this.boundary = null;
    this.handler = null;
    activeSource = null;
  }
}

/**
 * Check that an X server answers at $DISPLAY before letting libuiohook try (it aborts otherwise).
 * Handles local displays (":N", unix socket) and "host:N" (TCP port 6000+N).
 */
export async function probeX11Display(env: NodeJS.ProcessEnv, timeoutMs = 2000): Promise<Result<void>> {
  const display = env.DISPLAY ?? '';
  const match = /^([^:]*):(\d+)(?:\.\d+)?$/.exec(display);
  if (!match) {
    return fail('UNSUPPORTED_PLATFORM', display === '' ? 'No X display (DISPLAY is not set)' : `DISPLAY=${display} is not an X display name`);
  }
  const host = match[1] ?? '';
  const number = Number(match[2]);
  const target: net.NetConnectOpts =
    host === '' || host === 'unix' ? { path: `/tmp/.X11-unix/X${number}` } : { host, port: 6000 + number };
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = net.connect(target);
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(result: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
  return reachable ? ok(undefined) : fail('UNSUPPORTED_PLATFORM', `No X server answers at DISPLAY=${display}`);
}
