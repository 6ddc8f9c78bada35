/**
 * The SIEM push's on-disk queue: one file per batch of events, named by a zero-padded sequence so
 * the oldest sorts first. A batch is written to a temporary name, fsynced and renamed, so a crash
 * leaves either the whole batch or none; it is removed only after the receiver accepted it.
 */
import fs from 'node:fs';
import path from 'node:path';

const NAME = /^(\d{12})\.json$/;

export class DiskQueue {
  private next: number;

  constructor(readonly folder: string) {
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    const last = this.names().at(-1);
    this.next = last === undefined ? 1 : Number(NAME.exec(last)?.[1]) + 1;
  }

  /** Batch files waiting, oldest first. */
  names(): string[] {
    return fs
      .readdirSync(this.folder)
      .filter((name) => NAME.test(name))
      .sort();
  }

  get size(): number {
    return this.names().length;
  }

  /** Store one batch durably. */
  enqueue(body: string): void {
    const name = `${String(this.next++).padStart(12, '0')}.json`;
    const temporary = path.join(this.folder, `.${name}.tmp`);
    const descriptor = fs.openSync(temporary, 'w', 0o600);
    try {
      fs.writeFileSync(descriptor, body);
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
    fs.renameSync(temporary, path.join(this.folder, name));
  }

  read(name: string): string {
    return fs.readFileSync(path.join(this.folder, name), 'utf8');
  }

  remove(name: string): void {
    fs.rmSync(path.join(this.folder, name), { force: true });
  }
}
