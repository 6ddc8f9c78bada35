/**
 * The remote-control lab: a target display with Telltale's capture path on it, a real remote-desktop
 * server, and an operator display whose client reaches the target through a delay-and-jitter proxy.
 *
 *   operator Xvfb ── injector (XTEST) ──> vncviewer ──> delay proxy ──> x11vnc ──> target Xvfb
 *                              (or xtightvncviewer ──> delay proxy ──> x11vnc)
 *                                    (or  xfreerdp  ──> delay proxy ──> freerdp-shadow-cli)
 *                                                                                   ├─ xterm (focus)
 *                                                                                   └─ capture (uiohook)
 *   local baseline: injector (XTEST) ──> target Xvfb directly (optionally with a CPU hog on every core)
 *
 * Everything is on loopback. Times come from the target X server's own event `time` (via the hook),
 * never from when Node received an event, so a busy machine delays delivery but not measurement.
 * `stop()` ends every process the lab started, also after a failure half-way through start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
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
/** Tools the TightVNC-viewer variant needs (Debian: xtightvncviewer). */
export const TIGHTVNC_TOOLS = ['Xvfb', 'xterm', 'xdotool', 'x11vnc', 'xtightvncviewer', 'gcc'] as const;

/** Which real remote-desktop tool relays the operator's input. */
export type RemoteTool = 'vnc' | 'rdp';

/** Which VNC viewer the operator uses with x11vnc: TigerVNC's (the default) or TightVNC's. */
export type VncViewer = 'tigervnc' | 'tightvnc';

const TARGET_SIZE = { width: 1024, height: 768 };
const OPERATOR_SIZE = { width: 1280, height: 1024 };

/** Where a run's input is injected. */
export type Route = 'local' | 'remote';

export interface LabRun {
  /** Events the capture saw during the run, in arrival order (hook times are the target X server's). */
  readonly events: readonly InputEvent[];
  /** Each event's delivery delay as the agent's input clock measured it, ms (same order as `events`). */
  readonly deliveryDelaysMs: readonly number[];
  /** The capture process's event-loop stalls, each noted before the event at `index` of `events`. */
  readonly loopDelays: readonly LoopDelay[];
  /** The injector's worst wake-up lateness, µs: large values mean the machine was overloaded. */
  readonly maxLateUs: number;
  /** The 1-minute load average when the run ended. */
  readonly loadAverage: number;
}

/** What `Lab.record` saw while its action ran: the action's value and the capture's side of a run. */
export type Recorded<T> = Omit<LabRun, 'maxLateUs'> & { readonly value: T };

/** An event-loop stall of the capture process, ms, noted before event `index` of its run. */
export interface LoopDelay {
  readonly index: number;
  readonly ms: number;
}

