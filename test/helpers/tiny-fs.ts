/**
 * A tiny real file system for disk-full tests: a tmpfs of a few megabytes mounted on a folder the
 * test creates, filled and freed on demand, unmounted when the test ends. Mounting needs root:
 * locally a non-root run skips with a message, with CI=true it fails (see tools.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { requireCondition, requireTools } from './tools';

export interface TinyFs {
  /** The mount point. */
  readonly dir: string;
  /** Write a filler file until the file system is full; returns the filler's path. */
  fill(): string;
  /** Remove the filler. */
  free(): void;
  /** Remount read-only (`false`) or read-write (`true`). */
  setWritable(writable: boolean): void;
}

export function mountTinyFs(t: TestContext, sizeBytes: number): TinyFs | null {
  if (!requireCondition(t, process.getuid?.() === 0, 'mounting a tiny tmpfs needs root')) return null;
  if (!requireTools(t, ['mount', 'umount'])) return null;
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-tinyfs-'));
  const dir = path.join(parent, 'mnt');
  fs.mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  // One hook, in this order: a lazy unmount works even if a killed child still holds a file open.
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    fs.rmSync(parent, { recursive: true, force: true });
  });
  const filler = path.join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, 'a');
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x5a);
          try {
            for (;;) fs.writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      return filler;
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    setWritable(writable) {
      execFileSync('mount', ['-o', `remount,${writable ? 'rw' : 'ro'}`, dir]);
    },
  };
}
