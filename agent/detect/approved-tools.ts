/**
 * The approved-tool policy: the company's own remote tools are reported as "approved" (info), not
 * as alarms.
 */
import type { ApprovedTool } from '../../common/policy';
import type { CatalogEntry } from './catalog/catalog';

// --- signer-based approval (Windows/macOS) ---
/** Platforms whose signer comes from a verified code signature. */
const SIGNING_PLATFORMS: ReadonlySet<NodeJS.Platform> = new Set(['win32', 'darwin']);

/** Whether any rule needs a signer, so signatures are verified only when a policy asks for them. */
export function rulesNeedSigner(rules: readonly ApprovedTool[]): boolean {
  return rules.some((rule) => rule.signer !== undefined);
}

/**
 * The one signer shared by every executable of a tool, or null.
 *
 * Each distinct executable is verified; if any is unsigned or signed by someone else, the tool has no
 * common signer, so an unsigned look-alike running next to the real program is not approved with it.
 */
export async function commonSigner(executables: readonly string[], readSigner: (file: string) => Promise<string | null>): Promise<string | null> {
  const distinct = [...new Set(executables)];
  if (distinct.length === 0) return null;
  const signers = await Promise.all(distinct.map((file) => readSigner(file)));
  const first = signers[0] ?? null;
  return first !== null && signers.every((signer) => signer === first) ? first : null;
}
// --- end signer-based approval ---

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
 * path). Paths compare case-insensitively on Windows. A rule with `signer` matches only on Windows
 * and macOS, where the signer comes from a verified signature (signers/read-signer.ts: Authenticode
 * CN, or the Developer ID name); on Linux there is no code signing to verify, so it never matches:
 * it is never taken on trust.
 */
export function findApproval(rules: readonly ApprovedTool[], tool: ToolIdentity, platform: NodeJS.Platform): ApprovedTool | undefined {
  const samePath = (a: string, b: string) => (platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b);
  return rules.find((rule) => {
    if (rule.catalogId === undefined && rule.path === undefined && rule.signer === undefined) return false;
    if (rule.catalogId !== undefined && rule.catalogId !== tool.entry.id) return false;
    if (rule.path !== undefined && !tool.executables.some((executable) => samePath(executable, rule.path!))) return false;
    if (rule.signer !== undefined && (!SIGNING_PLATFORMS.has(platform) || tool.signer === null || tool.signer !== rule.signer)) return false;
    return true;
  });
}
