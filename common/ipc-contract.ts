/**
 * The bridge contract: every call the transparency view can make and every event it can hear.
 *
 * This one file is the source of truth for both transports: Electron IPC (main/ipc-main.ts handles,
 * preload/bridge.ts exposes `window.telltale`) and loopback HTTP in headless mode
 * (agent/headless/view-server.ts serves, renderer/http-transport.ts calls). Each request channel has
 * a TypeBox schema for its payload (validated at every receiving edge) and for its response (the
 * shape the view-model must produce; checked in tests). Responses travel as `Result<T>`.
 *
 * Privacy: nothing in these shapes can carry key identity, text or pointer coordinates. Timing is
 * the common/timing.ts feature set (times, counts, distances), findings are detector conclusions,
 * reports are the signed bodies already destined for IT.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AuditActionSchema, AuditEntrySchema } from './audit';
import { FindingSchema } from './findings';
import { ERROR_CODES, fail, ok, type Result } from './result';
import { TimingWindowSchema } from './timing';

// ---------------------------------------------------------------------------------------------
// Shared shapes

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const TimingEntrySchema = Type.Object({ id: Type.Integer(), window: TimingWindowSchema });
export type TimingEntry = Static<typeof TimingEntrySchema>;

/** ok: nothing needs attention; attention: an open finding of medium or high severity; offline: reports are not reaching IT. */
export const DeviceStateSchema = Type.Union([Type.Literal('ok'), Type.Literal('attention'), Type.Literal('offline')]);
export type DeviceState = Static<typeof DeviceStateSchema>;

export const SyncStateSchema = Type.Union([
  Type.Literal('ok'),
  Type.Literal('offline'),
  Type.Literal('disabled'),
  Type.Literal('unknown'),
]);

export const StatusSchema = Type.Object({
  state: DeviceStateSchema,
  /** One plain sentence for the tray tooltip and the view's header. */
  summary: Type.String(),
  sync: Type.Object({ state: SyncStateSchema, detail: Type.String() }),
  openFindings: Type.Integer(),
});
export type Status = Static<typeof StatusSchema>;

/** How this laptop's findings reach IT: the top line must not promise a report that will never be sent. */
export const ReportingStateSchema = Type.Union([
  /** Enrolled with a collector: reports are delivered (or queued until they can be). */
  Type.Literal('enrolled'),
  /** A collector is configured but the device has not enrolled yet. */
  Type.Literal('not-enrolled'),
  /** No collector in the policy: everything stays on this laptop. */
  Type.Literal('no-collector'),
]);
export type ReportingState = Static<typeof ReportingStateSchema>;

/**
 * The top of the view in plain words: am I flagged, why (one sentence), what to do, what IT did
 * about it, and whether IT sees any of this at all.
 */
export const TopLineSchema = Type.Object({
  flagged: Type.Boolean(),
  /** One short line: the most specific finding's title when flagged, "Nothing suggests..." otherwise. */
  headline: Type.String(),
  /** Why it matters, one sentence (common/plain-words.ts); null when not flagged. */
  why: Nullable(Type.String()),
  /** How many more concerning findings there are besides the one named. */
  alsoOpen: Type.Integer({ minimum: 0 }),
  /** What to do: the finding kind's advice, then the policy's `support.advice`; null when not flagged. */
  whatToDo: Nullable(Type.String()),
  /** The policy's `support.contact`. */
  contact: Nullable(Type.String()),
  /** IT's latest response on this laptop from the verified audit entries (acknowledged, resolved...). */
  itResponse: Nullable(Type.Object({ action: AuditActionSchema, words: Type.String(), actor: Type.String(), at: Type.Number(), detail: Type.String() })),
  /** When IT last looked at this laptop's data (from the audit entries), or null. */
  lastItRead: Nullable(Type.Number()),
  reporting: ReportingStateSchema,
});
export type TopLine = Static<typeof TopLineSchema>;

export const OverviewSchema = Type.Object({
  status: StatusSchema,
  topLine: TopLineSchema,
  agentVersion: Type.String(),
  deviceId: Nullable(Type.String()),
  /** Where the view is served from: the Electron window or the headless loopback server. */
  mode: Type.Union([Type.Literal('electron'), Type.Literal('headless')]),
  startedAt: Type.Number(),
  now: Type.Number(),
});