/** Options of one run. */
export interface RunOptions {
  /**
   * Saturate every core with a busy loop at normal priority for the run, and run the target's X
   * server and the capture at normal priority too, as on a laptop busy with a build: the injector
   * (the person at the keyboard) keeps its real-time priority. Local route only.
   */
  readonly cpuHog?: boolean;
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
  run(lines: readonly ScheduleLine[], route: Route, options?: RunOptions): Promise<LabRun>;
  /**
   * Run `action` and return what the capture saw from its start until the relay drained. Processes
   * handed to `adopt` are the lab's: `stop()` ends them too, also on a signal.
   */
  record<T>(action: (adopt: (child: ChildProcess) => void) => Promise<T>): Promise<Recorded<T>>;
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
  /** The VNC viewer (VNC only; default TigerVNC's). */
  readonly viewer?: VncViewer;
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
 * Reset on fork (-R): what a boosted process starts (an agent under test, its tsx/esbuild service,
 * a CPU hog) runs at normal scheduling unless boosted itself. A node process and its esbuild
 * service both at real-time priority were seen spinning on both cores for over half an hour,
 * starving the whole machine.
 */
export function boostPriority(pid: number): boolean {
  return spawnSync('chrt', ['-a', '-R', '-f', '-p', '20', String(pid)], { stdio: 'ignore' }).status === 0;
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

/** SIGTERM, then SIGKILL after 3 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
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

/** A client on the operator display: command, arguments for a server at 127.0.0.1:port, and how to find its window. */
interface ViewerSpec {
  readonly command: string;
  readonly args: (port: number) => string[];
  /** xdotool's search flag and the value it matches. */
  readonly search: readonly ['--class' | '--classname', string];
}

/** Each client on the operator display. */
const VIEWERS: Record<VncViewer | 'xfreerdp', ViewerSpec> = {
  tigervnc: {
    command: 'vncviewer',
    args: (port) => ['-Shared', '-SecurityTypes', 'None', '-AcceptClipboard=0', '-SendClipboard=0', '-SendPrimary=0', '-RemoteResize=0', '-geometry', '+0+0', `127.0.0.1::${port}`],
    search: ['--class', 'TigerVNC'],
  },
  tightvnc: {
    // On loopback the TightVNC viewer would pick raw encoding ("same machine"); a remote operator's
    // viewer negotiates Tight, so that order is asked for. Its window class is plain "Vncviewer",
    // hence the instance name.
    command: 'xtightvncviewer',
    args: (port) => ['-shared', '-encodings', 'copyrect tight hextile zlib corre rre raw', '-geometry', '+0+0', `127.0.0.1::${port}`],
    search: ['--classname', 'xtightvncviewer'],
  },
  xfreerdp: {
    // Loopback lab: the shadow server's self-signed certificate is accepted, and it asks for no password (-auth).
    command: 'xfreerdp',
    args: (port) => [`/v:127.0.0.1:${port}`, '/cert:ignore', '/u:lab', '/p:lab', `/size:${TARGET_SIZE.width}x${TARGET_SIZE.height}`, '-clipboard', '/audio-mode:2'],
    search: ['--class', 'xfreerdp'],
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

/**
 * A busy machine: one busy loop per core at normal priority (nice 0), with the given processes (the
 * target's X server, the capture) put back to normal scheduling so they compete with it as on a
 * laptop. `stop` ends the loops and boosts those processes again.
 */
function startCpuHog(pids: readonly (number | null)[], track: (c: ChildProcess) => void): { stop(): Promise<void> } {
  const normal = pids.filter((pid): pid is number => pid !== null);
  for (const pid of normal) dropPriority(pid);
  const loops = Array.from({ length: os.availableParallelism() }, () => {
    // Normal scheduling explicitly: a child inherits this process's real-time class, and a
    // real-time busy loop would starve the whole machine, not load it.
    const child = spawn('chrt', ['-o', '0', 'nice', '-n', '0', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
    track(child);
    return child;
  });
  return {
    async stop() {
      for (const child of loops) await stopChild(child);
      for (const pid of normal) boostPriority(pid);
    },
  };
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
  const deliveryDelays: number[] = [];
  const loopDelays: LoopDelay[] = [];
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
    log(`target ${target.display}, operator ${operator.display}, real-time priority ${boosted ? 'on' : 'unavailable'}, ${options.tool === 'rdp' ? 'rdp' : `x11vnc ${options.x11vnc ?? 'tuned'}, ${options.viewer ?? 'tigervnc'} viewer`}`);

    // Capture: the agent's real hook in its own process, on the target display.
    const capture = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'capture-child.ts')], {
      env: target.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    track(capture);
    if (capture.pid !== undefined) boostPriority(capture.pid);
    let ready = false;
    readline.createInterface({ input: capture.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as (InputEvent & { deliveryDelayMs?: number }) | { kind: 'ready' } | { kind: 'loopDelay'; ms: number };
      if (parsed.kind === 'ready') ready = true;
      else if (parsed.kind === 'loopDelay') loopDelays.push({ index: events.length, ms: parsed.ms });
      else {
        const { deliveryDelayMs = 0, ...event } = parsed;
        events.push(event as InputEvent);
        deliveryDelays.push(deliveryDelayMs);
      }
    });
    await waitUntil(() => ready || capture.exitCode !== null, 20_000, 'capture ready');
    if (!ready) throw new Error('lab: capture process exited before it was ready');

    const tool = options.tool ?? 'vnc';
    const viewerSpec = VIEWERS[tool === 'rdp' ? 'xfreerdp' : (options.viewer ?? 'tigervnc')];
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
      const found = spawnSync('xdotool', ['search', '--onlyvisible', ...viewerSpec.search], { env: operator.env, encoding: 'utf8' });
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
      const viewer = spawn(viewerSpec.command, viewerSpec.args(proxy.port), { env: operator.env, stdio: 'ignore' });
      track(viewer);
      if (viewer.pid !== undefined) boostPriority(viewer.pid);
      try {
        await waitUntil(findViewer, 30_000, 'viewer window');
        break;
      } catch (error) {
        const status = viewer.exitCode ?? viewer.signalCode ?? 'running';
        if (attempt >= 2) throw new Error(`${(error as Error).message} (${attempt} viewers started; last exit status ${status}; windows matching ${viewerSpec.search.join(' ')}: ${seen.join(', ') || 'none'})`);
        log(`viewer window did not appear (exit status ${status}; windows: ${seen.join(', ') || 'none'}); starting the viewer again`);
        await stopChild(viewer);
      }
    }
    // No window manager: give the viewer keyboard focus explicitly and put the pointer inside it.
    spawnSync('xdotool', ['windowfocus', '--sync', viewerId], { env: operator.env });
    spawnSync('xdotool', ['mousemove', String(origin.x + 500), String(origin.y + 400)], { env: operator.env });
    log(`${viewerSpec.command} ${viewerId} at ${origin.x},${origin.y} via proxy :${proxy.port} -> ${server.name} :${server.port}`);

    const lab: Lab = {
      target,
      operator,
      viewerOrigin: origin,
      targetSize: TARGET_SIZE,
      setLink(upstream, downstream) {
        proxy!.setLinks(upstream, downstream ?? upstream);
      },
      async run(lines, route, runOptions = {}) {
        const hog = runOptions.cpuHog === true ? startCpuHog([xServerPid(target), capture.pid ?? null], track) : null;
        const recorded = await lab.record(async () => {
          try {
            return await injectOn(route === 'local' ? target : operator, lines, () => stopping, track);
          } finally {
            await hog?.stop();
          }
        });
        const { value: maxLateUs, ...seen } = recorded;
        return { ...seen, maxLateUs };
      },
      async record(action) {
        const from = events.length;
        const loopFrom = loopDelays.length;
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
        return {
          value,
          events: events.slice(from),
          deliveryDelaysMs: deliveryDelays.slice(from),
          loopDelays: loopDelays.slice(loopFrom).map((d) => ({ index: d.index - from, ms: d.ms })),
          loadAverage: os.loadavg()[0]!,
        };
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
