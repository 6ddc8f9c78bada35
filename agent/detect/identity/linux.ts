/**
 * Executable identity on Linux: a running binary is a catalogued tool when its content (sha256)
 * equals a reference binary of that tool, whatever the file or process is called.
 *
 * Reference binaries are the catalog's Linux install paths plus every file the dpkg database says a
 * package installed under a bin/sbin/libexec directory whose name is one of the tool's catalog
 * process names (so `Xtigervnc` from tigervnc-standalone-server is a reference for TigerVNC).
 *
 * Cheap by construction: a process's binary is hashed only when its size equals a reference's size,
 * and each binary (device, inode, size, mtime) is hashed once.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Catalog, CatalogEntry } from '../catalog/catalog';

/** How a process was tied to a catalog entry without its name. */
export interface ExecutableIdentity {
  readonly entry: CatalogEntry;
  readonly method: 'sha256';
  /** The reference binary the content matched, e.g. /usr/bin/x11vnc. */
  readonly reference: string;
  /** The dpkg package owning the reference, when known. */
  readonly package: string | null;
  readonly sha256: string;
}

interface Reference {
  readonly entry: CatalogEntry;
  readonly file: string;
  readonly package: string | null;
}

const BINARY_DIRECTORY = /\/(s?bin|libexec)\//;

/** Reference binaries from dpkg `.list` files: package name and files per package. */
export function referencesFromDpkgLists(lists: ReadonlyMap<string, string>, catalog: Catalog): Reference[] {
  const byName = new Map<string, CatalogEntry>();
  for (const entry of catalog.entries) for (const name of entry.processes.linux) if (!name.includes('*')) byName.set(name, entry);
  const result: Reference[] = [];
  for (const [pkg, text] of lists) {
    for (const file of text.split('\n')) {
      if (!BINARY_DIRECTORY.test(file)) continue;
      const entry = byName.get(path.basename(file).toLowerCase());
      if (entry) result.push({ entry, file, package: pkg });
    }
  }
  return result;
}

/** Read /var/lib/dpkg/info/*.list (package -> file list); empty on systems without dpkg. */
export function readDpkgLists(infoDir = '/var/lib/dpkg/info'): Map<string, string> {
  const lists = new Map<string, string>();
  let names: string[];
  try {
    names = fs.readdirSync(infoDir);
  } catch {
    return lists;
  }
  for (const name of names) {
    if (!name.endsWith('.list')) continue;
    try {
      lists.set(name.slice(0, -'.list'.length).replace(/:.*$/, ''), fs.readFileSync(path.join(infoDir, name), 'utf8'));
    } catch {
      // Unreadable list: that package contributes no references.
    }
  }
  return lists;
}

export interface IdentifierOptions {
  readonly catalog: Catalog;
  readonly procRoot?: string;
  /** Package file lists; default reads the dpkg database once. */
  readonly dpkgLists?: () => ReadonlyMap<string, string>;
}

/** Identifies processes by binary content against the catalog's reference binaries. */
export class ExecutableIdentifier {
  private references: Map<number, { file: string; entry: CatalogEntry; package: string | null; sha256: string | null }[]> | undefined;
  private readonly hashes = new Map<string, string>();
  private readonly procRoot: string;
  /** Files hashed so far (the cost the size filter keeps low). */
  hashesComputed = 0;

  constructor(private readonly options: IdentifierOptions) {
    this.procRoot = options.procRoot ?? '/proc';
  }

  /** The catalog entry whose reference binary has the same content as pid's executable. */
  identify(pid: number): ExecutableIdentity | undefined {
    const references = this.loadReferences();
    const exe = path.join(this.procRoot, String(pid), 'exe');
    let stat: fs.Stats;
    try {
      stat = fs.statSync(exe);
    } catch {
      // Exited, a kernel thread, or another user's process without privilege.
      return undefined;
    }
    const candidates = references.get(stat.size);
    if (!candidates) return undefined;
    const sha256 = this.hashOf(exe, stat);
    if (!sha256) return undefined;
    for (const candidate of candidates) {
      candidate.sha256 ??= this.hashOf(candidate.file);
      if (candidate.sha256 === sha256) return { entry: candidate.entry, method: 'sha256', reference: candidate.file, package: candidate.package, sha256 };
    }
    return undefined;
  }

  private loadReferences(): Map<number, { file: string; entry: CatalogEntry; package: string | null; sha256: string | null }[]> {
    if (this.references) return this.references;
    const found: Reference[] = [];
    for (const entry of this.options.catalog.entries) for (const file of entry.paths.linux) found.push({ entry, file, package: null });
    found.push(...referencesFromDpkgLists((this.options.dpkgLists ?? readDpkgLists)(), this.options.catalog));
    const bySize = new Map<number, { file: string; entry: CatalogEntry; package: string | null; sha256: string | null }[]>();
    const seen = new Set<string>();
    for (const reference of found) {
      let real: string;
      let stat: fs.Stats;
      try {
        real = fs.realpathSync(reference.file);
        stat = fs.statSync(real);
      } catch {
        continue;
      }
      if (!stat.isFile() || seen.has(real)) continue;
      seen.add(real);
      const list = bySize.get(stat.size) ?? [];
      list.push({ file: real, entry: reference.entry, package: reference.package, sha256: null });
      bySize.set(stat.size, list);
    }
    this.references = bySize;
    return bySize;
  }

  private hashOf(file: string, known?: fs.Stats): string | null {
    let stat = known;
    try {
      stat ??= fs.statSync(file);
      const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      const cached = this.hashes.get(key);
      if (cached) return cached;
      this.hashesComputed++;
      const digest = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      this.hashes.set(key, digest);
      return digest;
    } catch {
      return null;
    }
  }
}
