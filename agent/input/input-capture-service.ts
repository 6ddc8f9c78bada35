/**
 * The input capture service: InputSource -> Aggregator -> timing_windows, then `windowFlushed`.
 *
 * Events are aggregated in memory; a window is written in one transaction when it is due (checked
 * on each keystroke, and by a one-shot timer armed by a window's first event for windowSeconds
 * later, so an idle agent is never woken by input capture) and on stop. Nothing is written per event. If the
 * source cannot start (no display), the service logs a warning and stays idle so the rest of the
 * agent runs on.
 */
import type { CaptureStatus } from '../../common/ipc-contract';
import type { TimingWindow } from '../../common/timing';
import type { AgentContext, AgentService } from '../context';
import { insertTimingWindows } from '../store/timing-windows';
import { Aggregator } from './aggregator';
import type { InputEvent, InputSource } from './input-source';

/** When the due-timer fires a little early (timer slack), check again this much later (ms). */
const RECHECK_MS = 250;

export class InputCaptureService implements AgentService {
  readonly name = 'input-capture';
  private readonly aggregator: Aggregator;
  private timer: NodeJS.Timeout | null = null;
  private capturing = false;
  private unavailable: string | null = null;
  /** Events accepted since start (a count only). */
  eventCount = 0;

  constructor(
    private readonly ctx: AgentContext,
    private readonly source: InputSource,
  ) {
    this.aggregator = new Aggregator(ctx.policy.intervals);
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
    const started = await this.source.start((event) => this.onEvent(event));
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
  }

  async stop(): Promise<void> {
    this.disarm();
    if (this.capturing) this.source.stop();
    this.capturing = false;
    this.flush();
  }

  /** Write the open window now if it is due. Returns the stored row id, or null. */
  flushIfDue(): number | null {
    return this.aggregator.isDue(this.ctx.clock.now()) ? this.flush() : null;
  }

  /** Write the open window now, if it has any events. Returns the stored row id, or null. */
  flush(): number | null {
    this.disarm();
    const window = this.aggregator.take();
    if (window === null) return null;
    return this.store(window);
  }

  private onEvent(event: InputEvent): void {
    this.eventCount++;
    const now = this.ctx.clock.now();
    this.aggregator.accept(event, now);
    // A window's first event arms its time limit; later events only pay this null check.
    if (this.timer === null) this.arm(this.ctx.policy.intervals.windowSeconds * 1000);
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
  }

  private store(window: TimingWindow): number {
    const [id] = insertTimingWindows(this.ctx.db, [window]);
    this.ctx.events.emit('windowFlushed', { id: id!, window });
    return id!;
  }
}
