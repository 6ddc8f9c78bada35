/** macOS paths: the system Application Support folder for policy, the user's for data. */
import path from 'node:path';
import type { PathInputs, PlatformPaths } from './paths';

export function darwinPaths({ homedir }: PathInputs): PlatformPaths {
  return {
    managedPolicyFile: '/Library/Application Support/Telltale/policy.json',
    dataDir: path.posix.join(homedir, 'Library', 'Application Support', 'Telltale'),
  };
}
