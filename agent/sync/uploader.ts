/**
 * The uploader seam: how the sync loop talks to the collector.
 *
 * The real implementation (`FetchUploader`) POSTs JSON with fetch; unit tests pass a hand-written
 * uploader with driver methods. Every outcome is a value: network failures, timeouts and bad
 * answers never throw out of an uploader.
 */
import { Value } from '@sinclair/typebox/value';
import { DeviceAuditFeedSchema, type DeviceAuditFeed, type DeviceAuditRequest } from '../../common/audit';
import {
  ApiErrorSchema,
  EnrollResponseSchema,
  ReportAckSchema,
  type ApiErrorCode,
  type EnrollRequest,
  type EnrollResponse,
  type ReportAck,
} from '../../common/report';
import { collectorEndpoint } from './collector-url';

/**
 * Why a request was refused: the collector's own code (common/report.ts, the one list of the API's
 * codes), a condition the agent finds before asking (enrollment), or an answer in no known shape
 * (a proxy's error page).
 */
export type RefusalCode = ApiErrorCode | 'IDENTITY_CHANGED' | 'NO_ENROLLMENT_SECRET' | 'UNRECOGNIZED_ANSWER';

/** What one request came to. */
export type UploadOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  /** The collector could not be reached, timed out, or answered in a way worth retrying (429, 5xx). */
  | { readonly kind: 'unreachable'; readonly message: string; readonly retryAfterMs: number | null }
  /** The collector answered with a definitive refusal (4xx other than 429). */
  | { readonly kind: 'rejected'; readonly status: number; readonly code: RefusalCode; readonly message: string };

export interface Uploader {
  /** POST /v1/enroll. */
  enroll(request: EnrollRequest): Promise<UploadOutcome<EnrollResponse>>;
  /** POST /v1/reports with `envelope` (the canonical signed report JSON, sent byte for byte). */
  sendReport(envelope: string): Promise<UploadOutcome<ReportAck>>;
}

export interface FetchUploaderOptions {
  /** Per-request timeout, ms (default 30 s). */
  readonly timeoutMs?: number;
}

/** The real uploader: fetch over HTTPS (or HTTP to loopback; the URL is checked before this is built). */
export class FetchUploader implements Uploader {
  private readonly controller = new AbortController();

  constructor(
    private readonly baseUrl: URL,
    private readonly options: FetchUploaderOptions = {},
  ) {}

  enroll(request: EnrollRequest): Promise<UploadOutcome<EnrollResponse>> {
    return this.post('/v1/enroll', JSON.stringify(request), (value) => (Value.Check(EnrollResponseSchema, value) ? value : null));
  }

  sendReport(envelope: string): Promise<UploadOutcome<ReportAck>> {
    return this.post('/v1/reports', envelope, (value) => (Value.Check(ReportAckSchema, value) ? value : null));
  }

  /** POST /v1/device-audit: the signed feed of audit entries about this device (checked for shape only; the caller verifies it). */
  fetchDeviceAudit(request: DeviceAuditRequest): Promise<UploadOutcome<DeviceAuditFeed>> {
    return this.post('/v1/device-audit', JSON.stringify(request), (value) => (Value.Check(DeviceAuditFeedSchema, value) ? value : null));
  }

  /** Abort every request in flight (on shutdown); they resolve as 'unreachable'. */
  abort(): void {
    this.controller.abort();
  }

  private async post<T>(apiPath: string, body: string, parse: (value: unknown) => T | null): Promise<UploadOutcome<T>> {
    const url = collectorEndpoint(this.baseUrl, apiPath);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        redirect: 'error',
        signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)]),
      });
      text = await response.text();
    } catch (error) {
      return { kind: 'unreachable', message: `${url.origin} unreachable: ${describeFetchError(error)}`, retryAfterMs: null };
    }
    if (response.status === 200 || response.status === 201) {
      const value = parse(safeJson(text));
      if (value === null) return { kind: 'unreachable', message: `${url.origin} answered ${response.status} with an unexpected body`, retryAfterMs: null };
      return { kind: 'ok', value };
    }
    const parsed = safeJson(text);
    const error: { code: RefusalCode; message: string } = Value.Check(ApiErrorSchema, parsed)
      ? parsed.error
      : { code: 'UNRECOGNIZED_ANSWER', message: `HTTP ${response.status}: ${text.slice(0, 200)}` };
    if (response.status === 429 || response.status >= 500) {
      return {
        kind: 'unreachable',
        message: `${url.origin} answered ${response.status} ${error.code}: ${error.message}`,
        retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
      };
    }
    return { kind: 'rejected', status: response.status, code: error.code, message: error.message };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null;
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici hides the useful part (ECONNREFUSED...) in `cause`.
  const cause = (error as Error & { cause?: unknown }).cause;
  const detail = cause instanceof Error ? (cause as NodeJS.ErrnoException).code ?? cause.message : null;
  return detail ? `${error.message} (${detail})` : error.message;
}
