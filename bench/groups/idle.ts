/**
 * Idle and Memory rows: the headless agent with the hook on and no input, against a bare Node
 * process (1 s no-op interval) for CPU and against bare Node with better-sqlite3, uiohook-napi
 * and systeminformation loaded for RSS.
 *
 * The three processes run at the same time on one Xvfb display, so every window sees the same
 * machine load. CPU comes from process.cpuUsage() inside each child (µs; /proc's 10 ms ticks are
 * too coarse for an idle process), RSS from /proc/<pid>/status at the end of each window.
 */
import { sleep, withWorkloads, type WorkloadSample } from '../lib/children';
import { withDisplay } from '../lib/display';
import type { Group } from '../lib/group';
import { descendantsRssKb } from '../lib/proc';
import { writeRendererDir } from '../lib/renderer';
import { spreadOf, type Row } from '../lib/summary';

const ROWS = [
  { name: 'Idle: agent CPU, hook on, no input', targetText: 'ratio ≤ 2' },
  { name: 'Memory: headless agent RSS, steady', targetText: '≤ 80 MB' },
] as const;

export const idleGroup: Group = {
  name: 'idle',
  rows: ROWS,
  async run(context) {
    // One window per scan period (policy default scanSeconds = 30): every full-length window holds
    // one tool scan, so the median is the steady idle cost, scans included, not a lucky quiet gap.
    const windowSeconds = context.seconds(30, 10);
    const settleSeconds = context.seconds(10, 6);
    const rendererDir = await writeRendererDir();
    return withDisplay((display) =>
      withWorkloads(
        [
          { name: 'agent', env: { ...display.env, BENCH_RENDERER_DIR: rendererDir }, stdout: 'ignore', flavor: 'app' },
          { name: 'bare-node', env: display.env, flavor: 'app' },
          { name: 'bare-modules', env: display.env, flavor: 'app' },
        ],
        async ([agent, bareNode, bareModules]) => {
          const stats = await agent!.request<{ capturing: boolean; services: string[] }>('stats');
          if (!stats.capturing) throw new Error('the agent did not start input capture on Xvfb');
          context.log(`idle: agent services ${stats.services.join(', ')}; settling ${settleSeconds} s`);
          await sleep(settleSeconds * 1000);
          const agentCpu: number[] = [];
          const bareCpu: number[] = [];
          const agentRss: number[] = [];
          const modulesRss: number[] = [];
          const helperRss: number[] = [];
          for (let run = 0; run < context.options.runs; run++) {
            const before = await Promise.all([agent!.sample(), bareNode!.sample()]);
            await sleep(windowSeconds * 1000);
            const after = await Promise.all([agent!.sample(), bareNode!.sample(), bareModules!.sample()]);
            const perMinute = (a: WorkloadSample, b: WorkloadSample): number => (b.cpuUs - a.cpuUs) / 1000 / (windowSeconds / 60);
            agentCpu.push(perMinute(before[0], after[0]));
            bareCpu.push(perMinute(before[1], after[1]));
            agentRss.push(after[0].vmRssKb / 1024);
            modulesRss.push(after[2].vmRssKb / 1024);
            helperRss.push(descendantsRssKb(agent!.pid) / 1024);
            context.log(`idle run ${run + 1}: agent ${agentCpu.at(-1)!.toFixed(1)} ms/min, bare ${bareCpu.at(-1)!.toFixed(1)} ms/min, agent RSS ${agentRss.at(-1)!.toFixed(0)} MB`);
          }
          const notes =
            `${windowSeconds} s windows (one per 30 s scan period at full length) after ${settleSeconds} s settle; mean agent CPU ${(agentCpu.reduce((a, b) => a + b, 0) / agentCpu.length).toFixed(0)} ms/min; all processes concurrently on one Xvfb; agent services: ${stats.services.join(', ')}; ` +
            `agent and baselines are CommonJS bundles with only native modules external, built like dist/agent-cli (what \`npm run agent\` runs); ` +
            `the agent's child processes hold another ${spreadOf(helperRss).median.toFixed(0)} MB RSS (not in the figure)`;
          const rows: Row[] = [
            {
              status: 'measured', group: 'idle', name: ROWS[0].name, unit: 'ms CPU/min', figure: spreadOf(agentCpu),
              baselineName: 'bare node', baseline: spreadOf(bareCpu), target: { kind: 'ratioAtMost', value: 2 }, notes,
            },
            {
              status: 'measured', group: 'idle', name: ROWS[1].name, unit: 'MB', figure: spreadOf(agentRss),
              baselineName: 'node + 3 deps', baseline: spreadOf(modulesRss), target: { kind: 'atMost', value: 80, unit: 'MB' }, notes,
            },
          ];
          return rows;
        },
      ),
    );
  },
};
