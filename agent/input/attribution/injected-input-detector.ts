/**
 * InjectedInputDetector: opens an `injected-input` finding when input on this computer is being
 * produced by a program rather than a keyboard or mouse, from the attribution counts each stored
 * timing window carries (agent/input/attribution/).
 *
 * Windows are pooled over the last POOL_MS of wall time, per modality (keys; pointer = motion,
 * wheel and clicks). A modality is injected when the pool holds at least MIN_INJECTED of its
 * events from a program and they are the majority (DOMINANT_SHARE): a person's own typing with an
 * occasional automation burst stays clear, a remote controller typing for the person does not.
 * A finding closes after HOLD_MS without an injected pool. This evidence is independent of network
 * jitter, so it catches relays that timing cannot.
 *
 * Policy (`injectedInput`): while a program listed in `allowedPrograms` runs (on-screen keyboards,
 * dictation, other accessibility software) injected input opens no finding; with
 * `approvedToolsMayInject`, neither does injected input while an approved remote tool runs and no
 * unapproved remote tool or session is open. Each excuse is logged when it starts to apply.
 */
import type { FindingObservation, FindingKind } from '../../../common/findings';
import type { TimingWindow } from '../../../common/timing';
import type { AgentContext, AgentService } from '../../context';
import { baseName, type ProcessInfo } from '../../detect/processes/process-info';
import { listOpenFindings, reconcileFindings } from '../../store/findings';
import { storageHealth } from '../../store/storage-health';

/** The findings source (key prefix). */
export const INJECTED_SOURCE = 'injected';
/** Windows ending this long before the latest one are out of the pool (ms). */
export const POOL_MS = 60_000;
/** Fewest injected events of a modality in the pool before it can count as injected. */
export const MIN_INJECTED: Readonly<Record<InjectedModality, number>> = { keys: 8, pointer: 40 };
/** Share of a modality's attributed events that must be injected. */
export const DOMINANT_SHARE = 0.5;
/** An open finding closes after this much wall time without an injected pool (ms). */
export const HOLD_MS = 5 * 60_000;

export type InjectedModality = 'keys' | 'pointer';

/** Attributed counts of one modality over the pool. */
export interface ModalityAttribution {
  readonly modality: InjectedModality;
  readonly injected: number;
  readonly device: number;
}

/** Whether a window carries attribution counts at all (attribution ran while it was open). */
export function hasAttribution(window: TimingWindow): boolean {
  return window.keys.injectedKeyPresses !== undefined || window.mouse.injectedPointerEvents !== undefined;
}

/** Sum the attribution counts of `windows` per modality. */
export function poolAttribution(windows: readonly TimingWindow[]): Record<InjectedModality, ModalityAttribution> {
  let injectedKeys = 0;
  let deviceKeys = 0;
  let injectedPointer = 0;
  let devicePointer = 0;
  for (const { keys, mouse } of windows) {
    injectedKeys += keys.injectedKeyPresses ?? 0;
    deviceKeys += keys.deviceKeyPresses ?? 0;
    injectedPointer += (mouse.injectedPointerEvents ?? 0) + (mouse.injectedClicks ?? 0);
    devicePointer += (mouse.devicePointerEvents ?? 0) + (mouse.deviceClicks ?? 0);
  }
  return {
    keys: { modality: 'keys', injected: injectedKeys, device: deviceKeys },
    pointer: { modality: 'pointer', injected: injectedPointer, device: devicePointer },
  };
}

/** Whether injected input dominates a modality's pool. */
export function isInjected(counts: ModalityAttribution): boolean {
  const total = counts.injected + counts.device;
  return counts.injected >= MIN_INJECTED[counts.modality] && counts.injected / total > DOMINANT_SHARE;
}

/**
 * Whether `name` is one of `allowed`: compared case-insensitively by base name, with or without
 * a trailing ".exe", so "osk.exe" matches "OSK.EXE" and "onboard" matches "/usr/bin/onboard".
 */
export function matchesAllowedProgram(process: ProcessInfo, allowed: readonly string[]): string | null {
  const normalize = (value: string): string => baseName(value).toLowerCase().replace(/\.exe$/, '');
  const wanted = new Set(allowed.map(normalize));
  for (const name of [process.name, process.exe, process.argv0, process.script]) {
    if (name !== null && wanted.has(normalize(name))) return normalize(name);
  }
  return null;
}

/** Open finding kinds that mean an unapproved remote tool is present. */
const UNAPPROVED_CHANNEL: ReadonlySet<FindingKind> = new Set(['remote-tool-running', 'remote-tool-listening', 'remote-session-active']);

