/**
 * Input path row: agent CPU per 1,000 input events under real hook load, against uiohook-napi
 * alone with a counting listener.
 *
 * Xvfb with a focused xterm, the lab's injector (lab/injector.c) sending about 10 key taps/s and
 * 200 pointer moves/s. The bare hook and the full headless agent run at the same time and see the
 * same X event stream, so both pay the same machine load; events are counted by the bare hook.
 * The agent runs with its XInput2 attribution helper (dist/native/telltale-xi2, when built); the
 * helper is a separate process, so its CPU is read from /proc and reported on its own row and
 * added to the agent's on another.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, sleep, withWorkloads } from '../lib/children';
import { descendants, readProcCpu } from '../lib/proc';
import { withDisplay } from '../lib/display';
import type { Group } from '../lib/group';
import { injectLoad, requireInjector } from '../lib/injector';
import { writeRendererDir } from '../lib/renderer';
import { spreadOf, type Row } from '../lib/summary';

const ROWS = [
  { name: 'Input path: agent CPU per 1,000 events', targetText: 'ratio ≤ 1.2' },
  { name: 'Input path: capture service alone, CPU per 1,000 events', targetText: '— (ratio ≤ 1.2 for reference)' },
  { name: 'Agent CPU under input load, sustained over the window', targetText: '≤ 10 % of a core' },
  { name: 'Input path: attribution helper (telltale-xi2), CPU per 1,000 events', targetText: '—' },
  { name: 'Input path: agent plus attribution helper, CPU per 1,000 events', targetText: '— (ratio ≤ 1.2 for reference)' },
] as const;

const XI2_HELPER = path.join(REPO_ROOT, 'dist', 'native', 'telltale-xi2');

/** The agent's attribution helper process, or null when it does not run. */
function helperPid(agentPid: number): number | null {
  for (const pid of descendants(agentPid)) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'telltale-xi2') return pid;
    } catch {
      // Exited while we looked.
    }
  }
  return null;
}

