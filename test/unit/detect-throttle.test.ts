/**
 * The CPU watchdog's hold on scanning: a throttled DetectionService scans once per
 * THROTTLED_SCAN_EVERY periods, and at the normal rate again after resume. Timers are Node's mock
 * timers; the probes are the real Linux ones with the process list counted.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { defaultProbes, DetectionService, THROTTLED_SCAN_EVERY } from '../../agent/detect/detection-service';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { CpuWatchdog } from '../../agent/watchdog';
import { DEFAULT_POLICY } from '../../common/policy';

describe('detection under the CPU watchdog', () => {
  it('scans once per THROTTLED_SCAN_EVERY periods while throttled, every period otherwise', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-throttle-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    let scans = 0;
    const probes = {
      ...defaultProbes('linux'),
      listProcesses: async () => {
        scans++;
        return [];
      },
      listSockets: async () => [],
      // No behaviour scan: it would probe the host's real sockets, and its network waits are not timers.
      behaviour: undefined,
      pathExists: () => false,
      readHardware: async () => ({ connectors: [], usb: [], xScreens: [] }) as never,
      hardwareToken: () => 'same',
      // Every period scans here: the change gate has its own test (detect-scan-change.test.ts).
      readScanChange: undefined,
    };
    const context = {
      db,
      policy: DEFAULT_POLICY,
      clock: { now: () => 1_000_000 },
      logger: { log: () => undefined },
      dataDir: dir,
      agentVersion: 'test',
      events: new AgentEvents(),
    };
    const service = new DetectionService(context, { platform: 'linux', probes });
    const period = DEFAULT_POLICY.intervals.scanSeconds * 1000;
    t.mock.timers.enable({ apis: ['setInterval'] });
    // Let a scan started by a timer finish (its probes are promises; setImmediate is not mocked).
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    service.start();
    await settle();
    assert.equal(scans, 1, 'one scan at start');
    for (let i = 0; i < 3; i++) {
      t.mock.timers.tick(period);
      await settle();
    }
    assert.equal(scans, 4, 'one scan per period');

    // Over budget: the watchdog throttles the service it was given.
    let cpu = 0;
    let clock = 0;
    const watchdog = new CpuWatchdog(context, { throttleables: [service], cpuMicros: () => cpu, monotonicMs: () => clock });
    for (let second = 0; second <= 12; second++) {
      clock = second * 1000;
      cpu = second * 500_000; // half a core
      watchdog.sample();
    }
    assert.equal(service.isThrottled, true);
    const before = scans;
    for (let i = 0; i < THROTTLED_SCAN_EVERY * 2; i++) {
      t.mock.timers.tick(period);
      await settle();
    }
    assert.equal(scans - before, 2, `one scan per ${THROTTLED_SCAN_EVERY} periods while throttled`);

    service.resume();
    const resumed = scans;
    for (let i = 0; i < 2; i++) {
      t.mock.timers.tick(period);
      await settle();
    }
    assert.equal(scans - resumed, 2, 'every period again after resume');
    await service.stop();
  });
});
