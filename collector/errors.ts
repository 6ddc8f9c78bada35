/**
 * The collector's coded errors and the one JSON error shape every 4xx/5xx uses.
 *
 * Route code throws CollectorError for expected rejections; the app's error handler turns it (and
 * Fastify's own errors) into `{ error: { code, message } }`. 5xx messages are replaced by a generic
 * one so internals never leak to clients.
 */
import type { ApiError, ApiErrorCode } from '../common/report';

/** The codes are the API's own list (common/report.ts), so agent and collector share one union. */
export type CollectorErrorCode = ApiErrorCode;

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
