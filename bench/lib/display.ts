/**
 * A real X display for the hook rows: Xvfb plus a small focused xterm (under a bare Xvfb the hook's
 * receive times lag in bursts until some X client reads input; see test/helpers/xvfb.ts).
 *
 * The same recipe as test/helpers/xvfb.ts, but every process is tracked by the bench's cleanup
 * registry from the moment it is spawned, so a timeout while waiting for the window (common on
 * a loaded machine) still stops Xvfb and xterm; waits are longer for the same reason.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { hasCommand } from '../../test/helpers/tools';
import { exited, MissingCodeError, sleep, spawnTracked } from './children';

export interface BenchDisplay {
  readonly display: string;
  readonly env: NodeJS.ProcessEnv;
}

function freeDisplayNumber(): number {
  for (let n = 150 + Math.floor(Math.random() * 100); n < 500; n++) {
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n;
  }
  throw new Error('No free X display number');
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Run `work` with a fresh Xvfb display; Xvfb and xterm are stopped afterwards, whatever happens. */
export async function withDisplay<T>(work: (display: BenchDisplay) => Promise<T>): Promise<T> {
  const missing = ['Xvfb', 'xterm', 'xdotool'].filter((command) => !hasCommand(command));
  if (missing.length > 0) throw new MissingCodeError(`tools ${missing.join(', ')}`);
  const number = freeDisplayNumber();
  const display = `:${number}`;
  const env = { ...process.env, DISPLAY: display };
  const children: ChildProcess[] = [];
  try {
    children.push(spawnTracked('Xvfb', [display, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' }));
    await waitFor(() => fs.existsSync(`/tmp/.X11-unix/X${number}`), 30_000, `Xvfb ${display}`);
    const findWindow = (): string => spawnSync('xdotool', ['search', '--class', 'xterm'], { env, encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '';
    // xterm sometimes dies at start on a loaded machine (pty or X connection trouble): retry a few times.
    let xtermError = '';
    for (let attempt = 1; findWindow() === ''; attempt++) {
      const xterm = spawnTracked('xterm', ['-geometry', '20x4+0+0', '-e', 'sleep', '3600'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(xterm);
      xterm.stderr?.on('data', (chunk: Buffer) => (xtermError = (xtermError + chunk.toString()).slice(-500)));
      try {
        await waitFor(() => findWindow() !== '' || xterm.exitCode !== null || xterm.signalCode !== null, 60_000, 'the focus window (xterm)');
      } catch (error) {
        throw new Error(`${error instanceof Error ? error.message : String(error)}; xterm said: ${xtermError.trim() || 'nothing'}`);
      }
      if (findWindow() !== '') break;
      if (attempt >= 3) throw new Error(`xterm exited ${attempt} times on ${display}: ${xtermError.trim() || 'no message'}`);
    }
    spawnSync('xdotool', ['windowfocus', '--sync', findWindow()], { env, timeout: 10_000 });
    return await work({ display, env });
  } finally {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited(child);
        clearTimeout(timer);
      }
    }
  }
}
