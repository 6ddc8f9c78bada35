/**
 * A real X display for the lab, the bench and the integration tests: Xvfb plus a small focused
 * window, because under a bare Xvfb the hook's receive times lag in bursts until some X client is
 * reading input.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface XDisplay {
  /** e.g. ":93" */
  readonly display: string;
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

function freeDisplayNumber(): number {
  for (let n = 90 + Math.floor(Math.random() * 50); n < 400; n++) {
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n;
  }
  throw new Error('No free X display number');
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface StartXvfbOptions {
  readonly width?: number;
  readonly height?: number;
  /** Open a small focused xterm so X delivers input promptly (default true). */
  readonly focusWindow?: boolean;
  /** How long the focus window may take to appear, ms (default 30 s; a loaded machine may need more). */
  readonly windowTimeoutMs?: number;
  /** Called with every process as soon as it is spawned, e.g. to register it for cleanup on exit. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export async function startXvfb(options: StartXvfbOptions = {}): Promise<XDisplay> {
  const number = freeDisplayNumber();
  const display = `:${number}`;
  const children: ChildProcess[] = [];
  const xvfb = spawn('Xvfb', [display, '-screen', '0', `${options.width ?? 1024}x${options.height ?? 768}x24`, '-nolisten', 'tcp'], {
    stdio: 'ignore',
  });
  children.push(xvfb);
  options.onSpawn?.(xvfb);
  const env = { ...process.env, DISPLAY: display };
  const stopAll = async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    }
  };
  try {
    await waitFor(() => fs.existsSync(`/tmp/.X11-unix/X${number}`), 30_000, `Xvfb ${display}`);
    if (options.focusWindow ?? true) {
      // The socket file appears before Xvfb accepts connections, so an xterm started at once can
      // fail to open the display and exit: start it again (a few times) rather than wait for a
      // window that will never come, and say why if it still fails.
      let xtermErrors = '';
      const startXterm = (): ChildProcess => {
        const xterm = spawn('xterm', ['-geometry', '20x4+0+0', '-e', 'sleep', '100000'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        xterm.stderr!.on('data', (chunk: Buffer) => (xtermErrors += chunk.toString()));
        children.push(xterm);
        options.onSpawn?.(xterm);
        return xterm;
      };
      let xterm = startXterm();
      let attempts = 1;
      await waitFor(
        () => {
          if (spawnSync('xdotool', ['search', '--class', 'xterm'], { env }).stdout.toString().trim() !== '') return true;
          if ((xterm.exitCode !== null || xterm.signalCode !== null) && attempts < 5) {
            attempts++;
            xterm = startXterm();
          }
          return false;
        },
        options.windowTimeoutMs ?? 30_000,
        'focus window',
      ).catch((error: Error) => {
        throw new Error(`${error.message} on ${display} (xterm started ${attempts} times; stderr: ${xtermErrors.trim() || 'none'})`);
      });
      const id = spawnSync('xdotool', ['search', '--class', 'xterm'], { env }).stdout.toString().trim().split('\n')[0]!;
      spawnSync('xdotool', ['windowfocus', '--sync', id], { env });
    }
  } catch (error) {
    // A display that never came up must not outlive the test that asked for it.
    await stopAll();
    throw error;
  }
  return {
    display,
    env,
    stop: stopAll,
  };
}
