/**
 * The scan change gate on a real /proc, as PID 1 of its own PID + network namespace (the
 * integration test starts it under `unshare --pid --fork --mount-proc --net`), so other work on the
 * machine does not move the change token.
 *
 *   node --import tsx test/helpers/scan-change-scenario.ts
 * Prints one JSON line: { quietSkipped, plainChecked, plainScanned, toolFound, msToFinding, skippedScans }.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultProbes, DetectionService } from '../../agent/detect/detection-service';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { DEFAULT_POLICY } from '../../common/policy';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-scan-change-'));
const db = openDatabase(path.join(dir, 'agent.db'));
const probes = {
  ...defaultProbes('linux'),
  // Hardware is not what this scenario is about, and xrandr would need a display.
  readHardware: async () => ({ connectors: [], usb: [], xScreens: [] }) as never,
  hardwareToken: () => 'same',
};
const service = new DetectionService(
  { db, policy: DEFAULT_POLICY, clock: { now: () => Date.now() }, logger: { log: () => undefined }, dataDir: dir, agentVersion: 'test', events: new AgentEvents() },
  { platform: 'linux', probes },
);

await service.tick();
const quietBefore = service.skippedScans;
await service.scheduledTick();
await service.scheduledTick();
const quietSkipped = service.skippedScans - quietBefore;

/** A copy of sleep under `name`, started. */
async function startCopy(name: string) {
  const file = path.join(dir, name);
  fs.copyFileSync('/bin/sleep', file);
  fs.chmodSync(file, 0o755);
  const started = spawn(file, ['30'], { stdio: 'ignore' });
  await new Promise((resolve) => started.once('spawn', resolve));
  return started;
}

// A process that is no tool starts: the next period checks it alone and does not scan in full.
const plain = await startCopy('backup-job');
const scanBefore = service.lastToolScan;
await service.scheduledTick();
const plainChecked = service.newProcessChecks;
const plainScanned = service.lastToolScan !== scanBefore;

// A process named like a catalog tool (a copy of sleep called x11vnc) starts.
const child = await startCopy('x11vnc');
const started = performance.now();
// The next period's scheduled scan: the token moved, so it scans in full.
await service.scheduledTick();
const msToFinding = performance.now() - started;
const toolFound = service.lastToolScan?.tools.some((tool) => tool.processes.some((process) => process.pid === child.pid)) ?? false;
child.kill();
plain.kill();
db.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ quietSkipped, plainChecked, plainScanned, toolFound, msToFinding: Math.round(msToFinding), skippedScans: service.skippedScans }));