/** One feature of the timing detector's learned baseline, in display units. */
export const LearnedFeatureSchema = Type.Object({
  id: Type.String(),
  /** Plain-language name, e.g. "pointer updates per second". */
  label: Type.String(),
  unit: Type.String(),
  /** This device's usual value. */
  usual: Type.Number(),
  /**
   * learned: moved from the shipped population prior by windows from this laptop; prior: no window
   * of its kind (typing or pointer) has been absorbed yet, so it is still the value Telltale ships with.
   */
  origin: Type.Union([Type.Literal('learned'), Type.Literal('prior')]),
  /** Windows of this feature's kind (typing or pointer) absorbed on this laptop. */
  windows: Type.Integer({ minimum: 0 }),
});

export const BaselineSchema = Type.Object({
  /**
   * device-baseline: the timing detector's learned per-device baseline exists (pointer rate and
   * `learned` come from it); running-median: only the median of stored windows; none: no data yet.
   */
  source: Type.Union([Type.Literal('device-baseline'), Type.Literal('running-median'), Type.Literal('none')]),
  /** Windows the baseline was computed from (for the device baseline: windows it has absorbed). */
  windows: Type.Integer(),
  /** Median of the stored windows' median hold time (the detector does not learn this one). */
  dwellMedianMs: Nullable(Type.Number()),
  /** Median of the stored windows' median key-to-key gap. */
  flightMedianMs: Nullable(Type.Number()),
  moveRateHz: Nullable(Type.Number()),
  /**
   * Where moveRateHz comes from: learned on this laptop, the shipped population prior (the detector
   * has absorbed no pointer window yet), the median of stored windows, or nowhere (null).
   */
  moveRateOrigin: Type.Union([Type.Literal('learned'), Type.Literal('prior'), Type.Literal('stored-windows'), Type.Literal('none')]),
  /** What the timing detector compares each window against; empty without a device baseline. */
  learned: Type.Array(LearnedFeatureSchema),
});
export type Baseline = Static<typeof BaselineSchema>;

/** Whether input timing is being captured, and if not, why (one plain sentence). */
export const CaptureStatusSchema = Type.Object({
  state: Type.Union([Type.Literal('running'), Type.Literal('unavailable'), Type.Literal('off')]),
  detail: Type.String(),
});
export type CaptureStatus = Static<typeof CaptureStatusSchema>;

export const TimingViewSchema = Type.Object({
  /** Most recent windows, oldest first. */
  windows: Type.Array(TimingEntrySchema),
  baseline: BaselineSchema,
  /** Windows stored in total (the list may be a tail of them). */
  storedWindows: Type.Integer(),
  windowSeconds: Type.Integer(),
  capture: CaptureStatusSchema,
});
export type TimingView = Static<typeof TimingViewSchema>;

export const FindingsViewSchema = Type.Object({
  open: Type.Array(FindingSchema),
  /** Recently closed findings, newest first. */
  closed: Type.Array(FindingSchema),
});
export type FindingsView = Static<typeof FindingsViewSchema>;

export const CheckSchema = Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('unchecked')]);

export const ReportEntrySchema = Type.Object({
  seq: Type.Integer(),
  kind: Type.String(),
  createdAt: Nullable(Type.Number()),
  /** When the collector acknowledged it (epoch ms), or null while undelivered. */
  deliveredAt: Nullable(Type.Number()),
  /** Sending attempts so far. */
  attempts: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  /** Exactly the bytes stored for sending (the signed report as stored), as text. */
  payload: Type.String(),
  bytes: Type.Integer(),
  signature: CheckSchema,
  chain: CheckSchema,
  /** Plain-language reason when a check is not "valid". */
  checkDetail: Type.String(),
});
export type ReportEntry = Static<typeof ReportEntrySchema>;

export const ReportsViewSchema = Type.Object({
  /** Newest first. */
  reports: Type.Array(ReportEntrySchema),
  total: Type.Integer(),
  /** False until the reporting component's outbox exists on this device. */
  available: Type.Boolean(),
});
export type ReportsView = Static<typeof ReportsViewSchema>;

export const PolicyViewSchema = Type.Object({
  collectorUrl: Nullable(Type.String()),
  approvedTools: Type.Array(Type.Object({ label: Type.String(), note: Nullable(Type.String()) })),
  allowQuit: Type.Boolean(),
  intervals: Type.Object({
    windowSeconds: Type.Integer(),
    windowKeystrokes: Type.Integer(),
    scanSeconds: Type.Integer(),
    hardwareScanSeconds: Type.Integer(),
    reportSeconds: Type.Integer(),
    heartbeatSeconds: Type.Integer(),
  }),
  retention: Type.Object({ maxDays: Type.Integer(), maxMegabytes: Type.Number() }),
  /** How to reach IT, and IT's advice for a flagged laptop (policy `support`). */
  support: Type.Object({ contact: Nullable(Type.String()), advice: Nullable(Type.String()) }),
});
export type PolicyView = Static<typeof PolicyViewSchema>;

