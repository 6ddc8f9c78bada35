/**
 * Coded results for expected failures inside the agent and across its view bridge (Electron IPC,
 * the headless view's HTTP API, the agent host's messages, the CLI's exit codes).
 *
 * Bugs throw; expected failures (a dead collector, a forged report, a bad policy file) are values of
 * this type, handled in one place by the caller. Every code is listed here, each with one meaning,
 * so a switch over them can use `assertNever`. (The collector's API has its own list:
 * common/report.ts API_ERROR_CODES.)
 */
export const ERROR_CODES = [
  'POLICY_INVALID',
  'POLICY_UNREADABLE',
  'DATABASE_CORRUPT',
  'DATABASE_TOO_NEW',
  'DATABASE_UNWRITABLE',
  /** Another agent holds the data folder's lock (one agent per data folder). */
  'AGENT_ALREADY_RUNNING',
  /** The collector could not be reached. */
  'SYNC_UNREACHABLE',
  /** The collector refused the device or a report. */
  'SYNC_REJECTED',
  /** This agent runs without sync (no collector configured, or a run without it). */
  'SYNC_DISABLED',
  'SIGNATURE_INVALID',
  'CHAIN_BROKEN',
  'PAYLOAD_INVALID',
  'SENDER_UNTRUSTED',
  /** No such bridge channel or view resource. */
  'NOT_FOUND',
  /** The view's HTTP API was called with the wrong method. */
  'METHOD_NOT_ALLOWED',
  /** The agent is still starting and cannot answer yet. */
  'AGENT_STARTING',
  /** The agent process is not answering (exited, or timed out). */
  'AGENT_UNAVAILABLE',
  /** The transparency view's files are not built. */
  'VIEW_NOT_BUILT',
  /** A handler failed unexpectedly (a bug; details are in the agent's log). */
  'INTERNAL',
  'UNSUPPORTED_PLATFORM',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface CodedError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: CodedError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

/** An Error that carries an ErrorCode, for expected failures that must unwind a call stack. */
export class TelltaleError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TelltaleError';
  }
}

/** Exhaustiveness check for switches over unions: a new member is a compile error here. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
