/**
 * What a report may carry about input, enforced twice.
 *
 * 1. By construction: `projectTimingWindow` copies only the fields common/timing.ts defines (times,
 *    counts, distributions), so a field added to a stored window by mistake never reaches a report.
 * 2. By audit: `auditReportBody` lists every way a body departs from the protocol: the schema's
 *    own checks (additionalProperties: false everywhere but `timing` and finding `evidence`) plus
 *    an exact shape check of each timing entry, which the schema leaves open. The privacy canary
 *    runs it over the outbox and over the collector's stored bodies.
 */
import { Value } from '@sinclair/typebox/value';
import { ReportBodySchema } from '../../common/report';
import type { Distribution, KeyFeatures, MouseFeatures, TimingWindow } from '../../common/timing';

const DISTRIBUTION_FIELDS = ['n', 'median', 'iqr', 'p5', 'p95'] as const;
const KEY_NUMBER_FIELDS = ['keystrokes', 'keyDowns', 'nearSimultaneous5', 'nearSimultaneous15', 'rolloverRate'] as const;
const KEY_DISTRIBUTION_FIELDS = ['dwell', 'flight'] as const;
const MOUSE_NUMBER_FIELDS = ['moves', 'clicks', 'wheels', 'moveRateHz'] as const;
const MOUSE_DISTRIBUTION_FIELDS = ['step', 'interval'] as const;
const WINDOW_NUMBER_FIELDS = ['startedAt', 'endedAt', 'hookStart', 'hookEnd'] as const;

function projectDistribution(distribution: Distribution | null): Distribution | null {
  if (distribution === null) return null;
  return { n: distribution.n, median: distribution.median, iqr: distribution.iqr, p5: distribution.p5, p95: distribution.p95 };
}

/** A copy of `window` with exactly the fields common/timing.ts defines. */
export function projectTimingWindow(window: TimingWindow): TimingWindow {
  const keys: KeyFeatures = {
    keystrokes: window.keys.keystrokes,
    keyDowns: window.keys.keyDowns,
    dwell: projectDistribution(window.keys.dwell),
    flight: projectDistribution(window.keys.flight),
    nearSimultaneous5: window.keys.nearSimultaneous5,
    nearSimultaneous15: window.keys.nearSimultaneous15,
    rolloverRate: window.keys.rolloverRate,
  };
  const mouse: MouseFeatures = {
    moves: window.mouse.moves,
    clicks: window.mouse.clicks,
    wheels: window.mouse.wheels,
    moveRateHz: window.mouse.moveRateHz,
    step: projectDistribution(window.mouse.step),
    interval: projectDistribution(window.mouse.interval),
    intervalCv: window.mouse.intervalCv,
  };
  return { startedAt: window.startedAt, endedAt: window.endedAt, hookStart: window.hookStart, hookEnd: window.hookEnd, keys, mouse };
}

/**
 * Every way `body` departs from the report protocol, as readable strings (empty: conforms).
 * Accepts a parsed body or its JSON text.
 */
export function auditReportBody(body: unknown): string[] {
  const value: unknown = typeof body === 'string' ? JSON.parse(body) : body;
  const problems = [...Value.Errors(ReportBodySchema, value)].map((error) => `${error.path || '/'}: ${error.message}`);
  const timing = (value as { timing?: unknown }).timing;
  if (Array.isArray(timing)) timing.forEach((entry, index) => problems.push(...auditTimingWindow(entry, `/timing/${index}`)));
  return problems;
}

function auditTimingWindow(entry: unknown, path: string): string[] {
  const problems: string[] = [];
  if (!isRecord(entry)) return [`${path}: not an object`];
  problems.push(...exactFields(entry, [...WINDOW_NUMBER_FIELDS, 'keys', 'mouse'], path));
  for (const field of WINDOW_NUMBER_FIELDS) problems.push(...numberField(entry, field, path));
  const keys = entry.keys;
  if (!isRecord(keys)) problems.push(`${path}/keys: not an object`);
  else {
    problems.push(...exactFields(keys, [...KEY_NUMBER_FIELDS, ...KEY_DISTRIBUTION_FIELDS], `${path}/keys`));
    for (const field of KEY_NUMBER_FIELDS) problems.push(...numberField(keys, field, `${path}/keys`));
    for (const field of KEY_DISTRIBUTION_FIELDS) problems.push(...distributionField(keys, field, `${path}/keys`));
  }
  const mouse = entry.mouse;
  if (!isRecord(mouse)) problems.push(`${path}/mouse: not an object`);
  else {
    problems.push(...exactFields(mouse, [...MOUSE_NUMBER_FIELDS, ...MOUSE_DISTRIBUTION_FIELDS, 'intervalCv'], `${path}/mouse`));
    for (const field of MOUSE_NUMBER_FIELDS) problems.push(...numberField(mouse, field, `${path}/mouse`));
    for (const field of MOUSE_DISTRIBUTION_FIELDS) problems.push(...distributionField(mouse, field, `${path}/mouse`));
    if (mouse.intervalCv !== null && typeof mouse.intervalCv !== 'number') problems.push(`${path}/mouse/intervalCv: not a number or null`);
  }
  return problems;
}

function exactFields(record: Record<string, unknown>, allowed: readonly string[], path: string): string[] {
  const problems = Object.keys(record)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${path}/${key}: not a timing feature (unexpected field)`);
  for (const key of allowed) if (!(key in record)) problems.push(`${path}/${key}: missing`);
  return problems;
}

function numberField(record: Record<string, unknown>, field: string, path: string): string[] {
  return typeof record[field] === 'number' && Number.isFinite(record[field]) ? [] : [`${path}/${field}: not a finite number`];
}

function distributionField(record: Record<string, unknown>, field: string, path: string): string[] {
  const value = record[field];
  if (value === null) return [];
  if (!isRecord(value)) return [`${path}/${field}: not a distribution or null`];
  const problems = exactFields(value, DISTRIBUTION_FIELDS, `${path}/${field}`);
  for (const key of DISTRIBUTION_FIELDS) problems.push(...numberField(value, key, `${path}/${field}`));
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
