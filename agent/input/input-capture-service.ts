/**
 * The input capture service: InputSource -> Aggregator -> timing_windows, then `windowFlushed`.
 *
 * Events are aggregated in memory; a window is written in one transaction when it is due (checked
 * on each keystroke, and by a one-shot timer armed by a window's first event for windowSeconds
 * later, so an idle agent is never woken by input capture) and on stop. Nothing is written per event. If the
 * source cannot start (no display), the service logs a warning and stays idle so the rest of the
 * agent runs on.
 *
 * A window the database cannot take (full or read-only disk, locked file) stays in memory and is
 * written, in order, with the next window or by a retry timer; `windowFlushed` follows the write,
 * so the detector scores each window once it is stored. The backlog is bounded: past
 * MAX_PENDING_WINDOWS the oldest unstored windows go first, with one warn line saying how many.
 *
 * An optional AttributionSource (agent/input/attribution/) runs beside the hook and adds counts of
 * injected and device input to each window. It is optional everywhere: when it cannot start, or
 * its helper dies later, one line is logged and timing capture carries on without it.
 */
import type { CaptureStatus } from '../../common/ipc-contract';
import type { TimingWindow } from '../../common/timing';
import type { AgentContext, AgentService } from '../context';
import { storageHealth, type StorageHealth } from '../store/storage-health';
import { insertTimingWindows } from '../store/timing-windows';
import { Aggregator } from './aggregator';
import { LoopStallProbe } from './loop-stall-probe';
import type { InputEvent, InputSource } from './input-source';
import type { AttributionSource } from './attribution/attribution-source';

/** When the due-timer fires a little early (timer slack), check again this much later (ms). */
const RECHECK_MS = 250;
/** How often unstored windows are retried while the disk refuses them (ms). */
export const STORE_RETRY_MS = 15_000;
/** Unstored windows kept in memory at most: a day of default 30 s windows. */
export const MAX_PENDING_WINDOWS = 2880;
/** How often the open window's features so far are offered to the detector (`windowProgress`), ms. */
export const PROGRESS_MS = 5000;

export class InputCaptureService implements AgentService {
  readonly name = 'input-capture';
  private readonly aggregator: Aggregator;
  private timer: NodeJS.Timeout | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  /** Event-loop stalls while a window is open (off while idle, so an idle agent is never woken). */
  private readonly loopProbe = new LoopStallProbe();
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly health: StorageHealth;
  /** Windows taken but not yet stored (the disk refused them), oldest first. */
  private readonly unstored: TimingWindow[] = [];
  private capturing = false;
  private unavailable: string | null = null;
  /** Events accepted since start (a count only). */
  eventCount = 0;

  private attributing = false;

  constructor(
    private readonly ctx: AgentContext,
    private readonly source: InputSource,
    private readonly attribution: AttributionSource | null = null,
  ) {
    this.aggregator = new Aggregator(ctx.policy.intervals, { resolutionMs: source.clockResolutionMs ?? 1 });
    this.health = storageHealth(ctx);
  }

  /** Windows waiting in memory for the disk to take them. */
  get unstoredCount(): number {
    return this.unstored.length;
  }

  /** Running, or unavailable with the reason the source gave, for the start line and the view. */
  status(): CaptureStatus {
    if (this.capturing) return { state: 'running', detail: `Capturing input timing (${this.source.name}).` };
    if (this.unavailable !== null) return { state: 'unavailable', detail: this.unavailable };
    return { state: 'off', detail: 'Input timing capture has not started.' };
  }

  /** Whether the source started and events are flowing in. */
  get isCapturing(): boolean {
    return this.capturing;
  }

  async start(): Promise<void> {
    const started = await this.source.start((event, deliveryDelayMs) => this.onEvent(event, deliveryDelayMs));
    if (!started.ok) {
      this.unavailable = `${started.error.message}.`.replace(/\.\.$/, '.');
      this.ctx.logger.log('warn', 'Input timing capture is unavailable; the agent runs without it', {
        source: this.source.name,
        code: started.error.code,
        reason: started.error.message,
      });
      return;
    }
    this.capturing = true;
    this.unavailable = null;
    this.ctx.logger.log('info', 'Input timing capture started', { source: this.source.name });
    await this.startAttribution();
  }

  /** Whether injected-input attribution is running beside the hook. */
  get isAttributing(): boolean {
    return this.attributing;
  }

