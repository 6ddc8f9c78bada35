/**
 * Coded results for expected failures.
 *
 * Bugs throw; expected failures (a dead collector, a forged report, a bad policy file) are values of
 * this type, handled in one place by the caller. Every code is listed here so a switch over them can
 * use `assertNever`.
 */
export type ErrorCode =
  | 'POLICY_INVALID'
  | 'POLICY_UNREADABLE'
  | 'DATABASE_CORRUPT'
  | 'DATABASE_TOO_NEW'
  | 'DATABASE_UNWRITABLE'
  | 'SYNC_UNREACHABLE'
  | 'SYNC_REJECTED'
  | 'SIGNATURE_INVALID'
  | 'CHAIN_BROKEN'
  | 'PAYLOAD_INVALID'
  | 'SENDER_UNTRUSTED'
  | 'NOT_FOUND'
  | 'UNSUPPORTED_PLATFORM';

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
