/**
 * X11 attribution through a helper process, `telltale-xi2` (native/x11-source-devices.c).
 *
 * The helper listens to XInput2 raw events, whose `sourceid` names the slave device behind each
 * event; the XTEST devices are where injected input lands. It writes counts of injected and device
 * key presses, pointer events and clicks, at most every 250 ms, never a keycode, button,
 * coordinate or event time (see the C file). Pointer motion is counted only with `pointerMotion`
 * (policy `injectedInput.pointerMotion`); otherwise pointer events are wheel notches, and clicks
 * are counted as always.
 *
 * Why a helper process rather than a node-gyp addon: the addon would need a compiler and headers
 * on every laptop at install time, and a rebuild for Electron's ABI (uiohook-napi and
 * better-sqlite3 already cost that); a plain executable is built once with the system `cc` and
 * libXi, runs under both Node and Electron, and when it is missing, fails to start or dies, the
 * agent loses only attribution, never the process (an Xlib error in an addon exits the host:
 * Xlib's default I/O error handler calls exit). The price is a second X client and a pipe read
 * at most every 250 ms, measured in bench/groups/input.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fail, ok, type Result } from '../../../common/result';
import { countsOf, type AttributionCounts, type AttributionListener, type AttributionSource } from './attribution-source';

/** The helper's file name under dist/native/. */
export const X11_HELPER_NAME = 'telltale-xi2';

/** How long the helper may take to say "ready" (ms). */
const READY_TIMEOUT_MS = 5000;

/** Parse one helper count line ("n 3 0 12 0 1 0"); null for anything else. */
export function parseX11Line(line: string): AttributionCounts | null {
  const match = /^n (\d{1,9}) (\d{1,9}) (\d{1,9}) (\d{1,9}) (\d{1,9}) (\d{1,9})$/.exec(line);
  if (match === null) return null;
  return countsOf(match.slice(1).map(Number));
}

/**
 * Where the helper is looked for: beside the bundle (dist/<bundle>/../native), from the sources
 * (agent/input/attribution -> dist/native), and out of Electron's asar (executables cannot run
 * from inside it; electron-builder unpacks dist/native).
 */
export function x11HelperCandidates(dirname: string = import.meta.dirname): string[] {
  const candidates = [path.join(dirname, '..', 'native', X11_HELPER_NAME), path.join(dirname, '..', '..', '..', 'dist', 'native', X11_HELPER_NAME)];
  return candidates.map((candidate) => candidate.replace(`${path.sep}app.asar${path.sep}`, `${path.sep}app.asar.unpacked${path.sep}`));
}

export class X11AttributionSource implements AttributionSource {
  readonly name = 'xinput2';
  private child: ChildProcess | null = null;
  private stopping = false;

  /**
   * @param helperPath the helper executable; default the first of x11HelperCandidates() that exists.
   * @param options.pointerMotion count injected pointer motion too (policy `injectedInput.pointerMotion`):
   *   the helper then selects XInput2 raw motion, which raises every X input client's cost per pointer update.
   */
  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly helperPath: string | null = null,
    private readonly options: { readonly pointerMotion?: boolean } = {},
  ) {}

  async start(listener: AttributionListener, onLost: (reason: string) => void): Promise<Result<void>> {
    const helper = this.helperPath ?? x11HelperCandidates().find((candidate) => fs.existsSync(candidate)) ?? null;
    if (helper === null || !fs.existsSync(helper)) {
      return fail('UNSUPPORTED_PLATFORM', `The input attribution helper ${X11_HELPER_NAME} is not installed (it needs cc and libxi-dev at build time)`);
    }
    if ((this.env.DISPLAY ?? '') === '') return fail('UNSUPPORTED_PLATFORM', 'No X display (DISPLAY is not set)');
    this.stopping = false;
    const child = spawn(helper, this.options.pointerMotion === true ? ['--pointer-motion'] : [], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    let isReady = false;
    child.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 500) stderr += chunk.toString();
    });
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    const ready = new Promise<Result<void>>((resolve) => {
      const timer = setTimeout(() => resolve(fail('UNSUPPORTED_PLATFORM', `${X11_HELPER_NAME} did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      lines.on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(timer);
          isReady = true;
          resolve(ok(undefined));
          return;
        }
        const counts = parseX11Line(line);
        if (counts !== null) listener(counts);
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        resolve(fail('UNSUPPORTED_PLATFORM', `${X11_HELPER_NAME} could not run: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const reason = `${X11_HELPER_NAME} exited (${signal ?? `code ${code}`}): ${stderr.trim().split('\n')[0] || 'no message'}`;
        resolve(fail('UNSUPPORTED_PLATFORM', reason));
        if (!this.stopping && this.child === child && isReady) {
          this.child = null;
          onLost(reason);
        }
      });
    });
    const started = await ready;
    if (!started.ok) this.stop();
    return started;
  }

  stop(): void {
    this.stopping = true;
    const child = this.child;
    this.child = null;
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}
