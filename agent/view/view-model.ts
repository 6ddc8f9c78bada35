/**
 * The transparency view-model: answers every bridge call from the agent's store, and turns the
 * agent's events into the bridge's push events.
 *
 * It is the single implementation of `BridgeHandlers`, used behind both transports (the Electron
 * agent host over a MessagePort, and the headless loopback HTTP server). It only reads the database,
 * except `syncNow`, which asks the sync service through an injected callback.
 */
import { LOCATION_SIGNALS_IN_WORDS } from '../../common/location';
import type { AuditView, EventChannel, EventOf, BridgeHandlers, Baseline, CaptureStatus, DeviceState, FindingsView, LocalExport, PolicyView, ReportEntry, ReportingState, ReportsView, Status, TimingEntry, TimingView, TopLine } from '../../common/ipc-contract';
import { NEVER_COLLECTED } from '../../common/ipc-contract';
import type { Finding } from '../../common/findings';
import { assertNever, fail, ok, type Result } from '../../common/result';
import type { AgentContext } from '../context';
import { listAllFindings, listOpenFindings, listRecentlyClosedFindings } from '../store/findings';
import { getDeviceId } from '../identity/enrollment';
import { loadBaseline } from '../store/baseline';
import { FEATURES, rawValue } from '../timing-detector/features';
import { countTimingWindows, listLatestTimingWindows, listTimingWindows } from '../store/timing-windows';
import { readOutboxReports, type ReportReader } from './report-reader';
import { countAuditEntries, listAllAuditEntries, listLatestAuditEntries } from '../store/audit-entries';
import { getValue } from '../store/kv';
import { AUDIT_COLLECTOR_KEY } from '../audit/audit-fetch-service';
import { rankConcerning, topLineOf } from './top-line';

/** How many recent windows the running-median baseline looks at. */
const BASELINE_WINDOWS = 200;
const DEFAULT_TIMING_LIMIT = 60;
const DEFAULT_REPORT_LIMIT = 50;
const CLOSED_FINDINGS_SHOWN = 20;
const DEFAULT_AUDIT_LIMIT = 200;
/** Audit entries the top line looks through for IT's latest response and read. */
const TOP_LINE_AUDIT_ENTRIES = 200;

export type ViewEventListener = <K extends EventChannel>(channel: K, payload: EventOf<K>) => void;

/**
 * A learned per-device baseline, when the timing detector has one. Given the running-median
 * baseline of the stored windows, returns the baseline to show (or null: show the running median).
 */
export interface BaselineSource {
  current(runningMedian: Baseline): Baseline | null;
}

export interface ViewModelOptions {
  readonly mode: 'electron' | 'headless';
  /** Asks the sync service to send now; absent when sync is not running. */
  readonly syncNow?: () => Promise<Result<{ started: boolean; detail: string }>>;
  /** The timing detector's baseline; absent until it exists, then the running median is used. */
  readonly baseline?: BaselineSource;
  /** Input capture's state; absent when this agent has no input capture. */
  readonly capture?: () => CaptureStatus;
  /** Reads outbox rows with their local checks; defaults to the outbox table reader. */
  readonly reports?: ReportReader;
}

type SyncState = Status['sync'];

