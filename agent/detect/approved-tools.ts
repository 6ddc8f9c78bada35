/**
 * The approved-tool policy: the company's own remote tools are reported as "approved" (info), not
 * as alarms.
 */
import type { ApprovedTool } from '../../common/policy';
import type { CatalogEntry } from './catalog/catalog';

export interface ToolIdentity {
  readonly entry: CatalogEntry;
  /** Executable paths of the running processes (may be empty when unreadable). */
  readonly executables: readonly string[];
  /** Code-signing subject when the platform verified one (Windows/macOS), else null. */
  readonly signer: string | null;
}

/**
 * The approval rule that covers this tool, if any.
 *
 * Every field a rule sets must match (a rule with catalogId and path approves only that tool at that
 * path). Paths compare case-insensitively on Windows. A rule with only `signer` cannot match on
 * Linux, where there is no code signing to verify: it is never taken on trust.
 */
export function findApproval(rules: readonly ApprovedTool[], tool: ToolIdentity, platform: NodeJS.Platform): ApprovedTool | undefined {
  const samePath = (a: string, b: string) => (platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b);
  return rules.find((rule) => {
    if (rule.catalogId === undefined && rule.path === undefined && rule.signer === undefined) return false;
    if (rule.catalogId !== undefined && rule.catalogId !== tool.entry.id) return false;
    if (rule.path !== undefined && !tool.executables.some((executable) => samePath(executable, rule.path!))) return false;
    if (rule.signer !== undefined && (tool.signer === null || tool.signer !== rule.signer)) return false;
    return true;
  });
}
