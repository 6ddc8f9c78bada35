/**
 * A real X display for the hook rows: the lab's Xvfb recipe (lab/xvfb.ts), with every process
 * tracked by the bench's cleanup registry from the moment it is spawned, so a timeout while waiting
 * for the window still stops Xvfb and xterm; the window may take longer on a loaded machine.
 */
import { missingCommands } from '../../lab/commands';
import { startXvfb, type XDisplay } from '../../lab/xvfb';
import { MissingCodeError, track } from './children';

export type BenchDisplay = Pick<XDisplay, 'display' | 'env'>;

/** Run `work` with a fresh Xvfb display; Xvfb and xterm are stopped afterwards, whatever happens. */
export async function withDisplay<T>(work: (display: BenchDisplay) => Promise<T>): Promise<T> {
  const missing = missingCommands(['Xvfb', 'xterm', 'xdotool']);
  if (missing.length > 0) throw new MissingCodeError(`tools ${missing.join(', ')}`);
  const display = await startXvfb({ windowTimeoutMs: 60_000, onSpawn: (child) => track(child) });
  try {
    return await work(display);
  } finally {
    await display.stop();
  }
}
