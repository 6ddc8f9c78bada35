/**
 * The lab's capture process: the agent's real input source (uiohook-napi behind the hook boundary)
 * on the target display, printing each privacy-safe InputEvent as one JSON line.
 *
 * It runs as its own process because uiohook-napi is a process-wide singleton bound to $DISPLAY at
 * start, and because the lab's parent process must stay free to run the proxy's timers. Only what
 * crosses the hook boundary is printed: times, held counts and step lengths, never key identity.
 * Beside each event, what the agent's load guard reads: the event's delivery delay (the input
 * clock's receive − event time, agent/input/input-clock.ts) and, as its own line, the longest stall
 * of this process's event loop in each second (as agent/input/input-capture-service.ts measures it),
 * so a capture taken on a busy machine is scored the way the agent would score it.
 * Stops when stdin closes.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HookInputSource } from '../agent/input/hook-source';

/** The capture service's loop monitor resolution, ms: its own sampling interval is not a stall. */
const LOOP_MONITOR_MS = 20;

const source = new HookInputSource(process.env);
let eventsSinceLook = 0;
const started = await source.start((event, deliveryDelayMs) => {
  eventsSinceLook++;
  process.stdout.write(`${JSON.stringify({ ...event, deliveryDelayMs: deliveryDelayMs ?? 0 })}\n`);
});
const loop = monitorEventLoopDelay({ resolution: LOOP_MONITOR_MS });
loop.enable();
// Like the agent, whose monitor runs only while a window is open: a stall while no input arrives is not reported.
setInterval(() => {
  if (loop.count === 0) return;
  const stalledMs = Math.max(0, loop.max / 1e6 - LOOP_MONITOR_MS);
  loop.reset();
  const active = eventsSinceLook > 0;
  eventsSinceLook = 0;
  if (active && stalledMs > 0) process.stdout.write(`${JSON.stringify({ kind: 'loopDelay', ms: Math.round(stalledMs) })}\n`);
}, 1000).unref();
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
