/**
 * Input-timing features: the one schema of what leaves the hook boundary.
 *
 * A TimingWindow is the whole of what Telltale keeps about typing and pointing: times, counts,
 * shares and distances, never which key, never text, never pointer coordinates. This schema owns
 * its shape everywhere it goes: the aggregator produces it, SQLite stores it, the detector scores
 * it, reports carry it to IT, the transparency view and the IT dashboard label it, the CLI logs it.
 * Each field carries its plain-language `title` and its `unit`, and every consumer reads them from
 * here (`TIMING_FIELDS`), so a new feature is added in this file and in the code that computes or
 * scores it, and nowhere else.
 *
 * IT receives every field (`projectTimingWindow` keeps exactly the schema's fields): the detector
 * scores them, so IT needs them to see and re-check the evidence behind a timing finding, and none
 * of them can hold key identity or a position.
 */
import { KindGuard, Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';

/** How a timing value is measured; the view and the logs format by it. */
export type TimingUnit = 'epoch-ms' | 'hook-ms' | 'ms' | 'count' | 'share' | 'Hz' | 'px' | 'ratio';

/** Largest count a window can hold (a window is at most 600 s; a 1000 Hz device gives 600,000 events). */
const MAX_COUNT = 10_000_000;
/** Largest duration or distance a window can report, in its unit. */
const MAX_MEASURE = 1e9;

const annotate = (title: string, unit: TimingUnit) => ({ title, unit });
const time = (title: string, unit: 'epoch-ms' | 'hook-ms') =>
  Type.Number({ ...annotate(title, unit), minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const count = (title: string) => Type.Integer({ ...annotate(title, 'count'), minimum: 0, maximum: MAX_COUNT });
const share = (title: string) => Type.Number({ ...annotate(title, 'share'), minimum: 0, maximum: 1 });
const measure = (title: string, unit: 'ms' | 'Hz' | 'px' | 'ratio') => Type.Number({ ...annotate(title, unit), minimum: 0, maximum: MAX_MEASURE });

/** Summary of a sample of durations or distances, all in the sample's unit. */
const distribution = (title: string, unit: 'ms' | 'px') =>
  Type.Union(
    [
      Type.Object(
        {
          n: count('samples'),
          median: measure('median', unit),
          iqr: measure('spread (interquartile range)', unit),
          p5: measure('5th percentile', unit),
          p95: measure('95th percentile', unit),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ],
    annotate(title, unit),
  );

export const KeyFeaturesSchema = Type.Object(
  {
    keystrokes: count('keystrokes (a press paired with its release)'),
    keyDowns: count('key presses'),
    dwell: distribution('key hold time', 'ms'),
    flight: distribution('gap between key presses', 'ms'),
    nearSimultaneous5: share('share of key presses under 5 ms after the previous one'),
    nearSimultaneous15: share('share of key presses under 15 ms after the previous one'),
    rolloverRate: share('share of key presses made while another key is held'),
    // Windows stored by an agent older than these counts lack them; the detector reads such a
    // window's missing count as no evidence, never as zero.
    keyEvents: Type.Optional(count('key events (presses and releases)')),
    coincidentEvents: Type.Optional(count('consecutive key events in the same millisecond')),
    shortGaps: Type.Optional(count('consecutive key events under 60 ms apart')),
    fineGaps: Type.Optional(count('consecutive key events 2 to 9 ms apart')),
    /**
     * Only a clock that resolves 1 ms produces them: a USB keyboard polled at 125, 250 or 500 Hz puts
     * every change within one report on one timestamp, so its ties are its clock, not a relay.
     */
    oneMsGaps: Type.Optional(count('consecutive key events exactly 1 ms apart')),
    // Relay evidence that survives a server pacing a released bunch out over a few ms.
    bunchedEvents: Type.Optional(count('consecutive key events at most 2 ms apart (or within the clock resolution)')),
    bunchRuns: Type.Optional(count('runs of three or more key events each at most 2 ms after the one before')),
    compressedHolds: Type.Optional(count('key holds shorter than 15 ms')),
    /**
     * Where key presses came from (agent/input/attribution/): absent where attribution does not run
     * (no helper, no XInput2, an OS whose source is not built), which is no evidence either way.
     */
    injectedKeyPresses: Type.Optional(count('key presses injected by a program')),
    deviceKeyPresses: Type.Optional(count('key presses from a keyboard device')),
  },
  { additionalProperties: false },
);

/**
 * Buckets of the time between consecutive pointer updates: one per millisecond from 0 to
 * POINTER_INTERVAL_FINE_MS - 1, then [FINE, 2 * FINE) and [2 * FINE, the movement gap]. Millisecond
 * resolution up to 32 ms is what it takes to tell a device's own report period (1-12.5 ms) from a
 * viewer that coalesces motion (TigerVNC sends at most one update per 17 ms).
 */
export const POINTER_INTERVAL_FINE_MS = 32;
/** How many interval buckets a pointer histogram has. */
export const POINTER_INTERVAL_BUCKETS = POINTER_INTERVAL_FINE_MS + 2;
/** A pointer step at least this long (px) is a wide step: the pointer moved several pixels since the last report. */
export const WIDE_STEP_PX = 3;

/** The histogram bucket of a pointer-update interval, ms (>= 0). Allocation-free: it sits on the input path. */
export function pointerIntervalBucket(intervalMs: number): number {
  if (intervalMs < POINTER_INTERVAL_FINE_MS) return Math.floor(intervalMs);
  return intervalMs < 2 * POINTER_INTERVAL_FINE_MS ? POINTER_INTERVAL_FINE_MS : POINTER_INTERVAL_FINE_MS + 1;
}

/** Lowest interval (ms) a bucket holds. */
export function pointerBucketStartMs(bucket: number): number {
  return bucket <= POINTER_INTERVAL_FINE_MS ? bucket : 2 * POINTER_INTERVAL_FINE_MS;
}

/** Counts of pointer updates per interval bucket (pointerIntervalBucket); carried whole, not a flat table field. */
const intervalHistogram = (title: string) =>
  Type.Array(count('pointer updates'), { ...annotate(title, 'count'), minItems: POINTER_INTERVAL_BUCKETS, maxItems: POINTER_INTERVAL_BUCKETS });

export const MouseFeaturesSchema = Type.Object(
  {
    moves: count('pointer movements'),
    clicks: count('clicks'),
    wheels: count('wheel turns'),
    moveRateHz: measure('pointer updates per second of movement', 'Hz'),
    step: distribution('distance between pointer updates', 'px'),
    interval: distribution('time between pointer updates', 'ms'),
    intervalCv: Type.Union(
      [Type.Number({ minimum: 0, maximum: MAX_MEASURE }), Type.Null()],
      annotate('irregularity of the time between pointer updates (coefficient of variation)', 'ratio'),
    ),
    coincidentMoves: Type.Optional(count('consecutive pointer updates in the same millisecond')),
    fastMoves: Type.Optional(count('consecutive pointer updates 1 to 2 ms apart')),
    /**
     * How long after the previous update each pointer update came (per-millisecond buckets, see
     * pointerIntervalBucket), for every update and for wide steps only (WIDE_STEP_PX or more). A
     * device reports on its own period; a relay that coalesces motion sends wide steps a viewer
     * period apart. Counts only: no position, no direction.
     */
    updateIntervals: Type.Optional(intervalHistogram('pointer updates by time since the previous update (1 ms buckets up to 32 ms)')),
    wideStepIntervals: Type.Optional(intervalHistogram('pointer steps of 3 px or more by time since the previous update (1 ms buckets up to 32 ms)')),
    injectedPointerEvents: Type.Optional(count('pointer movements and wheel turns injected by a program (movements on X11 only with injectedInput.pointerMotion)')),
    devicePointerEvents: Type.Optional(count('pointer movements and wheel turns from a pointing device (movements on X11 only with injectedInput.pointerMotion)')),
    injectedClicks: Type.Optional(count('clicks injected by a program')),
    deviceClicks: Type.Optional(count('clicks from a pointing device')),
  },
  { additionalProperties: false },
);

/** One flushed aggregation window. */
export const TimingWindowSchema = Type.Object(
  {
    startedAt: time('window start', 'epoch-ms'),
    endedAt: time('window end', 'epoch-ms'),
    /** The hook's own event clock (X server ms on Linux) at the window's first and last event. */
    hookStart: time("input clock at the window's first event", 'hook-ms'),
    hookEnd: time("input clock at the window's last event", 'hook-ms'),
    keys: KeyFeaturesSchema,
    mouse: MouseFeaturesSchema,
    // How the times were taken and whether the machine was stalled while they were: the detector
    // skips evidence collected during a stall. Windows stored by an older agent lack them.
    clockResolutionMs: Type.Optional(measure('resolution of the input clock', 'ms')),
    deliveryDelayMs: Type.Optional(measure('longest delay from an input event to the agent receiving it', 'ms')),
    stalledEvents: Type.Optional(count('input events received during a local stall (left out of key-gap counts)')),
    eventLoopDelayMs: Type.Optional(measure("longest stall of the agent's event loop", 'ms')),
  },
  { additionalProperties: false },
);

export type KeyFeatures = Static<typeof KeyFeaturesSchema>;
export type MouseFeatures = Static<typeof MouseFeaturesSchema>;
export type TimingWindow = Static<typeof TimingWindowSchema>;
export type Distribution = NonNullable<KeyFeatures['dwell']>;

/** One leaf of the schema: a number a window carries, where it sits and how to name it. */
export interface TimingField {
  /** Property path in the window, e.g. ['keys', 'dwell', 'median']. */
  readonly path: readonly string[];
  /** Flat camelCase name for logs and tables, e.g. 'dwellMedian' (key and mouse names never collide). */
  readonly name: string;
  /** Plain-language label, e.g. 'key hold time: median'. */
  readonly label: string;
  readonly unit: TimingUnit;
  readonly group: 'window' | 'keys' | 'mouse';
}

interface Annotated {
  readonly title?: string;
  readonly unit?: TimingUnit;
}

/** The object schema of `schema` itself or of its `X | null` union's object variant, else null. */
function objectOf(schema: TSchema): TObject | null {
  if (KindGuard.IsObject(schema)) return schema;
  return KindGuard.IsUnion(schema) ? (schema.anyOf.find((variant) => KindGuard.IsObject(variant)) as TObject | undefined) ?? null : null;
}

function collectFields(schema: TSchema, path: readonly string[], parent: Annotated | null, out: TimingField[]): void {
  // A histogram is carried whole (reports, storage) but is not one number for a table or a log line.
  if (KindGuard.IsArray(schema)) return;
  const object = objectOf(schema);
  if (object !== null) {
    const properties = object.properties;
    // A titled object is a distribution: its leaves are labelled "<distribution>: <leaf>".
    const titled = (schema as Annotated).title !== undefined ? (schema as Annotated) : null;
    for (const [key, child] of Object.entries(properties)) collectFields(child, [...path, key], titled, out);
    return;
  }
  const { title, unit } = schema as Annotated;
  if (unit === undefined || title === undefined) throw new Error(`timing schema: ${path.join('.')} has no title or unit`);
  const group = path.length === 1 ? 'window' : path[0] === 'keys' ? 'keys' : 'mouse';
  const tail = group === 'window' ? path : path.slice(1);
  const name = tail.map((part, index) => (index === 0 ? part : `${part.charAt(0).toUpperCase()}${part.slice(1)}`)).join('');
  out.push({ path, name, label: parent?.title ? `${parent.title}: ${title}` : title, unit, group });
}

/** Every number a TimingWindow carries, in schema order, with its label and unit. */
export const TIMING_FIELDS: readonly TimingField[] = (() => {
  const out: TimingField[] = [];
  collectFields(TimingWindowSchema, [], null, out);
  return out;
})();

/** The value at a field's path (null when absent or null on the way). */
export function timingValue(window: TimingWindow, field: TimingField): number | null {
  let value: unknown = window;
  for (const key of field.path) {
    if (typeof value !== 'object' || value === null) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'number' ? value : null;
}

/** A window flattened to `{ name: value }` over every schema field, e.g. for one log line per window. */
export function flattenTimingWindow(window: TimingWindow): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const field of TIMING_FIELDS) out[field.name] = timingValue(window, field);
  return out;
}

function project(schema: TSchema, value: unknown): unknown {
  const object = objectOf(schema);
  if (object === null || value === null || typeof value !== 'object') return value;
  const properties = object.properties;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(properties)) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) out[key] = project(child, item);
  }
  return out;
}

/**
 * A copy of `window` with exactly the schema's fields: what a report carries. A field added to
 * the schema is carried at once; a field a window holds by mistake (anything the schema lacks)
 * never is.
 */
export function projectTimingWindow(window: TimingWindow): TimingWindow {
  return project(TimingWindowSchema, window) as TimingWindow;
}