export const ExportSchema = Type.Object({
  format: Type.Literal('telltale-local-export-v1'),
  exportedAt: Type.Number(),
  agentVersion: Type.String(),
  deviceId: Nullable(Type.String()),
  notice: Type.String(),
  policy: PolicyViewSchema,
  timingWindows: Type.Array(TimingEntrySchema),
  findings: Type.Array(FindingSchema),
  reports: Type.Array(ReportEntrySchema),
  /** What IT looked at and did on this laptop, oldest first, exactly as the collector signed it. */
  auditEntries: Type.Array(AuditEntrySchema),
  /** The timing baseline in display units, labelled learned or shipped prior per measure. */
  baseline: BaselineSchema,
  /** Every value of the agent's own state table (enrollment, the stored timing baseline, chain head...), as stored. */
  agentState: Type.Record(Type.String(), Type.Unknown()),
});
export type LocalExport = Static<typeof ExportSchema>;

/** What IT looked at and did on this laptop: the collector's signed audit entries, verified and stored here. */
export const AuditViewSchema = Type.Object({
  /** Newest first. */
  entries: Type.Array(AuditEntrySchema),
  total: Type.Integer(),
  reporting: ReportingStateSchema,
  /** Whether the collector's audit key is pinned (at least one feed verified). */
  verified: Type.Boolean(),
});
export type AuditView = Static<typeof AuditViewSchema>;

export const SyncNowResultSchema = Type.Object({ started: Type.Boolean(), detail: Type.String() });

const Empty = Type.Object({}, { additionalProperties: false });
const Limit = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false });

// ---------------------------------------------------------------------------------------------
// The contract

/** Request → response channels. The bridge method of each has the channel's name. */
export const REQUESTS = {
  getOverview: { request: Empty, response: OverviewSchema },
  getTiming: { request: Limit, response: TimingViewSchema },
  getFindings: { request: Empty, response: FindingsViewSchema },
  getReports: { request: Limit, response: ReportsViewSchema },
  getPolicy: { request: Empty, response: PolicyViewSchema },
  getAudit: { request: Limit, response: AuditViewSchema },
  exportData: { request: Empty, response: ExportSchema },
  syncNow: { request: Empty, response: SyncNowResultSchema },
} as const;

/** One-way events from the agent to the view. The bridge subscribes with `on<Name>(callback)`. */
export const EVENTS = {
  /** A timing window was stored: the live charts redraw. */
  windowFlushed: TimingEntrySchema,
  /** Findings opened, closed or changed. */
  findingsChanged: Type.Object({ open: Type.Integer() }),
  /** A report was queued or delivered. */
  reportsChanged: Type.Object({ seq: Type.Integer(), change: Type.Union([Type.Literal('queued'), Type.Literal('delivered')]) }),
  /** Verified audit entries (what IT looked at and did) arrived. */
  auditChanged: Type.Object({ added: Type.Integer(), newestSeq: Type.Integer() }),
  /** The device state (tray icon) changed. */
  statusChanged: StatusSchema,
} as const;

export type RequestChannel = keyof typeof REQUESTS;
export type EventChannel = keyof typeof EVENTS;
export type RequestOf<K extends RequestChannel> = Static<(typeof REQUESTS)[K]['request']>;
export type ResponseOf<K extends RequestChannel> = Static<(typeof REQUESTS)[K]['response']>;
export type EventOf<K extends EventChannel> = Static<(typeof EVENTS)[K]>;

export const REQUEST_CHANNELS = Object.keys(REQUESTS) as RequestChannel[];
export const EVENT_CHANNELS = Object.keys(EVENTS) as EventChannel[];

/** IPC channel names in Electron, namespaced so no other listener can collide with them. */
export const ipcRequestChannel = (channel: RequestChannel): string => `telltale:request:${channel}`;
export const ipcEventChannel = (channel: EventChannel): string => `telltale:event:${channel}`;

/** `windowFlushed` → `onWindowFlushed`. */
export type EventMethodName<K extends EventChannel> = `on${Capitalize<K>}`;
export const eventMethodName = <K extends EventChannel>(channel: K): EventMethodName<K> =>
  `on${channel.charAt(0).toUpperCase()}${channel.slice(1)}` as EventMethodName<K>;

type RequestMethod<K extends RequestChannel> =
  Record<string, never> extends RequestOf<K>
    ? (request?: RequestOf<K>) => Promise<Result<ResponseOf<K>>>
    : (request: RequestOf<K>) => Promise<Result<ResponseOf<K>>>;

/**
 * The one bridge object the view talks to, derived from the contract: `window.telltale` in
 * Electron, an HTTP client in headless mode. Event subscriptions return their unsubscribe function;
 * callbacks receive only the payload, never a transport event.
 */
