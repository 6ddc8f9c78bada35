/**
 * Idle baseline: a Node process that does nothing but keep a 1 s no-op interval alive, so its
 * event loop wakes about as often as a quiet agent's.
 */
import { serve } from './protocol';

const timer = setInterval(() => undefined, 1000);
serve({}, () => clearInterval(timer));
