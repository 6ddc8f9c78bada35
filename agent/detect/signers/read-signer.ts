/**
 * The code-signer reader for this platform: one chooser over the per-OS modules, with a cache.
 *
 * Verifying a signature starts PowerShell or codesign twice (a few hundred ms of CPU), and the tool
 * scan runs every few seconds, so results are cached per file and refreshed when the file's size or
 * modification time changes (an update or a swapped binary).
 */
import fs from 'node:fs/promises';
import { TelltaleError } from '../../../common/result';
import { execFileRunner, type CommandRunner } from '../command-runner';
import { readSignerDarwin } from './darwin';
import { readSignerLinux } from './linux';
import { readSignerWin32 } from './win32';

/** The verified signer of an executable, or null when unsigned, unverifiable or unreadable. */
export type SignerReader = (file: string) => Promise<string | null>;

/** What identifies a version of a file for the cache; undefined when the file cannot be stat'ed. */
export type FileVersion = (file: string) => Promise<string | undefined>;

const CACHE_LIMIT = 64;

async function statVersion(file: string): Promise<string | undefined> {
  try {
    const stat = await fs.stat(file);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Cache `read` by file and version; a failing read counts as "no signer" and is not cached. */
export function cachedSignerReader(read: SignerReader, version: FileVersion = statVersion): SignerReader {
  const cache = new Map<string, { version: string; signer: string | null }>();
  return async (file) => {
    const current = await version(file);
    if (current === undefined) return null;
    const hit = cache.get(file);
    if (hit && hit.version === current) return hit.signer;
    let signer: string | null;
    try {
      signer = await read(file);
    } catch {
      // A missing codesign/PowerShell or odd output means "not verified", which never approves.
      return null;
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(file, { version: current, signer });
    return signer;
  };
}

/** Throws UNSUPPORTED_PLATFORM for anything but linux, darwin and win32. */
export function signerReaderFor(platform: NodeJS.Platform, run: CommandRunner = execFileRunner, version: FileVersion = statVersion): SignerReader {
  switch (platform) {
    case 'linux':
      return readSignerLinux;
    case 'darwin':
      return cachedSignerReader((file) => readSignerDarwin(run, file), version);
    case 'win32':
      return cachedSignerReader((file) => readSignerWin32(run, file), version);
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Code-signature checks are not implemented for ${platform}`);
  }
}