export class ViewModel implements BridgeHandlers {
  private readonly listeners = new Set<ViewEventListener>();
  private readonly unsubscribes: Array<() => void> = [];
  private readonly startedAt: number;
  private sync: SyncState;
  private lastState: DeviceState | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly options: ViewModelOptions,
  ) {
    this.startedAt = ctx.clock.now();
    this.sync =
      ctx.policy.collectorUrl === null
        ? { state: 'disabled', detail: 'No collector is configured, so reports stay on this device.' }
        : { state: 'unknown', detail: 'Not tried yet since start.' };
    const events = ctx.events;
    this.unsubscribes.push(
      events.on('windowFlushed', ({ id, window }) => this.emit('windowFlushed', { id, window })),
      events.on('findingsChanged', () => {
        // One read of the open findings for both pushes (any scan or decision that moved a finding lands here).
        const open = listOpenFindings(this.ctx.db);
        this.emit('findingsChanged', { open: open.length });
        this.emitStatusIfChanged(true, open);
      }),
      events.on('reportQueued', ({ seq }) => this.emit('reportsChanged', { seq, change: 'queued' })),
      events.on('reportDelivered', ({ seq }) => this.emit('reportsChanged', { seq, change: 'delivered' })),
      events.on('auditChanged', ({ added, newestSeq }) => this.emit('auditChanged', { added, newestSeq })),
      events.on('syncStateChanged', ({ state, detail }) => {
        this.sync = { state, detail };
        this.emitStatusIfChanged(true);
      }),
    );
  }

  /** Listen to push events; returns the unsubscribe function. */
  subscribe(listener: ViewEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stop listening to the agent. */
  dispose(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.listeners.clear();
  }

  /** The device state and its plain-language summary (also drives the tray). */
  status(): Status {
    return this.statusOf(listOpenFindings(this.ctx.db));
  }

  private statusOf(open: readonly Finding[]): Status {
    const concerning = rankConcerning(open);
    const state: DeviceState = concerning.length > 0 ? 'attention' : this.sync.state === 'offline' ? 'offline' : 'ok';
    return { state, summary: summaryOf(state, concerning, open.length, this.reporting()), sync: { ...this.sync }, openFindings: open.length };
  }

  /** The plain-words top line (flagged? why, what to do, what IT did). */
  topLine(): TopLine {
    return topLineOf({
      open: listOpenFindings(this.ctx.db),
      policy: this.ctx.policy,
      reporting: this.reporting(),
      audit: listLatestAuditEntries(this.ctx.db, TOP_LINE_AUDIT_ENTRIES),
    });
  }

  getOverview(): Result<{
    status: Status;
    topLine: TopLine;
    agentVersion: string;
    deviceId: string | null;
    mode: 'electron' | 'headless';
    startedAt: number;
    now: number;
  }> {
    return ok({
      status: this.status(),
      topLine: this.topLine(),
      agentVersion: this.ctx.agentVersion,
      deviceId: this.deviceId(),
      mode: this.options.mode,
      startedAt: this.startedAt,
      now: this.ctx.clock.now(),
    });
  }

  getTiming(request: { limit?: number }): Result<TimingView> {
    const db = this.ctx.db;
    const stored = countTimingWindows(db);
    const limit = request.limit ?? DEFAULT_TIMING_LIMIT;
    const windows = listLatestTimingWindows(db, limit);
    const baseline = this.baselineView();
    const capture = this.options.capture?.() ?? { state: 'off', detail: 'Input timing capture is turned off in this agent.' };
    return ok({ windows, baseline, storedWindows: stored, windowSeconds: this.ctx.policy.intervals.windowSeconds, capture });
  }

  getFindings(): Result<FindingsView> {
    const db = this.ctx.db;
    return ok({ open: listOpenFindings(db), closed: listRecentlyClosedFindings(db, CLOSED_FINDINGS_SHOWN) });
  }

  getReports(request: { limit?: number }): Result<ReportsView> {
    const reader = this.options.reports ?? readOutboxReports;
    return ok(reader(this.ctx, request.limit ?? DEFAULT_REPORT_LIMIT));
  }

  getPolicy(): Result<PolicyView> {
    return ok(policyView(this.ctx));
  }

  getAudit(request: { limit?: number }): Result<AuditView> {
    const db = this.ctx.db;
    return ok({
      entries: listLatestAuditEntries(db, request.limit ?? DEFAULT_AUDIT_LIMIT),
      total: countAuditEntries(db),
      reporting: this.reporting(),
      verified: getValue<string>(db, AUDIT_COLLECTOR_KEY) !== undefined,
    });
  }

  exportData(): Result<LocalExport> {
    const db = this.ctx.db;
    const findings = listAllFindings(db);
    const timingWindows: TimingEntry[] = [];
    for (let afterId = 0; ; ) {
      const page = listTimingWindows(db, { afterId, limit: 1000 });
      if (page.length === 0) break;
      timingWindows.push(...page);
      afterId = page[page.length - 1]!.id;
    }
    const reader = this.options.reports ?? readOutboxReports;
    const reports: ReportEntry[] = reader(this.ctx, Number.MAX_SAFE_INTEGER).reports;
    return ok({
      format: 'telltale-local-export-v1',
      exportedAt: this.ctx.clock.now(),
      agentVersion: this.ctx.agentVersion,
      deviceId: this.deviceId(),
      notice: `Everything Telltale keeps about you on this device. It never collects: ${NEVER_COLLECTED.join('; ')}.`,
      policy: policyView(this.ctx),
      timingWindows,
      findings,
      reports,
      auditEntries: listAllAuditEntries(db),
      baseline: this.baselineView(),
      agentState: agentState(db),
    });
  }

  async syncNow(): Promise<Result<{ started: boolean; detail: string }>> {
    if (this.ctx.policy.collectorUrl === null) return ok({ started: false, detail: 'No collector is configured.' });
    if (!this.options.syncNow) return fail('SYNC_DISABLED', 'Sync is not running in this agent.');
    return this.options.syncNow();
  }

  private baselineView(): Baseline {
    const running = runningMedianBaseline(listLatestTimingWindows(this.ctx.db, BASELINE_WINDOWS));
    const source = this.options.baseline ?? deviceBaselineSource(this.ctx);
    return source.current(running) ?? running;
  }

  private reporting(): ReportingState {
    if (this.ctx.policy.collectorUrl === null) return 'no-collector';
    return this.deviceId() === null ? 'not-enrolled' : 'enrolled';
  }

  private deviceId(): string | null {
    return getDeviceId(this.ctx.db) ?? null;
  }

  private emit<K extends EventChannel>(channel: K, payload: EventOf<K>): void {
    for (const listener of this.listeners) listener(channel, payload);
  }

  private emitStatusIfChanged(force: boolean, open?: readonly Finding[]): void {
    const status = open === undefined ? this.status() : this.statusOf(open);
    if (!force && status.state === this.lastState) return;
    this.lastState = status.state;
    this.emit('statusChanged', status);
  }
}

