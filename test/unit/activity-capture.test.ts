/**
 * What a person watching is told: the activity log lines (findings opened and closed with their
 * severity, verdict changes) from the real event bus and VerdictService, and the truth about input
 * capture in the start line and the transparency view's data, and a banner that does not say "All
 * normal" while findings are open.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidResponse } from '../../common/ipc-contract';
import { logActivity, runningFields } from '../../agent/activity-log';
import { InputCaptureService } from '../../agent/input/input-capture-service';
import { createMemoryLogger } from '../../agent/log';
import { reconcileFindings } from '../../agent/store/findings';
import { VerdictService } from '../../agent/verdict/verdict-service';
import { ViewModel } from '../../agent/view/view-model';
import type { FindingObservation } from '../../common/findings';
import { testContext } from '../helpers/agent-context';
import { FakeInputSource } from '../helpers/fake-input-source';

const SESSION: FindingObservation = { key: 'session:vnc:5900', kind: 'remote-session-active', severity: 'high', title: 'A VNC session is connected', explanation: 'e', evidence: { port: 5900 } };
const INSTALLED: FindingObservation = { key: 'tool:x11vnc', kind: 'remote-tool-installed', severity: 'low', title: 'x11vnc is installed', explanation: 'e', evidence: {} };

function unwrap<T>(result: { ok: true; value: T } | { ok: false }): T {
  assert.ok(result.ok);
  return result.value;
}

describe('activity log', () => {
  it('logs each finding opened and closed with its severity, and each verdict change', (t) => {
    const logger = createMemoryLogger();
    const ctx = testContext(t, { logger });
    // Subscribed before the services start, as agent/cli.ts does.
    t.after(logActivity(ctx));
    const verdict = new VerdictService(ctx);
    verdict.start();
    t.after(() => verdict.stop());
    reconcileFindings(ctx.db, 'session', [SESSION], ctx.clock.now(), ctx.events);
    ctx.clock.advance(1000);
    reconcileFindings(ctx.db, 'session', [], ctx.clock.now(), ctx.events);
    const lines = logger.lines.map(({ level, message, fields }) => [level, message, fields.severity ?? null, fields.from ?? null, fields.to ?? null]);
    assert.deepEqual(lines, [
      ['warn', 'Finding opened', 'high', null, null],
      ['info', 'Verdict changed', null, 'none', 'medium'],
      ['info', 'Finding closed', 'high', null, null],
      ['info', 'Verdict changed', null, 'medium', 'none'],
    ]);
    assert.equal(logger.lines[0]!.fields.title, SESSION.title);
  });
});

describe('input capture state', () => {
  it('unavailable: the reason reaches the start line and the view, and capture is not listed as running', async (t) => {
    const ctx = testContext(t);
    const source = new FakeInputSource();
    source.startFailure = { code: 'UNSUPPORTED_PLATFORM', message: 'No X display (DISPLAY is not set)' };
    const capture = new InputCaptureService(ctx, source);
    const other = { name: 'sync', start: () => undefined, stop: () => undefined };
    assert.equal(runningFields([capture, other]).inputCapture, 'off', 'before start');
    await capture.start();
    t.after(() => capture.stop());
    assert.deepEqual(runningFields([capture, other]), { services: 'sync', inputCapture: 'unavailable', inputCaptureDetail: 'No X display (DISPLAY is not set).' });
    const model = new ViewModel(ctx, { mode: 'headless', capture: () => capture.status() });
    t.after(() => model.dispose());
    const timing = unwrap(model.getTiming({}));
    assert.deepEqual(timing.capture, { state: 'unavailable', detail: 'No X display (DISPLAY is not set).' });
    assert.ok(isValidResponse('getTiming', timing));
  });

  it('running: listed, and the view says so; without capture the view says it is off', async (t) => {
    const ctx = testContext(t);
    const capture = new InputCaptureService(ctx, new FakeInputSource());
    await capture.start();
    t.after(() => capture.stop());
    assert.equal(runningFields([capture]).services, 'input-capture');
    assert.equal(runningFields([capture]).inputCapture, 'running');
    assert.equal(unwrap(new ViewModel(ctx, { mode: 'headless', capture: () => capture.status() }).getTiming({})).capture.state, 'running');
    assert.equal(unwrap(new ViewModel(ctx, { mode: 'headless' }).getTiming({})).capture.state, 'off');
    assert.equal(runningFields([]).inputCapture, 'off');
  });
});

describe('status summary', () => {
  it('says "All normal" only when no finding is open', (t) => {
    const ctx = testContext(t);
    const model = new ViewModel(ctx, { mode: 'headless' });
    t.after(() => model.dispose());
    assert.match(model.status().summary, /^All normal/);
    reconcileFindings(ctx.db, 'tool', [INSTALLED], ctx.clock.now(), ctx.events);
    const status = model.status();
    assert.equal(status.state, 'ok', 'a low finding is not a reason for attention');
    assert.equal(status.openFindings, 1);
    assert.doesNotMatch(status.summary, /All normal/);
    assert.match(status.summary, /One minor finding is listed below and reported to IT/);
  });
});
