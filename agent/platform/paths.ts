/**
 * Where Telltale's files live on this OS: the managed policy IT deploys, and the per-user data
 * folder. One module per OS behind this chooser; the environment and home folder are passed in so
 * every OS's rules are testable on any machine.
 */
import os from 'node:os';
import { TelltaleError } from '../../common/result';
import { darwinPaths } from './darwin';
import { linuxPaths } from './linux';
import { win32Paths } from './win32';

export interface PlatformPaths {
  /** The policy file IT manages (may not exist: then defaults apply). */
  readonly managedPolicyFile: string;
  /** The per-user folder for the database and keys. */
  readonly dataDir: string;
}

export interface PathInputs {
  readonly env: NodeJS.ProcessEnv;
  readonly homedir: string;
}

/**
 * Paths for `platform` (default: this process's). Throws TelltaleError UNSUPPORTED_PLATFORM for an
 * OS Telltale does not support.
 */
export function platformPaths(
  platform: NodeJS.Platform = process.platform,
  inputs: PathInputs = { env: process.env, homedir: os.homedir() },
): PlatformPaths {
  switch (platform) {
    case 'linux':
      return linuxPaths(inputs);
    case 'darwin':
      return darwinPaths(inputs);
    case 'win32':
      return win32Paths(inputs);
    default:
      throw new TelltaleError('UNSUPPORTED_PLATFORM', `Telltale does not support the ${platform} platform (linux, darwin and win32 only)`);
  }
}
