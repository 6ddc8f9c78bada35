/** Linux paths: /etc for the managed policy, the XDG data folder for per-user data. */
import path from 'node:path';
import type { PathInputs, PlatformPaths } from './paths';

export function linuxPaths({ env, homedir }: PathInputs): PlatformPaths {
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME;
  const dataHome = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(homedir, '.local', 'share');
  return {
    managedPolicyFile: '/etc/telltale/policy.json',
    dataDir: path.posix.join(dataHome, 'telltale'),
  };
}
