/**
 * The collector's coded errors and the one JSON error shape every 4xx/5xx uses.
 *
 * Route code throws CollectorError for expected rejections; the app's error handler turns it (and
 * Fastify's own errors) into `{ error: { code, message } }`. 5xx messages are replaced by a generic
 * one so internals never leak to clients.
 */
import type { ApiError } from '../common/report';

export type CollectorErrorCode =
  | 'PAYLOAD_INVALID'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'ENROLLMENT_DENIED'
  | 'DEVICE_UNKNOWN'
  | 'SIGNATURE_INVALID'
  | 'CHAIN_FORK'
  | 'RATE_LIMITED'
  | 'OVERLOADED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFIG_INVALID'
  | 'DATABASE_TOO_NEW'
  | 'STORAGE_UNAVAILABLE'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

/** An expected failure with its HTTP status. */
export class CollectorError extends Error {
  constructor(
    readonly code: CollectorErrorCode,
    message: string,
    readonly statusCode: number,
    /** Seconds for a Retry-After header (429/503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CollectorError';
  }
}

/** The JSON body for an error. */
export function errorBody(code: CollectorErrorCode, message: string): ApiError {
  return { error: { code, message } };
}