export type TelltaleBridge = { readonly [K in RequestChannel]: RequestMethod<K> } & {
  readonly [K in EventChannel as EventMethodName<K>]: (callback: (payload: EventOf<K>) => void) => () => void;
};

/** What answers bridge calls: the view-model, behind either transport. */
export type BridgeHandlers = {
  readonly [K in RequestChannel]: (request: RequestOf<K>) => Promise<Result<ResponseOf<K>>> | Result<ResponseOf<K>>;
};

/** How a transport sends one request: resolves to the Result the other side returned. */
export type BridgeInvoke = (channel: RequestChannel, request: unknown) => Promise<Result<unknown>>;
/** How a transport subscribes to one event channel: returns the unsubscribe function. */
export type BridgeSubscribe = (channel: EventChannel, callback: (payload: unknown) => void) => () => void;

/**
 * Derive the bridge object from the contract: one method per request channel, one `on<Event>` per
 * event channel. Both transports (the Electron preload and the renderer's HTTP client) build their
 * bridge with this, so they cannot drift from the contract or from each other.
 */
export function buildBridge(invoke: BridgeInvoke, subscribe: BridgeSubscribe): TelltaleBridge {
  const bridge: Record<string, unknown> = {};
  for (const channel of REQUEST_CHANNELS) {
    bridge[channel] = (request?: unknown) => invoke(channel, request ?? {});
  }
  for (const channel of EVENT_CHANNELS) {
    bridge[eventMethodName(channel)] = (callback: (payload: unknown) => void) => {
      if (typeof callback !== 'function') throw new TypeError(`${eventMethodName(channel)} needs a callback`);
      return subscribe(channel, (payload) => callback(payload));
    };
  }
  return Object.freeze(bridge) as unknown as TelltaleBridge;
}

export function isRequestChannel(value: unknown): value is RequestChannel {
  return typeof value === 'string' && Object.hasOwn(REQUESTS, value);
}

export function isEventChannel(value: unknown): value is EventChannel {
  return typeof value === 'string' && Object.hasOwn(EVENTS, value);
}

/**
 * Validate a request payload against its channel's schema. `undefined` means "no arguments" and is
 * read as `{}`. Returns PAYLOAD_INVALID with the first schema error otherwise.
 */
export function validateRequest<K extends RequestChannel>(channel: K, payload: unknown): Result<RequestOf<K>> {
  const schema = REQUESTS[channel].request;
  const value = payload === undefined ? {} : payload;
  if (Value.Check(schema, value)) return ok(value as RequestOf<K>);
  const first = Value.Errors(schema, value).First();
  return fail('PAYLOAD_INVALID', `Invalid ${channel} request${first ? `: ${first.path || '/'} ${first.message}` : ''}`);
}

/** Check a response value against its channel's schema (tests and debug builds). */
export function isValidResponse<K extends RequestChannel>(channel: K, value: unknown): value is ResponseOf<K> {
  return Value.Check(REQUESTS[channel].response, value);
}

/** Check an event payload against its schema. */
export function isValidEvent<K extends EventChannel>(channel: K, value: unknown): value is EventOf<K> {
  return Value.Check(EVENTS[channel], value);
}

/** A Result-shaped value, as received over a transport. */
export function isResultShape(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  if (record.ok === true) return 'value' in record;
  if (record.ok !== false || typeof record.error !== 'object' || record.error === null) return false;
  const error = record.error as Record<string, unknown>;
  return typeof error.code === 'string' && (ERROR_CODES as readonly string[]).includes(error.code) && typeof error.message === 'string';
}

// ---------------------------------------------------------------------------------------------
// The view's page security, shared by the Electron protocol handler and the headless server.

/** The custom protocol the Electron window loads the view from (instead of file://). */
export const VIEW_SCHEME = 'telltale';
export const VIEW_ORIGIN = `${VIEW_SCHEME}://app`;

/**
 * Strict CSP: only our own bundled script and stylesheet; no inline script, no eval, no remote
 * anything. Charts are SVG built with DOM calls, so no inline style attributes are needed either.
 */
export const VIEW_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "media-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers sent with every view response, in both transports. */
export const VIEW_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': VIEW_CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/** What Telltale never collects: stated in the view, the export and the docs from this one list. */
export const NEVER_COLLECTED: readonly string[] = [
  'Which keys you press, or any text you type (passwords, messages, documents)',
  'Where your pointer is on the screen, or what you click on',
  'Screenshots or any screen content',
  'Your files or their contents',
  'Websites you visit or your browsing history',
  'Your camera, microphone, or location',
];

