/**
 * SQLite's `PRAGMA quick_check` on a worker thread with its own read-only connection, for database
 * files large enough that the check would hold the event loop (it reads every page: about a second
 * per GB, more on a loaded machine). WAL mode lets it read while the collector writes.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Files at least this large are checked on a worker thread; smaller ones inline, which is quicker than a thread. */
export const WORKER_CHECK_MIN_BYTES = 16 * 1024 * 1024;

// Plain CommonJS so it runs the same under tsx and from the bundle; better-sqlite3's path comes from workerData.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const lines = db.prepare('PRAGMA quick_check(5)').pluck().all().map(String);
  parentPort.postMessage({ lines });
} catch (error) {
  parentPort.postMessage({ error: error && error.message ? error.message : String(error) });
} finally {
  if (db) db.close();
}
`;

/** Whether `file` is big enough to be checked on a worker thread. */
export function wantsWorkerCheck(file: string): boolean {
  return (fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) >= WORKER_CHECK_MIN_BYTES;
}

/** Run `PRAGMA quick_check(5)` on `file` in a worker thread; resolves to its result lines ("ok" when sound), rejects with its error. */
export function quickCheckInWorker(file: string): Promise<string[]> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    let settled = false;
    worker.once('message', (message: { lines?: string[]; error?: string }) => {
      settled = true;
      if (message.lines) resolve(message.lines);
      else reject(new Error(message.error ?? 'quick_check worker failed'));
    });
    worker.once('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`quick_check worker exited with code ${code}`));
    });
  });
}
