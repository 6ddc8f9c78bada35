/**
 * Create a folder and its missing parents one level at a time.
 *
 * `fs.mkdirSync(dir, { recursive: true })` never returns for a path under /proc or /sys on
 * Node 20 (the kernel answers ENOENT for a folder whose parent exists, and the recursive walk keeps
 * retrying it at full CPU); one level at a time, that ENOENT is an error we can report.
 */
import fs from 'node:fs';
import path from 'node:path';

export function makeDirectory(dir: string, mode: number): void {
  const absolute = path.resolve(dir);
  const missing: string[] = [];
  for (let current = absolute; !fs.existsSync(current); current = path.dirname(current)) {
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const folder of missing) {
    try {
      fs.mkdirSync(folder, { mode });
    } catch (error) {
      // Another process may have made it meanwhile; anything else is the caller's error.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (!fs.statSync(absolute).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, '${absolute}'`), { code: 'ENOTDIR' });
}
