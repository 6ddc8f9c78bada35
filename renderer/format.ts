/** Plain-language formatting for times, durations and sizes. */
import { assertNever } from '../common/result';
import type { TimingUnit } from '../common/timing';

export function formatTime(epochMs: number | null): string {
  if (epochMs === null) return '—';
  return new Date(epochMs).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
}

/** A time of day with its time zone (for a reader comparing with what IT says). */
export function formatClock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}

/** A time of day without the zone, for chart axes where the caption already names it. */
export function formatShortClock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** Whether an address is this computer's own (loopback): shown as "this computer", not as another machine. */
export function isLocalAddress(address: string): boolean {
  const host = address.toLowerCase().replace(/^\[|\]$/g, '').replace(/^::ffff:/, '');
  return host === '::1' || host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '0:0:0:0:0:0:0:1';
}

/** An address as the employee should read it: "this computer (127.0.0.1)" for loopback. */
export function describeAddress(address: string): string {
  return isLocalAddress(address) ? `this computer (${address})` : address;
}

export function formatMs(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value)} ms`;
}

export function formatHz(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${value.toFixed(value < 10 ? 1 : 0)} per second`;
}

export function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `${seconds} seconds`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** A timing field's value in its unit (common/timing.ts), for the table of everything a window holds. */
export function formatTimingValue(value: number | null, unit: TimingUnit): string {
  if (value === null) return '—';
  switch (unit) {
    case 'epoch-ms':
      return formatClock(value);
    case 'hook-ms':
      return `${value} (input clock, ms)`;
    case 'ms':
      return `${Number(value.toFixed(1))} ms`;
    case 'count':
      return String(value);
    case 'share':
      return `${Number((value * 100).toFixed(1))} %`;
    case 'Hz':
      return formatHz(value);
    case 'px':
      return `${Number(value.toFixed(1))} pixels`;
    case 'ratio':
      return String(Number(value.toFixed(3)));
    default:
      return assertNever(unit, 'timing unit');
  }
}
