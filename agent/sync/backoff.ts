/**
 * Retry delays: exponential backoff with full jitter.
 *
 * After the n-th consecutive failure (n from 1) the delay is uniform in [0, min(cap, base * 2^(n-1))]
 * ("full jitter", which spreads a fleet of agents coming back after a collector outage instead of
 * having them retry in lockstep). The random source is injectable so tests can seed it.
 */

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

export interface BackoffOptions {
  /** First ceiling, ms (default 1 s). */
  readonly baseMs?: number;
  /** Largest ceiling, ms (default 5 min). */
  readonly capMs?: number;
  readonly random?: RandomSource;
}

export const DEFAULT_BACKOFF_BASE_MS = 1000;
export const DEFAULT_BACKOFF_CAP_MS = 5 * 60 * 1000;

export class Backoff {
  private failures = 0;
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: RandomSource;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.capMs = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
    this.random = options.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) throw new Error('Backoff needs 0 < baseMs <= capMs');
  }

  /** Consecutive failures so far. */
  get failureCount(): number {
    return this.failures;
  }

  /** The ceiling for the next delay after `failures` consecutive failures. */
  ceilingMs(failures: number): number {
    // Stop doubling once past the cap so 2^n never overflows to Infinity.
    const exponent = Math.min(Math.max(failures - 1, 0), 40);
    return Math.min(this.capMs, this.baseMs * 2 ** exponent);
  }

  /** Record a failure and return how long to wait before the next attempt, ms. */
  nextDelayMs(): number {
    this.failures++;
    return Math.floor(this.random() * this.ceilingMs(this.failures));
  }

  /** Record a success: the next failure starts from the base again. */
  reset(): void {
    this.failures = 0;
  }
}

/** A small seeded PRNG (mulberry32) for reproducible jitter in tests and fault-injection runs. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
