/** Whether the external programs the lab, the bench and the integration tests drive are installed. */
import { spawnSync } from 'node:child_process';

export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${JSON.stringify(command)}`], { stdio: 'ignore' }).status === 0;
}

/** The commands of `commands` that are not installed. */
export function missingCommands(commands: readonly string[]): string[] {
  return commands.filter((command) => !hasCommand(command));
}
