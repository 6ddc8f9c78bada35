/**
 * The CPU watchdog: keeps the agent under its CPU budget (10% of one core, sustained over 12 s).
 *
 * Every 3 seconds it samples the process's own CPU time (`process.cpuUsage()`: every thread, the
 * input hook's native thread included) and keeps a sliding window of samples. When the CPU used
 * over a full window exceeds the limit, it logs a warning and throttles every non-essential
 * service it was given (scans, reports, the view): input capture is never throttled, since the
 * timing features are the point of the agent and its hot path is O(1) per event. Throttled
 * services are resumed once a whole window stays under the resume level (a lower threshold, so the
 * agent does not flap at the boundary), and that is logged too.
 *
 * OS seams (CPU source, monotonic clock) are constructor options so unit tests drive `sample()`
 * with fake readings; the service's own timer is unref'd and costs one cpuUsage() call every 3 s.
 */
import type { AgentContext, AgentService } from './context';

/** A service that can shed work while the agent is over budget. */
export interface Throttleable {
  readonly name: string;
  /** Reduce or pause non-essential work (e.g. stretch a scan interval). Idempotent. */
  throttle(): void;
  /** Return to normal. Idempotent. */
  resume(): void;
}

export interface WatchdogOptions {
  /** Services to throttle while over budget, in order. */
  readonly throttleables?: readonly Throttleable[];
  /** Budget as a fraction of one core (default 0.10). */
  readonly limit?: number;
  /** Resume when a full window is at or under this fraction (default limit / 2). */
  readonly resumeBelow?: number;
  /** Sliding window length, ms (default 12 000). */
  readonly windowMs?: number;
  /** Sampling period, ms (default 3000: four samples per 12 s window, and few idle wake-ups). */
  readonly sampleMs?: number;
  /** CPU time used by this process so far, µs (default process.cpuUsage user + system). */
  readonly cpuMicros?: () => number;
  /** Monotonic clock, ms (default performance.now()). */
  readonly monotonicMs?: () => number;
}

/** What the watchdog last measured, for the transparency view and tests. */
export interface WatchdogStatus {
  /** CPU over the current window as a fraction of one core, or null before a full window. */
  readonly usage: number | null;
  readonly throttled: boolean;
  /** How many times the budget was exceeded since start. */
  readonly overBudgetCount: number;
}

interface Sample {
  readonly atMs: number;
  readonly cpuMicros: number;
}

export class CpuWatchdog implements AgentService {
  readonly name = 'watchdog';
  private readonly limit: number;
  private readonly resumeBelow: number;
  private readonly windowMs: number;
  private readonly sampleMs: number;
  private readonly cpuMicros: () => number;
  private readonly monotonicMs: () => number;
  private samples: Sample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private throttled = false;
  private overBudgetCount = 0;
  private lastUsage: number | null = null;

  constructor(
    private readonly ctx: Pick<AgentContext, 'logger'>,
    private readonly options: WatchdogOptions = {},
  ) {
    this.limit = options.limit ?? 0.1;
    this.resumeBelow = options.resumeBelow ?? this.limit / 2;
    this.windowMs = options.windowMs ?? 12_000;
    this.sampleMs = options.sampleMs ?? 3000;
    if (!(this.limit > 0) || !(this.resumeBelow >= 0) || this.resumeBelow > this.limit) {
      throw new Error(`CpuWatchdog: need 0 <= resumeBelow (${this.resumeBelow}) <= limit (${this.limit}), limit > 0`);
    }
    this.cpuMicros =
      options.cpuMicros ??
      (() => {
        const usage = process.cpuUsage();
        return usage.user + usage.system;
      });
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
  }

  start(): void {
    this.samples = [];
    this.sample();
    this.timer = setInterval(() => this.sample(), this.sampleMs);
    // The watchdog must never be what keeps the agent alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Leave nothing throttled behind: a restarted agent starts at full service.
    if (this.throttled) this.setThrottled(false, this.lastUsage);
  }

  status(): WatchdogStatus {
    return { usage: this.lastUsage, throttled: this.throttled, overBudgetCount: this.overBudgetCount };
  }

  /**
   * Take one sample and act on the window. Called by the timer; tests call it directly.
   * Returns the usage over the window (fraction of one core), or null until a full window exists.
   */
  sample(): number | null {
    const now: Sample = { atMs: this.monotonicMs(), cpuMicros: this.cpuMicros() };
    this.samples.push(now);
    // Keep the newest sample that is at least a full window old as the window's start.
    while (this.samples.length > 2 && now.atMs - this.samples[1]!.atMs >= this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const spanMs = now.atMs - first.atMs;
    if (spanMs < this.windowMs) return null;
    const usage = (now.cpuMicros - first.cpuMicros) / 1000 / spanMs;
    this.lastUsage = usage;
    if (!this.throttled && usage > this.limit) {
      this.overBudgetCount++;
      this.setThrottled(true, usage);
    } else if (this.throttled && usage <= this.resumeBelow) {
      this.setThrottled(false, usage);
    }
    return usage;
  }

  private setThrottled(throttled: boolean, usage: number | null): void {
    this.throttled = throttled;
    const services = this.options.throttleables ?? [];
    for (const service of services) {
      try {
        if (throttled) service.throttle();
        else service.resume();
      } catch (error) {
        // One misbehaving service must not stop the others from shedding load.
        this.ctx.logger.log('error', 'Watchdog could not change a service', {
          service: service.name,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    const fields = {
      cpuPercent: usage === null ? null : Math.round(usage * 1000) / 10,
      limitPercent: Math.round(this.limit * 1000) / 10,
      windowSeconds: this.windowMs / 1000,
      services: services.map((service) => service.name).join(',') || 'none',
    };
    if (throttled) this.ctx.logger.log('warn', 'Agent CPU over budget; throttling non-essential services', fields);
    else this.ctx.logger.log('info', 'Agent CPU back under budget; services resumed', fields);
  }
}
