/**
 * The agent's logger: JSON lines for machines, or readable text lines (`--log-format`).
 *
 * JSON: one object per line, `{"time":<epoch ms>,"level":"info","message":"...", ...fields}`;
 * text: `12:34:56.789 INFO  message field=value` (common/command-line.ts formatLogText). Field
 * values are restricted to string, number, boolean and null (the Logger type says so, and this
 * checks it at run time too), so no object can smuggle key identity or coordinates into a log.
 */
import type { Clock, LogLevel, Logger } from './context';
import { systemClock } from './context';
import { formatLogText, type LogFormat } from '../common/command-line';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface JsonLoggerOptions {
  /** Where lines go (default: process.stdout). */
  readonly write?: (line: string) => void;
  /** Lines below this level are dropped (default "info"). */
  readonly minLevel?: LogLevel;
  readonly clock?: Clock;
  /** `json` (default) or `text`. */
  readonly format?: LogFormat;
}

export type LogFields = Record<string, string | number | boolean | null>;

/** A Logger that writes JSON lines, or text lines with `format: 'text'`. */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const minimum = LEVEL_ORDER[options.minLevel ?? 'info'];
  const clock = options.clock ?? systemClock;
  return {
    log(level, message, fields) {
      if (LEVEL_ORDER[level] < minimum) return;
      const record: Record<string, unknown> = { time: clock.now(), level, message };
      for (const [name, value] of Object.entries(fields ?? {})) {
        if (name === 'time' || name === 'level' || name === 'message') continue;
        record[name] = isPrimitive(value) ? value : `[dropped ${typeof value}]`;
      }
      if (options.format === 'text') {
        const { time, level: recordLevel, message: recordMessage, ...rest } = record;
        write(`${formatLogText(time as number, recordLevel as string, recordMessage as string, rest)}\n`);
      } else {
        write(`${JSON.stringify(record)}\n`);
      }
    },
  };
}

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVEL_ORDER, value);
}

/** A Logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { log: () => undefined };

/** A Logger that keeps lines in memory, for tests that assert on them. */
export function createMemoryLogger(): Logger & { readonly lines: { level: LogLevel; message: string; fields: LogFields }[] } {
  const lines: { level: LogLevel; message: string; fields: LogFields }[] = [];
  return { lines, log: (level, message, fields) => lines.push({ level, message, fields: { ...fields } }) };
}

function isPrimitive(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}
