/**
 * Which collector URLs the agent will talk to: HTTPS anywhere, plain HTTP only to loopback.
 *
 * Reports are signed, so a network attacker cannot forge them, but plain HTTP would still show
 * them (findings, timing summaries) to anyone on the path. Loopback HTTP exists for tests and the
 * demo. Checked when the policy is loaded and again when sync starts.
 */
import { fail, ok, type Result } from '../../common/result';

/** Whether `hostname` (as URL.hostname gives it) is a loopback host: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  // IPv4-mapped IPv6 loopback, as URL normalizes it (::ffff:7f00:1).
  if (/^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host)) return true;
  const octets = host.split('.');
  return octets.length === 4 && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255) && octets[0] === '127';
}

/**
 * Parse and check a collector base URL. Fails with POLICY_INVALID for anything but https:, or
 * http: to a loopback host; credentials, queries and fragments in the URL are refused too.
 */
export function checkCollectorUrl(raw: string): Result<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('POLICY_INVALID', `collectorUrl "${raw}" is not a valid URL`);
  }
  if (url.username !== '' || url.password !== '') return fail('POLICY_INVALID', 'collectorUrl must not contain a user name or password');
  if (url.search !== '' || url.hash !== '') return fail('POLICY_INVALID', 'collectorUrl must not contain a query or fragment');
  if (url.protocol === 'https:') return ok(url);
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return ok(url);
    return fail(
      'POLICY_INVALID',
      `collectorUrl "${raw}" uses plain HTTP to a non-loopback host; use https:// (plain http:// is allowed only for 127.0.0.0/8, ::1 and localhost)`,
    );
  }
  return fail('POLICY_INVALID', `collectorUrl "${raw}" must use https:// (got ${url.protocol})`);
}

/** Resolve an API path ("/v1/reports") against the collector base URL, keeping any base path. */
export function collectorEndpoint(base: URL, apiPath: string): URL {
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  const url = new URL(base.href);
  url.pathname = `${prefix}${apiPath}`;
  return url;
}
