/**
 * Input path alone: the agent's InputCaptureService on the real hook (HookInputSource: uiohook,
 * hook boundary, aggregator, timing windows written to a real SQLite file), without the agent's
 * other services, so the input path's own cost can be told apart from periodic scans.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentContext } from '../../agent/context';
import { AgentEvents } from '../../agent/events';
import { HookInputSource } from '../../agent/input/hook-source';
import { InputCaptureService } from '../../agent/input/input-capture-service';
import { openDatabase } from '../../agent/store/database';
import { DEFAULT_POLICY } from '../../common/policy';
import { serve } from './protocol';

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-bench-capture-'));
  const db = openDatabase(path.join(dataDir, 'telltale.db'));
  const ctx: AgentContext = {
    db,
    policy: DEFAULT_POLICY,
    clock: { now: () => Date.now() },
    logger: { log: () => undefined },
    dataDir,
    agentVersion: '0.1.0-bench',
    events: new AgentEvents(),
  };
  const capture = new InputCaptureService(ctx, new HookInputSource());
  await capture.start();
  serve(
    { stats: () => ({ capturing: capture.isCapturing, events: capture.eventCount }) },
    async () => {
      await capture.stop();
      db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  );
}

// No top-level await: built as a CommonJS app bundle like the agent.
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
