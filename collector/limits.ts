/**
 * The collector's own counters, for limits @fastify/rate-limit cannot express because they count
 * outcomes rather than requests: reports per device counted only once their signature verified (so
 * junk naming a victim's device id cannot spend its budget), failed IT-token and enrolment attempts
 * per source address, and enrolments per secret and across all addresses.
 */
import type { CollectorConfig } from './config';
import { CollectorError } from './errors';
import { LruMap } from './lru';

/** Keys kept per counter; beyond it the least recently counted key is forgotten. */
const MAX_KEYS = 100_000;

/** Fixed-window counts per key: a key's window starts at its first count. */
export class WindowCounter {
  private readonly windows = new LruMap<string, { start: number; count: number }>(MAX_KEYS);

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly clock: () => number,
  ) {}

  /** Seconds until `key` is under its limit again; 0 when it is under it now. */
  blockedFor(key: string): number {
    const window = this.current(key);
    if (!window || window.count < this.max) return 0;
    return Math.max(1, Math.ceil((window.start + this.windowMs - this.clock()) / 1000));
  }

  /** Count one for `key`. */
  add(key: string): void {
    const window = this.current(key);
    if (window) window.count += 1;
    else this.windows.set(key, { start: this.clock(), count: 1 });
  }

  private current(key: string): { start: number; count: number } | undefined {
    const window = this.windows.get(key);
    if (window && this.clock() - window.start >= this.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }
}

/** Every outcome-counting limit of one collector. */
export class CollectorLimits {
  /** Verified reports per device id. */
  readonly reportsPerDevice: WindowCounter;
  /** Failed IT-token attempts per source address. */
  readonly failedTokens: WindowCounter;
  /** Failed enrolment attempts (wrong secret, missing or bad proof) per source address. */
  readonly failedEnrollments: WindowCounter;
  /** New devices enrolled with the secret. */
  readonly enrollmentsPerSecret: WindowCounter;
  /** Enrolment attempts from every address together, whatever their outcome. */
  readonly enrollmentAttempts: WindowCounter;

  constructor(config: CollectorConfig, clock: () => number) {
    const { rateLimit, enrollment } = config;
    this.reportsPerDevice = new WindowCounter(rateLimit.reportsPerDevice, rateLimit.windowMs, clock);
    this.failedTokens = new WindowCounter(rateLimit.failuresPerIp, rateLimit.failureWindowMs, clock);
    this.failedEnrollments = new WindowCounter(rateLimit.failuresPerIp, rateLimit.failureWindowMs, clock);
    this.enrollmentsPerSecret = new WindowCounter(enrollment.newDevicesPerWindow, enrollment.windowMs, clock);
    this.enrollmentAttempts = new WindowCounter(enrollment.attemptsPerWindow, enrollment.windowMs, clock);
  }
}

/** Throw 429 RATE_LIMITED with Retry-After when `key` is over `counter`'s limit. */
export function refuseWhenBlocked(counter: WindowCounter, key: string, what: string): void {
  const wait = counter.blockedFor(key);
  if (wait > 0) throw new CollectorError('RATE_LIMITED', `${what}; retry after ${wait} s.`, 429, wait);
}