/** Every kv value, parsed: the agent's own state, for the export. */
function agentState(db: AgentContext['db']): Record<string, unknown> {
  const rows = db.prepare('SELECT key, value FROM kv ORDER BY key').all() as { key: string; value: string }[];
  return Object.fromEntries(rows.map((row) => [row.key, JSON.parse(row.value) as unknown]));
}

/** Whether IT gets to see a finding, said plainly: never promise a report that will not be sent. */
function reportingSentence(reporting: ReportingState): string {
  switch (reporting) {
    case 'enrolled':
      return 'IT sees this in the reports from this laptop.';
    case 'not-enrolled':
      return 'This laptop is not connected to IT yet, so this has not been reported.';
    case 'no-collector':
      return 'No IT server is configured, so this stays on this laptop.';
    default:
      return assertNever(reporting, 'reporting state');
  }
}

function summaryOf(state: DeviceState, concerning: readonly Finding[], open: number, reporting: ReportingState): string {
  switch (state) {
    case 'attention': {
      const first = concerning[0]!;
      const more = concerning.length > 1 ? ` (and ${concerning.length - 1} more)` : '';
      return `${first.title.replace(/\.$/, '')}${more}. ${reportingSentence(reporting)}`;
    }
    case 'offline':
      return 'Working normally, but reports cannot reach IT right now. They are kept here and sent later.';
    case 'ok':
      return open === 0
        ? 'All normal: nothing suggests anyone else is controlling this laptop.'
        : `Nothing suggests anyone else is controlling this laptop. ${open === 1 ? 'One minor finding is' : `${open} minor findings are`} listed below and reported to IT.`;
    default:
      return assertNever(state, 'device state');
  }
}

function policyView(ctx: AgentContext): PolicyView {
  const policy = ctx.policy;
  // The enrollment secret is deliberately left out: the view shows policy, not credentials.
  return {
    collectorUrl: policy.collectorUrl,
    approvedTools: policy.approvedTools.map((tool) => ({
      label: tool.catalogId ?? tool.path ?? tool.signer ?? 'unnamed tool',
      note: tool.note ?? null,
    })),
    allowQuit: policy.allowQuit,
    intervals: { ...policy.intervals },
    retention: { ...policy.retention },
    support: { ...policy.support },
    location: { enabled: policy.location.fleetKey !== null, signals: LOCATION_SIGNALS_IN_WORDS.map((words) => ({ ...words })) },
  };
}

/** The timing detector's stored per-device baseline (agent/store/baseline.ts), when there is one. */
export function deviceBaselineSource(ctx: AgentContext): BaselineSource {
  return {
    current(running) {
      const device = loadBaseline(ctx.db);
      if (device === undefined) return null;
      const learned = FEATURES.map((spec) => {
        const windows = spec.modality === 'keys' ? device.windows.keys : device.windows.mouse;
        return {
          id: spec.id,
          label: spec.label,
          unit: spec.unit,
          usual: round2(spec.unit === '%' ? rawValue(spec, device.features[spec.id].center) * 100 : rawValue(spec, device.features[spec.id].center)),
          origin: windows > 0 ? ('learned' as const) : ('prior' as const),
          windows,
        };
      });
      const moveRate = FEATURES.find((spec) => spec.id === 'moveRate');
      return {
        ...running,
        source: 'device-baseline',
        windows: device.windows.keys + device.windows.mouse,
        moveRateHz: moveRate ? round2(rawValue(moveRate, device.features.moveRate.center)) : running.moveRateHz,
        moveRateOrigin: moveRate ? (device.windows.mouse > 0 ? 'learned' : 'prior') : running.moveRateOrigin,
        learned,
      };
    },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Median of per-window medians over the stored windows: the fallback baseline. */
export function runningMedianBaseline(entries: readonly TimingEntry[]): Baseline {
  const dwell = entries.flatMap(({ window }) => (window.keys.dwell ? [window.keys.dwell.median] : []));
  const flight = entries.flatMap(({ window }) => (window.keys.flight ? [window.keys.flight.median] : []));
  const moves = entries.flatMap(({ window }) => (window.mouse.moves > 0 ? [window.mouse.moveRateHz] : []));
  if (entries.length === 0) return { source: 'none', windows: 0, dwellMedianMs: null, flightMedianMs: null, moveRateHz: null, moveRateOrigin: 'none', learned: [] };
  const moveRateHz = median(moves);
  return {
    source: 'running-median',
    windows: entries.length,
    dwellMedianMs: median(dwell),
    flightMedianMs: median(flight),
    moveRateHz,
    moveRateOrigin: moveRateHz === null ? 'none' : 'stored-windows',
    learned: [],
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
