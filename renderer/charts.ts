/**
 * Hand-rolled SVG charts: a bar series over time and a histogram, each set against a baseline.
 * Built with DOM calls only (no inline style, no external library), so the view's strict CSP holds.
 */
import { svg } from './dom';

const WIDTH = 480;
const HEIGHT = 170;
const PAD = { left: 58, right: 12, top: 14, bottom: 28 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;

export interface Bar {
  readonly value: number;
  /** Shown under the first and last bars. */
  readonly label: string;
}

export interface SeriesChartOptions {
  readonly title: string;
  readonly bars: readonly Bar[];
  /** Drawn as a dashed line: this device's usual value. */
  readonly baseline: number | null;
  readonly unit: string;
  /** Marks the newest bar (the window that just arrived). */
  readonly highlightLast?: boolean;
}

/** Bars over time, oldest left; the dashed line is the baseline. */
export function seriesChart(options: SeriesChartOptions): SVGSVGElement {
  const max = niceMax(Math.max(1, options.baseline ?? 0, ...options.bars.map((bar) => bar.value)));
  const root = frame(options.title, max, options.unit);
  const count = Math.max(options.bars.length, 12);
  const slot = PLOT_W / count;
  options.bars.forEach((bar, index) => {
    const height = (bar.value / max) * PLOT_H;
    const isLast = index === options.bars.length - 1;
    root.append(
      svg('rect', {
        class: isLast && options.highlightLast ? 'bar bar-latest' : 'bar',
        x: PAD.left + index * slot + slot * 0.15,
        y: PAD.top + PLOT_H - height,
        width: Math.max(1, slot * 0.7),
        height: Math.max(bar.value > 0 ? 1 : 0, height),
        'data-value': bar.value,
      }),
    );
  });
  const first = options.bars[0];
  const last = options.bars[options.bars.length - 1];
  if (first) root.append(svg('text', { class: 'axis-label', x: PAD.left, y: HEIGHT - 8 }, first.label));
  if (last && options.bars.length > 1) {
    root.append(svg('text', { class: 'axis-label', x: PAD.left + PLOT_W, y: HEIGHT - 8, 'text-anchor': 'end' }, last.label));
  }
  if (options.baseline !== null) baselineLine(root, options.baseline, max);
  return root;
}

export interface HistogramOptions {
  readonly title: string;
  readonly values: readonly number[];
  readonly binWidth: number;
  readonly baseline: number | null;
  readonly unit: string;
  /** The newest window's value: its bin is highlighted. */
  readonly latest: number | null;
}

/** How many windows fell in each range of values; the dashed line is the baseline. */
export function histogram(options: HistogramOptions): SVGSVGElement {
  const all = [...options.values, ...(options.baseline !== null ? [options.baseline] : [])];
  const top = Math.max(options.binWidth * 8, ...all) * 1.1;
  const bins = Math.ceil(top / options.binWidth);
  const counts = new Array<number>(bins).fill(0);
  for (const value of options.values) counts[Math.min(bins - 1, Math.max(0, Math.floor(value / options.binWidth)))]! += 1;
  const max = niceMax(Math.max(1, ...counts));
  const root = frame(options.title, max, 'windows');
  const slot = PLOT_W / bins;
  const latestBin = options.latest === null ? -1 : Math.min(bins - 1, Math.floor(options.latest / options.binWidth));
  counts.forEach((count, index) => {
    if (count === 0) return;
    const height = (count / max) * PLOT_H;
    root.append(
      svg('rect', {
        class: index === latestBin ? 'bar bar-latest' : 'bar',
        x: PAD.left + index * slot + 1,
        y: PAD.top + PLOT_H - height,
        width: Math.max(1, slot - 2),
        height,
        'data-count': count,
      }),
    );
  });
  const ticks = 4;
  for (let tick = 0; tick <= ticks; tick++) {
    const value = (top / ticks) * tick;
    root.append(
      svg(
        'text',
        { class: 'axis-label', x: PAD.left + (PLOT_W / ticks) * tick, y: HEIGHT - 8, 'text-anchor': tick === 0 ? 'start' : tick === ticks ? 'end' : 'middle' },
        `${Math.round(value)} ${options.unit}`,
      ),
    );
  }
  if (options.baseline !== null) {
    const x = PAD.left + (options.baseline / (bins * options.binWidth)) * PLOT_W;
    root.append(svg('line', { class: 'baseline', x1: x, x2: x, y1: PAD.top, y2: PAD.top + PLOT_H }));
    root.append(svg('text', { class: 'baseline-label', x: x + 4, y: PAD.top + 10 }, 'your usual'));
  }
  return root;
}

function frame(title: string, max: number, unit: string): SVGSVGElement {
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'chart', 'aria-label': title });
  root.append(svg('title', {}, title));
  root.append(svg('line', { class: 'axis', x1: PAD.left, x2: PAD.left + PLOT_W, y1: PAD.top + PLOT_H, y2: PAD.top + PLOT_H }));
  root.append(svg('text', { class: 'axis-label', x: PAD.left - 6, y: PAD.top + 4, 'text-anchor': 'end' }, formatTick(max)));
  root.append(svg('text', { class: 'axis-label', x: PAD.left - 6, y: PAD.top + PLOT_H, 'text-anchor': 'end' }, '0'));
  root.append(svg('text', { class: 'axis-unit', x: PAD.left - 6, y: PAD.top + PLOT_H / 2 + 4, 'text-anchor': 'end' }, unit));
  return root;
}

function baselineLine(root: SVGSVGElement, baseline: number, max: number): void {
  const y = PAD.top + PLOT_H - (baseline / max) * PLOT_H;
  root.append(svg('line', { class: 'baseline', x1: PAD.left, x2: PAD.left + PLOT_W, y1: y, y2: y }));
  root.append(svg('text', { class: 'baseline-label', x: PAD.left + PLOT_W, y: y - 4, 'text-anchor': 'end' }, 'your usual'));
}

function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  return value >= 10 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
}
