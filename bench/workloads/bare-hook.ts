/**
 * Input-path baseline: uiohook-napi alone, a listener that only counts events. This is the floor
 * any hook-based agent pays per event (native thread, N-API callback into JS).
 */
import { createRequire } from 'node:module';
import { serve } from './protocol';

interface Uiohook {
  on(event: 'input', listener: () => void): void;
  start(): void;
  stop(): void;
}

const require = createRequire(import.meta.url);
const { uIOhook } = require('uiohook-napi') as { uIOhook: Uiohook };
let events = 0;
uIOhook.on('input', () => {
  events++;
});
uIOhook.start();

serve({ count: () => events }, () => uIOhook.stop());
