/**
 * The headless agent's exit codes: one per fatal condition, so scripts and service managers can
 * tell a bad policy from a corrupt database without parsing text.
 */
import { assertNever, type ErrorCode } from '../common/result';

/** Exit codes, one per fatal condition, so scripts and service managers can tell them apart. */
export const EXIT_CODES = {
  ok: 0,
  bug: 1,
  usage: 2,
  policyInvalid: 3,
  policyUnreadable: 4,
  databaseCorrupt: 5,
  databaseTooNew: 6,
  databaseUnwritable: 7,
  unsupportedPlatform: 8,
  other: 9,
  alreadyRunning: 10,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'POLICY_INVALID':
      return EXIT_CODES.policyInvalid;
    case 'POLICY_UNREADABLE':
      return EXIT_CODES.policyUnreadable;
    case 'DATABASE_CORRUPT':
      return EXIT_CODES.databaseCorrupt;
    case 'DATABASE_TOO_NEW':
      return EXIT_CODES.databaseTooNew;
    case 'DATABASE_UNWRITABLE':
      return EXIT_CODES.databaseUnwritable;
    case 'UNSUPPORTED_PLATFORM':
      return EXIT_CODES.unsupportedPlatform;
    case 'AGENT_ALREADY_RUNNING':
      return EXIT_CODES.alreadyRunning;
    case 'SYNC_UNREACHABLE':
    case 'SYNC_REJECTED':
    case 'SIGNATURE_INVALID':
    case 'CHAIN_BROKEN':
    case 'PAYLOAD_INVALID':
    case 'SENDER_UNTRUSTED':
    case 'NOT_FOUND':
    case 'SYNC_DISABLED':
    case 'METHOD_NOT_ALLOWED':
    case 'AGENT_STARTING':
    case 'AGENT_UNAVAILABLE':
    case 'VIEW_NOT_BUILT':
    case 'INTERNAL':
      return EXIT_CODES.other;
    default:
      return assertNever(code, 'error code');
  }
}
