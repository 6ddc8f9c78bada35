/**
 * Memory baseline: bare Node with the agent's three native/heavy dependencies loaded (not started):
 * better-sqlite3 with an in-memory database, uiohook-napi and systeminformation.
 */
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import si from 'systeminformation';
import { serve } from './protocol';

const require = createRequire(import.meta.url);
const uiohook = require('uiohook-napi') as unknown;
const db = new Database(':memory:');
db.prepare('SELECT 1').get();
const timer = setInterval(() => undefined, 1000);
serve({ loaded: () => [typeof uiohook, typeof si.processes] }, () => {
  clearInterval(timer);
  db.close();
});
