/**
 * The remote-control lab: a target display with Telltale's capture path on it, a real remote-desktop
 * server, and an operator display whose client reaches the target through a delay-and-jitter proxy.
 *
 *   operator Xvfb ── injector (XTEST) ──> vncviewer ──> delay proxy ──> x11vnc ──> target Xvfb
 *                                    (or  xfreerdp  ──> delay proxy ──> freerdp-shadow-cli)
 *                                                                                   ├─ xterm (focus)
 *                                                                                   └─ capture (uiohook)
 *   local baseline: injector (XTEST) ──> target Xvfb directly
 *
 * Everything is on loopback. Times come from the target X server's own event `time` (via the hook),
 * never from when Node received an event, so a busy machine delays delivery but not measurement.
 * `stop()` ends every process the lab started, also after a failure half-way through start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import type { InputEvent } from '../agent/input/input-source';
import { startXvfb, type XDisplay } from './xvfb';
import { startDelayProxy, type DelayProxy, type LinkDelay } from './delay-proxy';
import { buildInjector, inject, type ScheduleLine } from './injector';
import { freePort } from './free-port';

/** Tools the lab needs; pass to requireTools. */
export const LAB_TOOLS = ['Xvfb', 'xterm', 'xdotool', 'x11vnc', 'vncviewer', 'gcc'] as const;
/** Tools the RDP variant needs, in place of x11vnc and vncviewer (Debian: freerdp2-shadow-x11, freerdp2-x11). */
export const RDP_TOOLS = ['Xvfb', 'xterm', 'xdotool', 'freerdp-shadow-cli', 'xfreerdp', 'gcc'] as const;

/** Which real remote-desktop tool relays the operator's input. */
export type RemoteTool = 'vnc' | 'rdp';

const TARGET_SIZE = { width: 1024, height: 768 };
const OPERATOR_SIZE = { width: 1280, height: 1024 };

/** Where a run's input is injected. */
export type Route = 'local' | 'remote';

export interface LabRun {
  /** Events the capture saw during the run, in arrival order (hook times are the target X server's). */
  readonly events: readonly InputEvent[];
  /** The injector's worst wake-up lateness, µs: large values mean the machine was overloaded. */
  readonly maxLateUs: number;
}

export interface Lab {
  readonly target: XDisplay;
  readonly operator: XDisplay;
  /** The viewer window's origin on the operator display (add to target coordinates for remote moves). */
  readonly viewerOrigin: { readonly x: number; readonly y: number };
  readonly targetSize: { readonly width: number; readonly height: number };
  /** Change the proxy's delay and jitter (applies to chunks arriving from now on). */
  setLink(upstream: LinkDelay, downstream?: LinkDelay): void;
  /** Replay a schedule on the chosen route and return what the capture saw. */
  run(lines: readonly ScheduleLine[], route: Route): Promise<LabRun>;
  /**
   * Run `action` and return what the capture saw from its start until the relay drained. Processes
   * handed to `adopt` are the lab's: `stop()` ends them too, also on a signal.
   */
  record<T>(action: (adopt: (child: ChildProcess) => void) => Promise<T>): Promise<{ readonly value: T; readonly events: readonly InputEvent[] }>;
  stop(): Promise<void>;
}

export interface LabOptions {
  readonly upstream: LinkDelay;
  readonly downstream?: LinkDelay;
  readonly seed?: number;
  /** Log progress lines to stderr. */
  readonly verbose?: boolean;
  /** x11vnc's input settings: latency-tuned (the default here) or x11vnc's own defaults (VNC only). */
  readonly x11vnc?: X11vncMode;
  /** The remote-desktop tool: x11vnc + TigerVNC (default) or FreeRDP's shadow server + xfreerdp. */
  readonly tool?: RemoteTool;
}

