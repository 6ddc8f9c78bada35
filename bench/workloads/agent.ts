/**
 * The headless agent as `npm run agent` runs it: Agent.create with every service createServices
 * builds (real hook, real SQLite in a temporary data folder, JSON log lines on stdout), started.
 * Managed policy is pointed at a path that does not exist so the machine's own policy is not read.
 * BENCH_RENDERER_DIR, when set, is a built renderer folder for the transparency view: the bundled
 * variant needs it because a bundle cannot find renderer/ relative to its own file.
 * BENCH_XI2_HELPER, when set, is the X11 attribution helper to run (dist/native/telltale-xi2), for
 * the same reason: the bundle does not sit where the agent looks for it. BENCH_XI2_POINTER_MOTION=1
 * runs it as policy `injectedInput.pointerMotion: true` does (XInput2 raw motion selected).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent } from '../../agent/agent';
import { X11AttributionSource } from '../../agent/input/attribution/x11';
import type { InputCaptureService } from '../../agent/input/input-capture-service';
import { serve } from './protocol';

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-bench-agent-'));
  const rendererDir = process.env.BENCH_RENDERER_DIR;
  const helper = process.env.BENCH_XI2_HELPER;
  const created = await Agent.create({
    ...(helper ? { attributionSource: new X11AttributionSource(process.env, helper, { pointerMotion: process.env.BENCH_XI2_POINTER_MOTION === '1' }) } : {}),
    dataDir,
    managedPolicyPath: path.join(dataDir, 'no-managed-policy.json'),
    ...(rendererDir ? { view: { rendererDir } } : {}),
  });
  if (!created.ok) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`Agent.create failed: ${created.error.code}: ${created.error.message}`);
  }
  const agent = created.value;
  try {
    await agent.start();
  } catch (error) {
    await agent.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const capture = agent.service<InputCaptureService>('input-capture');

  serve(
    {
      stats: () => ({
        capturing: capture?.isCapturing ?? false,
        attributing: capture?.isAttributing ?? false,
        events: capture?.eventCount ?? 0,
        services: agent.services.map((service) => service.name),
      }),
    },
    async () => {
      await agent.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    { services: agent.services.map((service) => service.name) },
  );
}

// No top-level await: this workload is also built as a CommonJS bundle, like dist/agent-cli.
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
