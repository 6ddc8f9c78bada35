/** Windows paths: %ProgramData% for the managed policy, %LOCALAPPDATA% for per-user data. */
import path from 'node:path';
import type { PathInputs, PlatformPaths } from './paths';

export function win32Paths({ env, homedir }: PathInputs): PlatformPaths {
  // Fall back to the documented defaults when a variable is missing (services, stripped envs).
  const programData = env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData';
  const localAppData = env.LOCALAPPDATA ?? path.win32.join(homedir, 'AppData', 'Local');
  return {
    managedPolicyFile: path.win32.join(programData, 'Telltale', 'policy.json'),
    dataDir: path.win32.join(localAppData, 'Telltale'),
  };
}
