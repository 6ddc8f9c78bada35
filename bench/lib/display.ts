/**
 * A real X display for the hook rows: test/helpers/xvfb.ts's Xvfb plus a focused xterm, stopped
 * by the cleanup registry even when a row throws.
 */
import { startXvfb, type XDisplay } from '../../test/helpers/xvfb';
import { hasCommand } from '../../test/helpers/tools';
import { MissingCodeError, onCleanup } from './children';

export async function withDisplay<T>(work: (display: XDisplay) => Promise<T>): Promise<T> {
  const missing = ['Xvfb', 'xterm', 'xdotool'].filter((command) => !hasCommand(command));
  if (missing.length > 0) throw new MissingCodeError(`tools ${missing.join(', ')}`);
  const display = await startXvfb();
  const unregister = onCleanup(() => display.stop());
  try {
    return await work(display);
  } finally {
    unregister();
    await display.stop();
  }
}