/**
 * 'tuned': input applied as soon as it arrives (-defer 0 -wait 1 -nowait_bog -nonap -sb 0), the
 * kindest case for the detector's opponent. 'default': x11vnc's own event-loop cadence (its -defer and -wait defaults,
 * with its slow-down detection), which is how a remote tool deployed without tuning relays input.
 */
export type X11vncMode = 'tuned' | 'default';

/** x11vnc's arguments for a mode (everything but the display and port). */
export function x11vncArgs(mode: X11vncMode): string[] {
  // -nonap -sb 0: without them an x11vnc left idle (say during the local captures) naps between
  // polls and then relays keys in bursts every ~254 ms, measured here, even once input resumes.
  const input = mode === 'tuned' ? ['-defer', '0', '-wait', '1', '-nowait_bog', '-nonap', '-sb', '0'] : [];
  return ['-forever', '-shared', '-nopw', ...input, '-noxrecord', '-noxdamage', '-nowf', '-noscr', '-nosel', '-nobell', '-noipv6', '-quiet'];
}

/**
 * Best effort: real-time (SCHED_FIFO) priority for a lab process and all its threads. The lab
 * stands in for a laptop whose input path is not starved by six concurrent test suites; without
 * this, X server timestamps on a loaded 2-core machine bunch local input the way a relay does.
 * Returns whether it took (it needs CAP_SYS_NICE; without it the lab still runs, noisier).
 */
export function boostPriority(pid: number): boolean {
  return spawnSync('chrt', ['-a', '-f', '-p', '20', String(pid)], { stdio: 'ignore' }).status === 0;
}

/** Undo boostPriority (the parent process returns to normal scheduling when the lab stops). */
function dropPriority(pid: number): void {
  spawnSync('chrt', ['-a', '-o', '-p', '0', String(pid)], { stdio: 'ignore' });
}

