/**
 * One report per tick: the period and heartbeat timers of the real ReportService, over the real
 * ReportBuilder and outbox, never queue two reports for the same moment, whether or not a finding is
 * open (the builder puts every open finding in every report, so an open finding is always "something
 * to report").
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { ReportBuilder } from '../../agent/report/report-builder';
import { ReportService } from '../../agent/report/report-service';
import { reconcileFindings } from '../../agent/store/findings';
import { listOutbox } from '../../agent/store/outbox';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { ReportSigner } from '../../protocol/report-crypto';
import { DEFAULT_POLICY } from '../../common/policy';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

function setup(t: TestContext, intervals: { reportSeconds: number; heartbeatSeconds: number }) {
  t.mock.timers.enable({ apis: ['setInterval', 'setImmediate'] });
  const ctx = testContext(t, { policy: { intervals: { ...DEFAULT_POLICY.intervals, ...intervals } } });
  const builder = new ReportBuilder({ db: ctx.db, signer: new ReportSigner(crypto.generateKeyPairSync('ed25519').privateKey), agentVersion: 'test', maxPending: 1000 });
  const service = new ReportService(ctx, { builder, deviceId: () => 'device-1' });
  t.after(() => service.stop());
  /** Advance the agent clock and the timers together by one second at a time; the kinds queued per second. */
  const run = (seconds: number): Map<number, string[]> => {
    const perSecond = new Map<number, string[]>();
    for (let second = 1; second <= seconds; second++) {
      const before = listOutbox(ctx.db).length;
      ctx.clock.advance(1000);
      t.mock.timers.tick(1000);
      t.mock.timers.tick(0); // the heartbeat's deferred decision
      const added = listOutbox(ctx.db).slice(before);
      if (added.length > 0) perSecond.set(second, added.map((entry) => entry.kind));
    }
    return perSecond;
  };
  return { ctx, service, run };
}

function openFinding(ctx: ReturnType<typeof testContext>): void {
  reconcileFindings(ctx.db, 'tool', [{ key: 'tool:x11vnc', kind: 'remote-tool-installed', severity: 'low', title: 'x11vnc is installed', explanation: 'e', evidence: {} }], ctx.clock.now());
}

describe('report service: one report per tick', () => {
  it('sends one report per period while a finding is open, with equal periods', (t) => {
    const { ctx, service, run } = setup(t, { reportSeconds: 60, heartbeatSeconds: 60 });
    openFinding(ctx);
    service.start();
    assert.equal(listOutbox(ctx.db).length, 1, 'the catch-up report at start');
    const ticks = run(600);
    assert.deepEqual([...ticks.keys()], [60, 120, 180, 240, 300, 360, 420, 480, 540, 600]);
    for (const [second, kinds] of ticks) assert.deepEqual(kinds, ['report'], `second ${second}`);
  });

  it('sends one report per moment when the heartbeat period divides the report period', (t) => {
    const { ctx, service, run } = setup(t, { reportSeconds: 120, heartbeatSeconds: 60 });
    openFinding(ctx);
    service.start();
    const ticks = run(480);
    // Every minute one report: on the even minutes the period report, on the odd ones the heartbeat
    // (which carries the open finding, so it is a report); never two on the even minutes.
    assert.deepEqual([...ticks.keys()], [60, 120, 180, 240, 300, 360, 420, 480]);
    for (const [second, kinds] of ticks) assert.deepEqual(kinds, ['report'], `second ${second}`);
  });

  it('with nothing open, reports what is new each period and beats only when quiet', (t) => {
    const { ctx, service, run } = setup(t, { reportSeconds: 60, heartbeatSeconds: 60 });
    service.start();
    assert.deepEqual(listOutbox(ctx.db).length, 0, 'nothing to report at start');
    service.heartbeatIfQuiet(); // as on enrollment
    assert.deepEqual(listOutbox(ctx.db).map((entry) => entry.kind), ['heartbeat']);
    const quiet = run(120);
    assert.deepEqual([...quiet.entries()], [[60, ['heartbeat']], [120, ['heartbeat']]]);
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now() - 5000)]);
    const busy = run(60);
    assert.deepEqual([...busy.entries()], [[60, ['report']]], 'the period report replaces the beat');
  });

  it('a heartbeat period longer than the report period: nothing new, nothing sent until the beat', (t) => {
    const { ctx, service, run } = setup(t, { reportSeconds: 60, heartbeatSeconds: 300 });
    service.start();
    service.heartbeatIfQuiet();
    assert.deepEqual([...run(600).entries()], [[300, ['heartbeat']], [600, ['heartbeat']]]);
    insertTimingWindows(ctx.db, [sampleWindow(ctx.clock.now() - 5000)]);
    assert.deepEqual([...run(60).entries()], [[60, ['report']]]);
  });

  it('an urgent report stands for the period report due next', (t) => {
    const { ctx, service, run } = setup(t, { reportSeconds: 60, heartbeatSeconds: 60 });
    openFinding(ctx);
    service.start();
    run(30);
    reconcileFindings(ctx.db, 'session', [{ key: 'session:vnc', kind: 'remote-session-active', severity: 'high', title: 'VNC session', explanation: 'e', evidence: {} }], ctx.clock.now(), ctx.events);
    const ticks = run(150);
    // The urgent report on the next turn (at 31 s), none at 60 s where the period report was due,
    // then one on the first tick (every 15 s) a period after it: 90 s, then 150 s.
    assert.deepEqual([...ticks.entries()], [[1, ['report']], [60, ['report']], [120, ['report']]]);
  });
});
