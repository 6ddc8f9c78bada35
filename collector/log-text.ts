/**
 * `--log-format text` for the collector: Fastify's logger (pino) writes JSON lines; this stream
 * turns each into the readable line the agent writes too (common/command-line.ts formatLogText).
 */
import { formatLogText } from '../common/command-line';

/** pino's numeric levels. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One pino JSON line as a text line; a line that is not JSON passes through unchanged. */
export function pinoLineToText(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  // pid and hostname are the same on every line: noise for a person reading.
  const { level, time, msg, pid: _pid, hostname: _hostname, ...fields } = record;
  const levelName = typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : String(level);
  return `${formatLogText(typeof time === 'number' ? time : Date.now(), levelName, typeof msg === 'string' ? msg : '', fields)}\n`;
}

/** A pino destination that writes text lines to `output`. */
export function textLogStream(output: { write(text: string): unknown }): { write(line: string): void } {
  return {
    write(chunk) {
      for (const line of chunk.split('\n')) if (line !== '') output.write(pinoLineToText(line));
    },
  };
}