/** The Xvfb process of a display, from its lock file. */
function xServerPid(display: XDisplay): number | null {
  try {
    const pid = Number(fs.readFileSync(`/tmp/.X${display.display.slice(1)}-lock`, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`lab: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Run the injector on `display`; its worst lateness in µs, or -1 when the lab stopped it. */
async function injectOn(display: XDisplay, lines: readonly ScheduleLine[], stopped: () => boolean, track: (c: ChildProcess) => void): Promise<number> {
  try {
    return (await inject(lines, display.env, { leadMs: 300, onSpawn: track })).maxLateUs;
  } catch (error) {
    if (stopped()) return -1;
    throw error;
  }
}

/** Each tool's client on the operator display: command, arguments for a server at 127.0.0.1:port, window class. */
const VIEWERS: Record<RemoteTool, { command: string; args: (port: number) => string[]; windowClass: string }> = {
  vnc: {
    command: 'vncviewer',
    args: (port) => ['-Shared', '-SecurityTypes', 'None', '-AcceptClipboard=0', '-SendClipboard=0', '-SendPrimary=0', '-RemoteResize=0', '-geometry', '+0+0', `127.0.0.1::${port}`],
    windowClass: 'TigerVNC',
  },
  rdp: {
    // Loopback lab: the shadow server's self-signed certificate is accepted, and it asks for no password (-auth).
    command: 'xfreerdp',
    args: (port) => [`/v:127.0.0.1:${port}`, '/cert:ignore', '/u:lab', '/p:lab', `/size:${TARGET_SIZE.width}x${TARGET_SIZE.height}`, '-clipboard', '/audio-mode:2'],
    windowClass: 'xfreerdp',
  },
};

/** Start the remote-desktop server on the target display and wait for its port. */
async function startServer(tool: RemoteTool, target: XDisplay, mode: X11vncMode, track: (c: ChildProcess) => void): Promise<{ name: string; port: number }> {
  const port = await freePort();
  // x11vnc with the input settings of `mode` (see X11vncMode); its own XRECORD use is off so it does
  // not compete with the hook's. FreeRDP's shadow server shares the X display and injects with XTEST.
  const [command, args] =
    tool === 'vnc'
      ? ['x11vnc', ['-display', target.display, '-localhost', '-rfbport', String(port), ...x11vncArgs(mode)]]
      : ['freerdp-shadow-cli', [`/port:${port}`, '/bind-address:127.0.0.1', '-auth']];
  const server = spawn(command, args, { env: target.env, stdio: 'ignore' });
  track(server);
  if (server.pid !== undefined) boostPriority(server.pid);
  await waitUntil(() => canConnect(port), 15_000, `${command} port`);
  return { name: command, port };
}

/** The stop functions of labs running in this process, for stopAllLabs. */
const runningLabs = new Set<() => Promise<void>>();

/**
 * Stop every lab this process started and has not stopped yet (its viewers, servers, injector,
 * proxy and Xvfb displays): what a command's SIGINT/SIGTERM handler calls before exiting, since a
 * signal sent to the command alone does not reach its children.
 */
export async function stopAllLabs(): Promise<void> {
  await Promise.all([...runningLabs].map((stop) => stop()));
}

/** Start the whole lab. On any failure everything already started is stopped before rethrowing. */
export async function startLab(options: LabOptions): Promise<Lab> {
  const log = (message: string): void => {
    if (options.verbose) process.stderr.write(`lab: ${message}\n`);
  };
  const children = new Set<ChildProcess>();
  const displays: XDisplay[] = [];
  let proxy: DelayProxy | null = null;
  let stopping = false;
  const events: InputEvent[] = [];
  const track = (child: ChildProcess): void => {
    children.add(child);
    child.once('exit', () => children.delete(child));
  };

  const stop = async (): Promise<void> => {
    runningLabs.delete(stop);
    stopping = true;
    dropPriority(process.pid);
    // Viewer and injector first, then server, proxy, capture, and the displays last.
    for (const child of [...children].reverse()) await stopChild(child);
    await proxy?.close();
    for (const display of displays.reverse()) await display.stop();
  };

  runningLabs.add(stop);
  try {
    // Built before any display starts, so a missing compiler fails fast.
    buildInjector();
    const target = await startXvfb(TARGET_SIZE);
    displays.push(target);
    const operator = await startXvfb({ ...OPERATOR_SIZE, focusWindow: false });
    displays.push(operator);
    // Priority for every process on the input path (the injector asks for its own).
    const boosted = [xServerPid(target), xServerPid(operator), process.pid].every((pid) => pid !== null && boostPriority(pid));
    log(`target ${target.display}, operator ${operator.display}, real-time priority ${boosted ? 'on' : 'unavailable'}, ${options.tool === 'rdp' ? 'rdp' : `x11vnc ${options.x11vnc ?? 'tuned'}`}`);

    // Capture: the agent's real hook in its own process, on the target display.
    const capture = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'capture-child.ts')], {
      env: target.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    track(capture);
    if (capture.pid !== undefined) boostPriority(capture.pid);
    let ready = false;
    readline.createInterface({ input: capture.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as InputEvent | { kind: 'ready' };
      if (parsed.kind === 'ready') ready = true;
      else events.push(parsed);
    });
    await waitUntil(() => ready || capture.exitCode !== null, 20_000, 'capture ready');
    if (!ready) throw new Error('lab: capture process exited before it was ready');

    const tool = options.tool ?? 'vnc';
    const server = await startServer(tool, target, options.x11vnc ?? 'tuned', track);
    proxy = await startDelayProxy({
      targetPort: server.port,
      upstream: options.upstream,
      downstream: options.downstream ?? options.upstream,
      seed: options.seed ?? 1,
    });
    // The viewer, started again once if its window has not appeared after 30 s: a viewer
    // occasionally never shows its window, for a reason not yet known. The error lists what was on
    // the operator display and the viewer's exit status, to find that reason.
    let viewerId = '';
    let origin = { x: 0, y: 0 };
    const seen: string[] = [];
    const findViewer = (): boolean => {
      seen.length = 0;
      const found = spawnSync('xdotool', ['search', '--onlyvisible', '--class', VIEWERS[tool].windowClass], { env: operator.env, encoding: 'utf8' });
      for (const id of found.stdout.trim().split('\n').filter(Boolean)) {
        const geometry = spawnSync('xdotool', ['getwindowgeometry', '--shell', id], { env: operator.env, encoding: 'utf8' }).stdout;
        const width = Number(/WIDTH=(\d+)/.exec(geometry)?.[1] ?? 0);
        const height = Number(/HEIGHT=(\d+)/.exec(geometry)?.[1] ?? 0);
        seen.push(`${id} ${width}x${height}`);
        if (width >= TARGET_SIZE.width && height >= TARGET_SIZE.height) {
          viewerId = id;
          origin = { x: Number(/X=(\d+)/.exec(geometry)?.[1] ?? 0), y: Number(/Y=(\d+)/.exec(geometry)?.[1] ?? 0) };
          return true;
        }
      }
      return false;
    };
    for (let attempt = 1; ; attempt++) {
      const viewer = spawn(VIEWERS[tool].command, VIEWERS[tool].args(proxy.port), { env: operator.env, stdio: 'ignore' });
      track(viewer);
      if (viewer.pid !== undefined) boostPriority(viewer.pid);
      try {
        await waitUntil(findViewer, 30_000, 'viewer window');
        break;
      } catch (error) {
        const status = viewer.exitCode ?? viewer.signalCode ?? 'running';
        if (attempt >= 2) throw new Error(`${(error as Error).message} (${attempt} viewers started; last exit status ${status}; windows of class ${VIEWERS[tool].windowClass}: ${seen.join(', ') || 'none'})`);
        log(`viewer window did not appear (exit status ${status}; windows: ${seen.join(', ') || 'none'}); starting the viewer again`);
        await stopChild(viewer);
      }
    }
    // No window manager: give the viewer keyboard focus explicitly and put the pointer inside it.
    spawnSync('xdotool', ['windowfocus', '--sync', viewerId], { env: operator.env });
    spawnSync('xdotool', ['mousemove', String(origin.x + 500), String(origin.y + 400)], { env: operator.env });
    log(`${VIEWERS[tool].command} ${viewerId} at ${origin.x},${origin.y} via proxy :${proxy.port} -> ${server.name} :${server.port}`);

    const lab: Lab = {
      target,
      operator,
      viewerOrigin: origin,
      targetSize: TARGET_SIZE,
      setLink(upstream, downstream) {
        proxy!.setLinks(upstream, downstream ?? upstream);
      },
      async run(lines, route) {
        const { value, events: seen } = await lab.record(() => injectOn(route === 'local' ? target : operator, lines, () => stopping, track));
        return { events: seen, maxLateUs: value };
      },
      async record(action) {
        const from = events.length;
        const value = await action(track);
        // Let the relay drain: wait until nothing new has arrived for a while.
        let count = events.length;
        let quietSince = Date.now();
        await waitUntil(
          () => {
            if (events.length !== count) {
              count = events.length;
              quietSince = Date.now();
            }
            return Date.now() - quietSince > 1500;
          },
          60_000,
          'relay to drain',
        );
        return { value, events: events.slice(from) };
      },
      stop,
    };

    // Probe: a key through the relay must reach the capture before anything is measured.
    const probeFrom = events.length;
    for (let attempt = 0; attempt < 5 && !events.slice(probeFrom).some((e) => e.kind === 'keystroke'); attempt++) {
      await injectOn(operator, ['0 down a', '40 up a'], () => stopping, track);
      await waitUntil(() => events.slice(probeFrom).some((e) => e.kind === 'keystroke'), 5000, 'probe key').catch(() => undefined);
    }
    if (!events.slice(probeFrom).some((e) => e.kind === 'keystroke')) throw new Error('lab: probe key never reached the target');
    log('probe key arrived through the relay');
    return lab;
  } catch (error) {
    await stop();
    throw error;
  }
}
