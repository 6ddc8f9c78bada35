/**
 * `--log-format auto|json|text`, shared by the agent and the collector: auto resolves by whether
 * the output is a terminal, text lines read as `time LEVEL message field=value`, and the real
 * collector process writes its request log as text lines when asked.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createJsonLogger } from '../../agent/log';
import { formatLogText, resolveLogFormat } from '../../common/command-line';
import { collectorConfigFromCommandLine, UsageProblem } from '../../collector/cli-config';
import { pinoLineToText } from '../../collector/log-text';
import { startCollectorProcess } from '../helpers/collector-process';
import { tempDir } from '../helpers/temp-dir';

const TEXT_LINE = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) /;

test('auto is text on a terminal and JSON otherwise; anything else is refused', () => {
  assert.equal(resolveLogFormat(undefined, true), 'text');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('text', false), 'text');
  assert.equal(resolveLogFormat('yaml', true), null);
  assert.equal(formatLogText(Date.UTC(2026, 0, 2, 3, 4, 5, 6), 'warn', 'disk full', { windows: 3, reason: 'backlog full', ok: true }), '03:04:05.006 WARN  disk full windows=3 reason="backlog full" ok=true');
});

test('the agent logger writes text lines or JSON lines', () => {
  const lines: string[] = [];
  const clock = { now: () => Date.UTC(2026, 0, 1), monotonic: () => 0 } as never;
  createJsonLogger({ format: 'text', clock, write: (line) => lines.push(line) }).log('info', 'report delivered', { seq: 4 });
  createJsonLogger({ clock, write: (line) => lines.push(line) }).log('info', 'report delivered', { seq: 4 });
  assert.equal(lines[0], '00:00:00.000 INFO  report delivered seq=4\n');
  assert.deepEqual(JSON.parse(lines[1]!), { time: Date.UTC(2026, 0, 1), level: 'info', message: 'report delivered', seq: 4 });
});

test("the collector's command line resolves --log-format and names the flag when it is wrong", () => {
  const base = { 'enrollment-secret': 'a-long-enrollment-secret', db: ':memory:' };
  assert.equal(collectorConfigFromCommandLine({ ...base, 'log-format': 'text' }, {}, false).config.logFormat, 'text');
  assert.equal(collectorConfigFromCommandLine(base, {}, true).config.logFormat, 'text');
  assert.equal(collectorConfigFromCommandLine(base, {}, false).config.logFormat, 'json');
  assert.equal(collectorConfigFromCommandLine(base, { TELLTALE_LOG_FORMAT: 'text' }, false).config.logFormat, 'text');
  assert.throws(() => collectorConfigFromCommandLine({ ...base, 'log-format': 'xml' }, {}, false), (error: Error) => error instanceof UsageProblem && /--log-format/.test(error.message));
  assert.match(pinoLineToText('{"level":40,"time":0,"pid":1,"hostname":"h","msg":"slow","ms":9}'), /^00:00:00\.000 WARN  slow ms=9\n$/);
});

test('the collector process logs text lines with --log-format text', async (t) => {
  const collector = await startCollectorProcess({
    dbFile: path.join(tempDir(t), 'c.db'),
    enrollmentSecret: 'log-format-enrollment-secret',
    itToken: 'log-format-it-token-0123456789',
    logLevel: 'info',
    extraArgs: ['--log-format', 'text'],
  });
  t.after(() => collector.stop());
  assert.equal((await fetch(`${collector.url}/v1/health`)).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const logLines = collector.output.filter((line) => !line.startsWith('{"listening"'));
  assert.ok(logLines.length > 0, 'some log lines');
  for (const line of logLines) assert.match(line, TEXT_LINE, line);
  assert.ok(logLines.some((line) => line.includes('/v1/health')), logLines.join('\n'));
});
