import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger, LogLevel } from '../../agent/context';
import { CpuWatchdog, type Throttleable } from '../../agent/watchdog';

/** A fake CPU meter and clock with driver methods: advance wall time and spend CPU. */
class FakeProcess {
  nowMs = 0;
  cpuMicros = 0;
  /** Let `ms` pass while the process uses `fraction` of one core. */
  run(ms: number, fraction: number): void {
    this.nowMs += ms;
    this.cpuMicros += ms * 1000 * fraction;
  }
}

class RecordingService implements Throttleable {
  calls: string[] = [];
  constructor(readonly name: string) {}
  throttle(): void {
    this.calls.push('throttle');
  }
  resume(): void {
    this.calls.push('resume');
  }
}

function recordingLogger(): Logger & { lines: { level: LogLevel; message: string }[] } {
  const lines: { level: LogLevel; message: string }[] = [];
  return { lines, log: (level, message) => lines.push({ level, message }) };
}

function setup(options: { limit?: number; resumeBelow?: number } = {}) {
  const fake = new FakeProcess();
  const logger = recordingLogger();
  const scanner = new RecordingService('detection');
  const view = new RecordingService('headless-view');
  const watchdog = new CpuWatchdog(
    { logger },
    { throttleables: [scanner, view], windowMs: 12_000, cpuMicros: () => fake.cpuMicros, monotonicMs: () => fake.nowMs, ...options },
  );
  /** Run for `seconds` at `fraction` of a core, sampling once a second like the timer. */
  const drive = (seconds: number, fraction: number): (number | null)[] => {
    const usages: (number | null)[] = [];
    for (let i = 0; i < seconds; i++) {
      fake.run(1000, fraction);
      usages.push(watchdog.sample());
    }
    return usages;
  };
  watchdog.sample();
  return { watchdog, logger, scanner, view, drive };
}

describe('CpuWatchdog', () => {
  it('reports nothing until a full 12 s window, then the window average', () => {
    const { drive } = setup();
    const usages = drive(12, 0.05);
    assert.deepEqual(usages.slice(0, 11), Array(11).fill(null));
    assert.ok(Math.abs(usages[11]! - 0.05) < 1e-9);
  });

  it('throttles every non-essential service once when a full window is over 10%, and logs it', () => {
    const { watchdog, logger, scanner, view, drive } = setup();
    drive(12, 0.05);
    assert.equal(watchdog.status().throttled, false);
    drive(12, 0.25);
    assert.equal(watchdog.status().throttled, true);
    assert.deepEqual(scanner.calls, ['throttle']);
    assert.deepEqual(view.calls, ['throttle']);
    assert.equal(watchdog.status().overBudgetCount, 1);
    assert.equal(logger.lines.filter((line) => line.level === 'warn').length, 1);
  });

  it('ignores a short burst that averages under the budget over 12 s', () => {
    const { watchdog, scanner, drive } = setup();
    drive(12, 0.02);
    drive(1, 0.9); // one busy second: about 9.3% over the window
    drive(5, 0.02);
    assert.equal(watchdog.status().throttled, false);
    assert.deepEqual(scanner.calls, []);
  });

  it('stays throttled between the resume level and the limit, resumes below it and logs that', () => {
    const { watchdog, logger, scanner, drive } = setup();
    drive(13, 0.3);
    drive(13, 0.07); // under 10% but over the 5% resume level
    assert.equal(watchdog.status().throttled, true);
    drive(13, 0.01);
    assert.equal(watchdog.status().throttled, false);
    assert.deepEqual(scanner.calls, ['throttle', 'resume']);
    assert.ok(logger.lines.some((line) => line.level === 'info' && /back under budget/.test(line.message)));
  });

  it('keeps going when one service fails to throttle, and logs the failure', () => {
    const fake = new FakeProcess();
    const logger = recordingLogger();
    const good = new RecordingService('report');
    const bad: Throttleable = {
      name: 'broken',
      throttle: () => {
        throw new Error('cannot');
      },
      resume: () => undefined,
    };
    const watchdog = new CpuWatchdog({ logger }, { throttleables: [bad, good], cpuMicros: () => fake.cpuMicros, monotonicMs: () => fake.nowMs });
    watchdog.sample();
    for (let i = 0; i < 12; i++) {
      fake.run(1000, 0.5);
      watchdog.sample();
    }
    assert.deepEqual(good.calls, ['throttle']);
    assert.ok(logger.lines.some((line) => line.level === 'error'));
  });

  it('resumes throttled services on stop', () => {
    const { watchdog, scanner, drive } = setup();
    drive(13, 0.5);
    watchdog.stop();
    assert.deepEqual(scanner.calls, ['throttle', 'resume']);
    assert.equal(watchdog.status().throttled, false);
  });

  it('rejects a resume level above the limit', () => {
    assert.throws(() => new CpuWatchdog({ logger: recordingLogger() }, { limit: 0.1, resumeBelow: 0.2 }));
  });

  it('reads the real CPU time of this process by default: spent CPU throttles', () => {
    const logger = recordingLogger();
    const service = new RecordingService('detection');
    // Real cpuUsage, fake clock: the test spends 50 ms of CPU and says 100 ms passed, so the
    // outcome does not depend on how busy the machine is.
    let nowMs = 0;
    const watchdog = new CpuWatchdog({ logger }, { throttleables: [service], windowMs: 100, monotonicMs: () => nowMs });
    watchdog.sample();
    const start = process.cpuUsage();
    let spin = 0;
    for (;;) {
      spin++;
      const used = process.cpuUsage(start);
      if (used.user + used.system >= 50_000) break;
    }
    assert.ok(spin > 0);
    nowMs = 100;
    const usage = watchdog.sample();
    assert.ok(usage !== null && usage >= 0.5, `usage ${usage}`);
    assert.deepEqual(service.calls, ['throttle']);
    watchdog.stop();
  });
});
