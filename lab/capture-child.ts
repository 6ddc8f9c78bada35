/**
 * The lab's capture process: the agent's real input source (uiohook-napi behind the hook boundary)
 * on the target display, printing each privacy-safe InputEvent as one JSON line.
 *
 * It runs as its own process because uiohook-napi is a process-wide singleton bound to $DISPLAY at
 * start, and because the lab's parent process must stay free to run the proxy's timers. Only what
 * crosses the hook boundary is printed: times, held counts and step lengths, never key identity.
 * Stops when stdin closes.
 */
import { HookInputSource } from '../agent/input/hook-source';

const source = new HookInputSource(process.env);
const started = await source.start((event) => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
});
if (!started.ok) {
  process.stderr.write(`capture: ${started.error.message}\n`);
  process.exit(3);
}
process.stdout.write('{"kind":"ready"}\n');
process.stdin.resume();
process.stdin.on('end', () => {
  source.stop();
  process.exit(0);
});