  private async startAttribution(): Promise<void> {
    const source = this.attribution;
    if (source === null) return;
    const started = await source.start(
      (counts) => this.aggregator.acceptAttribution(counts),
      (reason) => {
        this.attributing = false;
        this.aggregator.attributionRunning = false;
        this.ctx.logger.log('warn', 'Input attribution stopped; timing capture carries on without it', { source: source.name, reason });
      },
    );
    if (!started.ok) {
      this.ctx.logger.log('warn', 'Input attribution is unavailable; the agent runs without it', { source: source.name, reason: started.error.message });
      return;
    }
    this.attributing = true;
    this.aggregator.attributionRunning = true;
    this.ctx.logger.log('info', 'Input attribution started', { source: source.name });
  }

  /** Stop the source and store the open window while the timing detector still listens. */
  drain(): void {
    this.disarm();
    if (this.capturing) this.source.stop();
    this.capturing = false;
    this.flush();
    if (this.attributing) this.attribution?.stop();
    this.attributing = false;
    this.aggregator.attributionRunning = false;
  }

  async stop(): Promise<void> {
    this.drain();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.unstored.length > 0) {
      this.ctx.logger.log('warn', 'Stopping with timing windows the disk would not take; they are not kept', { windows: this.unstored.length });
    }
  }

  /** Write the open window now if it is due. Returns the stored row id, or null. */
  flushIfDue(): number | null {
    return this.aggregator.isDue(this.ctx.clock.now()) ? this.flush() : null;
  }

  /**
   * Write the open window now, if it has any events, after any the disk refused before. Returns
   * its row id, or null (no window, or the disk refused it and it waits in memory).
   */
  flush(): number | null {
    this.disarm();
    this.noteLoopDelay();
    this.loopProbe.stop();
    const window = this.aggregator.take();
    if (window === null) {
      this.storeUnstored();
      return null;
    }
    this.unstored.push(window);
    if (this.unstored.length > MAX_PENDING_WINDOWS) {
      const dropped = this.unstored.splice(0, this.unstored.length - MAX_PENDING_WINDOWS).length;
      // Counts only: a window's features never go to the log.
      this.ctx.logger.log(
        'warn',
        `Dropped ${dropped} timing window${dropped === 1 ? '' : 's'}: the disk has refused them and the backlog of ${MAX_PENDING_WINDOWS} unstored windows is full`,
        { windows: dropped, reason: 'backlog-full', backlog: MAX_PENDING_WINDOWS },
      );
    }
    return this.storeUnstored();
  }

  private onEvent(event: InputEvent, deliveryDelayMs = 0): void {
    this.eventCount++;
    const now = this.ctx.clock.now();
    this.aggregator.accept(event, now, deliveryDelayMs);
    // A window's first event arms its time limit; later events only pay this null check.
    if (this.timer === null) {
      this.arm(this.ctx.policy.intervals.windowSeconds * 1000);
      this.armProgress();
      this.loopProbe.start();
    } else {
      // While input flows the events are the probe's witness: a stall shows as their delivery delay.
      this.loopProbe.touch(deliveryDelayMs);
    }
    // Only a completed keystroke can trip the keystroke limit; time limits are the timer's job.
    if (event.kind === 'keystroke' && this.aggregator.isDue(now)) this.flush();
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.flushIfDue() === null && !this.aggregator.isEmpty) this.arm(RECHECK_MS);
    }, delayMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
  }

  /** Offer the open window so far to the detector every PROGRESS_MS while it stays open. */
  private armProgress(): void {
    if (this.progressTimer !== null) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = null;
      this.noteLoopDelay();
      const window = this.aggregator.peek();
      if (window === null) return;
      this.ctx.events.emit('windowProgress', { window });
      this.armProgress();
    }, PROGRESS_MS);
    this.progressTimer.unref();
  }

  /** Hand the longest event-loop stall since the last look to the aggregator. */
  private noteLoopDelay(): void {
    const longest = this.loopProbe.take();
    if (longest !== null) this.aggregator.noteLoopDelay(longest);
  }

  /** Store every waiting window in one transaction; returns the last one's id, or null if refused. */
  private storeUnstored(): number | null {
    if (this.unstored.length === 0) return null;
    const windows = this.unstored.splice(0);
    const stored = this.health.write('storing timing windows', () => insertTimingWindows(this.ctx.db, windows));
    if (!stored.ok) {
      this.unstored.unshift(...windows);
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = null;
        this.storeUnstored();
      }, STORE_RETRY_MS);
      this.retryTimer.unref();
      return null;
    }
    windows.forEach((window, index) => this.ctx.events.emit('windowFlushed', { id: stored.value[index]!, window }));
    return stored.value[stored.value.length - 1] ?? null;
  }
}