/** The finding for an injected modality. */
export function injectedObservation(counts: ModalityAttribution, spanMs: number): FindingObservation {
  const total = counts.injected + counts.device;
  const seconds = Math.max(1, Math.round(spanMs / 1000));
  const keys = counts.modality === 'keys';
  return {
    key: `${INJECTED_SOURCE}:input:${counts.modality}`,
    kind: 'injected-input',
    severity: keys ? 'high' : 'medium',
    title: keys ? 'Keyboard input on this computer is being typed by a program, not a keyboard' : 'The pointer on this computer is being moved by a program, not a mouse',
    explanation: `${counts.injected} of the last ${total} ${keys ? 'key presses' : 'pointer events'} (over ${seconds} s) came from software injecting input, not from a ${keys ? 'keyboard' : 'mouse or touchpad'}. Remote-control tools ${keys ? 'type' : 'move the pointer'} this way; so do automation tools and some accessibility software.`,
    evidence: { modality: counts.modality, injected: counts.injected, device: counts.device, share: Math.round((counts.injected / total) * 1000) / 1000, spanSeconds: seconds },
  };
}

interface OpenInjection {
  readonly lastInjectedAt: number;
  readonly observation: FindingObservation;
}

export class InjectedInputDetector implements AgentService {
  readonly name = 'injected-input-detector';
  private readonly pool: TimingWindow[] = [];
  private readonly open = new Map<InjectedModality, OpenInjection>();
  private unsubscribe: (() => void) | null = null;
  private queue: Promise<void> = Promise.resolve();
  private holdTimer: NodeJS.Timeout | null = null;
  private lastExcuse: string | null = null;

  /** @param listProcesses the process lister (only called when `allowedPrograms` is set and input is injected). */
  constructor(
    private readonly ctx: AgentContext,
    private readonly listProcesses: () => Promise<ProcessInfo[]>,
  ) {}

  start(): void {
    this.unsubscribe = this.ctx.events.on('windowFlushed', ({ window }) => {
      if (!hasAttribution(window)) return;
      this.queue = this.queue.then(() => this.onWindow(window)).catch((error: unknown) => {
        this.ctx.logger.log('error', 'Judging injected input failed', { reason: error instanceof Error ? error.message : String(error) });
      });
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    await this.queue;
  }

  /** Wait for every window handed over so far to be judged (tests and shutdown). */
  settled(): Promise<void> {
    return this.queue;
  }

  private async onWindow(window: TimingWindow): Promise<void> {
    this.pool.push(window);
    while (this.pool.length > 0 && window.endedAt - this.pool[0]!.endedAt > POOL_MS) this.pool.shift();
    const counts = poolAttribution(this.pool);
    const injected = [counts.keys, counts.pointer].filter(isInjected);
    const excuse = injected.length > 0 ? await this.excuse() : null;
    if (excuse !== this.lastExcuse && excuse !== null) this.ctx.logger.log('info', 'Injected input is allowed by policy', { reason: excuse });
    this.lastExcuse = excuse;
    const now = this.ctx.clock.now();
    const spanMs = window.endedAt - this.pool[0]!.startedAt;
    for (const modality of injected) {
      if (excuse === null) this.open.set(modality.modality, { lastInjectedAt: now, observation: injectedObservation(modality, spanMs) });
      else this.open.delete(modality.modality);
    }
    this.reconcile(now);
  }

  /** Why injected input is expected right now, or null. */
  private async excuse(): Promise<string | null> {
    const policy = this.ctx.policy.injectedInput;
    if (policy.allowedPrograms.length > 0) {
      for (const process of await this.listProcesses()) {
        const match = matchesAllowedProgram(process, policy.allowedPrograms);
        if (match !== null) return `allowed program ${match} is running`;
      }
    }
    if (policy.approvedToolsMayInject) {
      const findings = listOpenFindings(this.ctx.db);
      if (findings.some((finding) => finding.kind === 'approved-tool') && !findings.some((finding) => UNAPPROVED_CHANNEL.has(finding.kind))) {
        return 'an approved remote tool is running';
      }
    }
    return null;
  }

  /** Drop expired findings, store the open set, and arm the timer that closes the rest. */
  private reconcile(now: number): void {
    for (const [modality, open] of this.open) if (now - open.lastInjectedAt >= HOLD_MS) this.open.delete(modality);
    storageHealth(this.ctx).write('storing injected-input findings', () =>
      reconcileFindings(this.ctx.db, INJECTED_SOURCE, [...this.open.values()].map((open) => open.observation), now, this.ctx.events),
    );
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.open.size === 0) return;
    const oldest = Math.min(...[...this.open.values()].map((open) => open.lastInjectedAt));
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      this.queue = this.queue.then(() => this.reconcile(this.ctx.clock.now()));
    }, Math.max(0, oldest + HOLD_MS - now) + 10);
    this.holdTimer.unref();
  }
}
