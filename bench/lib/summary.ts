/**
 * Rows of the benchmark table: a measured figure over several runs, its baseline from the same
 * run, their ratio and the target.
 */
import { assertNever } from '../../common/result';

/** Median, minimum and maximum of a sample. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spreadOf: empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** The p-th percentile (0–100) of one run's latency samples, nearest rank: the sample at or below it. */
export function percentileOf(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentileOf: empty sample');
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * A target the figure is checked against.
 * `ratioAtMost`: figure / baseline must not exceed the value (costs); `ratioAtLeast`: it must reach
 * the value (rates); `atMost`: the figure itself must not exceed it.
 */
export type Target =
  | { readonly kind: 'ratioAtMost'; readonly value: number }
  | { readonly kind: 'ratioAtLeast'; readonly value: number }
  | { readonly kind: 'atMost'; readonly value: number; readonly unit: string }
  | { readonly kind: 'info' };

export interface MeasuredRow {
  readonly status: 'measured';
  readonly group: string;
  readonly name: string;
  readonly unit: string;
  readonly figure: Spread;
  readonly baselineName: string | null;
  readonly baseline: Spread | null;
  readonly target: Target;
  /** Overrides the target check when the check is not a plain comparison (e.g. linearity). */
  readonly met?: boolean | null;
  readonly targetText?: string;
  readonly notes?: string;
}

export interface MissingRow {
  readonly status: 'missing';
  readonly group: string;
  readonly name: string;
  /** Why there is no figure: "missing: <code or tool>" or "failed: <error>". */
  readonly reason: string;
  readonly targetText: string;
}

export type Row = MeasuredRow | MissingRow;

/** figure.median / baseline.median, or null without a baseline. */
export function ratioOf(row: MeasuredRow): number | null {
  if (row.baseline === null || row.baseline.median === 0) return null;
  return row.figure.median / row.baseline.median;
}

export function targetText(row: Row): string {
  if (row.targetText !== undefined) return row.targetText;
  if (row.status === 'missing') return '';
  switch (row.target.kind) {
    case 'ratioAtMost':
      return `ratio ≤ ${row.target.value}`;
    case 'ratioAtLeast':
      return `ratio ≥ ${row.target.value}`;
    case 'atMost':
      return `≤ ${row.target.value} ${row.target.unit}`;
    case 'info':
      return '—';
    default:
      return assertNever(row.target, 'bench target');
  }
}

/** Whether the row meets its target: true, false, or null when there is nothing to check. */
export function metOf(row: Row): boolean | null {
  if (row.status === 'missing') return null;
  if (row.met !== undefined) return row.met;
  switch (row.target.kind) {
    case 'ratioAtMost': {
      const ratio = ratioOf(row);
      return ratio === null ? null : ratio <= row.target.value;
    }
    case 'ratioAtLeast': {
      const ratio = ratioOf(row);
      return ratio === null ? null : ratio >= row.target.value;
    }
    case 'atMost':
      return row.figure.median <= row.target.value;
    case 'info':
      return null;
    default:
      return assertNever(row.target, 'bench target');
  }
}

/** A number with about three significant digits, no exponent. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  // Whole numbers (autocannon's millisecond latencies, counts) print without invented decimals.
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

function formatSpread(spread: Spread, unit: string): string {
  return `${formatNumber(spread.median)} ${unit} [${formatNumber(spread.min)}–${formatNumber(spread.max)}]`;
}

/** The table as markdown, one line per row. */
export function renderTable(rows: readonly Row[]): string {
  const header = ['row', 'figure (median [min–max])', 'baseline (median)', 'ratio', 'target', 'met?'];
  const lines = rows.map((row) => {
    if (row.status === 'missing') return [row.name, `n/a (${row.reason})`, '', '', row.targetText, '—'];
    const ratio = ratioOf(row);
    const met = metOf(row);
    return [
      row.name,
      formatSpread(row.figure, row.unit),
      row.baseline === null ? '—' : `${formatNumber(row.baseline.median)} ${row.unit} (${row.baselineName ?? 'baseline'})`,
      // Three decimals under 0.1, so a ratio just over a 0.05 target does not print as "0.05".
      ratio === null ? '—' : `${ratio >= 10 ? ratio.toFixed(0) : ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2)}×`,
      targetText(row),
      met === null ? '—' : met ? 'yes' : 'NO',
    ];
  });
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.map(escape).join(' | ')} |`).join('\n');
}
