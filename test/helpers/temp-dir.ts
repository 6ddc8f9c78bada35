/** A fresh temporary folder per test, removed when the test ends (pass or fail). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(t: { after(fn: () => void): void }, prefix = 'telltale-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
