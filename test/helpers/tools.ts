/**
 * Integration tests need real tools (Xvfb, x11vnc, chromium, PostgreSQL...). Locally a missing tool
 * skips the test with a clear message; in CI (CI=true) it fails, so CI never passes by skipping.
 */
import type { TestContext } from 'node:test';
import { missingCommands } from '../../lab/commands';

export const IN_CI = process.env.CI === 'true';

/**
 * Returns true when every command exists. Otherwise skips the test (locally) or throws (in CI).
 * Usage: `if (!requireTools(t, ['Xvfb', 'xdotool'])) return;`
 */
export function requireTools(t: TestContext, commands: readonly string[]): boolean {
  const missing = missingCommands(commands);
  return requireCondition(t, missing.length === 0, `missing tools: ${missing.join(', ')} (run .ci/run or apt-get install them)`);
}

/** Like requireTools for any precondition, e.g. a PostgreSQL URL in the environment. */
export function requireCondition(t: TestContext, condition: boolean, reason: string): boolean {
  if (condition) return true;
  if (IN_CI) throw new Error(`CI=true and a required precondition is missing: ${reason}`);
  t.skip(reason);
  return false;
}