export const inputGroup: Group = {
  name: 'input',
  rows: ROWS,
  async run(context) {
    // 12 s: the window of the issue's "under 10% of a core sustained over 12 s" target.
    const seconds = context.seconds(12, 5);
    requireInjector();
    const load = { seconds, keysPerSecond: 10, movesPerSecond: 200 };
    const rendererDir = await writeRendererDir();
    return withDisplay((display) =>
      withWorkloads(
        [
          {
            name: 'agent',
            env: { ...display.env, BENCH_RENDERER_DIR: rendererDir, ...(fs.existsSync(XI2_HELPER) ? { BENCH_XI2_HELPER: XI2_HELPER } : {}) },
            stdout: 'ignore',
            flavor: 'app',
          },
          { name: 'bare-hook', env: display.env, flavor: 'app' },
          { name: 'input-capture', env: display.env, flavor: 'app' },
        ],
        async ([agent, bareHook, capture]) => {
          const stats = await agent!.request<{ capturing: boolean; attributing: boolean }>('stats');
          if (!stats.capturing) throw new Error('the agent did not start input capture on Xvfb');
          const helper = stats.attributing ? helperPid(agent!.pid) : null;
          if (helper === null) context.log('input: the attribution helper is not running (not built?): its rows are left out');
          await sleep(context.seconds(8, 5) * 1000);
          // Unmeasured warm-up pass: JIT, the agent's first window flush, X server caches.
          await injectLoad({ ...load, seconds: 2 }, display.env, 60_000);
          await sleep(500);
          const agentCost: number[] = [];
          const bareCost: number[] = [];
          const captureCost: number[] = [];
          const agentShare: number[] = [];
          const bareShare: number[] = [];
          const lateness: number[] = [];
          const received: number[] = [];
          const helperCost: number[] = [];
          const agentWithHelperCost: number[] = [];
          for (let run = 0; run < context.options.runs; run++) {
            const countBefore = await bareHook!.request<number>('count');
            const agentEventsBefore = (await agent!.request<{ events: number }>('stats')).events;
            const before = await Promise.all([agent!.sample(), bareHook!.sample(), capture!.sample()]);
            const helperBefore = helper === null ? null : readProcCpu(helper);
            const windowStart = performance.now();
            const sent = await injectLoad(load, display.env, (seconds + 30) * 1000);
            // Let the last events drain through the hook threads before reading CPU.
            await sleep(300);
            const after = await Promise.all([agent!.sample(), bareHook!.sample(), capture!.sample()]);
            const helperAfter = helper === null ? null : readProcCpu(helper);
            const windowMs = performance.now() - windowStart;
            agentShare.push(((after[0].cpuUs - before[0].cpuUs) / 1000 / windowMs) * 100);
            bareShare.push(((after[1].cpuUs - before[1].cpuUs) / 1000 / windowMs) * 100);
            const events = (await bareHook!.request<number>('count')) - countBefore;
            const agentEvents = (await agent!.request<{ events: number }>('stats')).events - agentEventsBefore;
            if (events < sent.events * 0.5) throw new Error(`the hook saw ${events} of ${sent.events} injected events`);
            agentCost.push((after[0].cpuUs - before[0].cpuUs) / 1000 / (events / 1000));
            bareCost.push((after[1].cpuUs - before[1].cpuUs) / 1000 / (events / 1000));
            captureCost.push((after[2].cpuUs - before[2].cpuUs) / 1000 / (events / 1000));
            if (helperBefore !== null && helperAfter !== null) {
              // /proc counts 10 ms ticks: a run's helper figure is good to about 10 ms / (events / 1000).
              const helperMs = helperAfter.selfMs - helperBefore.selfMs;
              helperCost.push(helperMs / (events / 1000));
              agentWithHelperCost.push(agentCost.at(-1)! + helperMs / (events / 1000));
            }
            lateness.push(sent.maxLateUs / 1000);
            received.push(events);
            context.log(
              `input run ${run + 1}: ${events} raw events (${agentEvents} agent events), agent ${agentCost.at(-1)!.toFixed(1)} ms/1k, capture only ${captureCost.at(-1)!.toFixed(1)} ms/1k, bare ${bareCost.at(-1)!.toFixed(1)} ms/1k, helper ${helperCost.length > 0 ? `${helperCost.at(-1)!.toFixed(1)} ms/1k` : 'not running'}, injector worst lateness ${lateness.at(-1)!.toFixed(1)} ms`,
            );
          }
          const notes = `${seconds} s of 10 keys/s + 200 moves/s per run (~${Math.round(spreadOf(received).median)} raw hook events); agent, capture-only process and bare hook run concurrently on the same display; the agent's 30 s detection scans fall into some windows (they show in the max); injector worst lateness median ${spreadOf(lateness).median.toFixed(1)} ms`;
          const helperRows: Row[] =
            helperCost.length === 0
              ? []
              : [
                  {
                    status: 'measured', group: 'input', name: ROWS[3].name, unit: 'ms CPU/1k', figure: spreadOf(helperCost),
                    baselineName: 'bare uiohook', baseline: spreadOf(bareCost), target: { kind: 'info' }, targetText: ROWS[3].targetText,
                    notes: `${notes}; helper CPU from /proc (10 ms ticks)`,
                  },
                  {
                    status: 'measured', group: 'input', name: ROWS[4].name, unit: 'ms CPU/1k', figure: spreadOf(agentWithHelperCost),
                    baselineName: 'bare uiohook', baseline: spreadOf(bareCost), target: { kind: 'info' }, targetText: ROWS[4].targetText, notes,
                  },
                ];
          const rows: Row[] = [
            {
              status: 'measured', group: 'input', name: ROWS[0].name, unit: 'ms CPU/1k', figure: spreadOf(agentCost),
              baselineName: 'bare uiohook', baseline: spreadOf(bareCost), target: { kind: 'ratioAtMost', value: 1.2 }, notes,
            },
            {
              status: 'measured', group: 'input', name: ROWS[1].name, unit: 'ms CPU/1k', figure: spreadOf(captureCost),
              baselineName: 'bare uiohook', baseline: spreadOf(bareCost), target: { kind: 'info' }, targetText: ROWS[1].targetText, notes,
            },
            {
              status: 'measured', group: 'input', name: ROWS[2].name, unit: '% of a core', figure: spreadOf(agentShare),
              baselineName: 'bare uiohook', baseline: spreadOf(bareShare), target: { kind: 'atMost', value: 10, unit: '% of a core' }, notes,
            },
            ...helperRows,
          ];
          return rows;
        },
      ),
    );
  },
};
