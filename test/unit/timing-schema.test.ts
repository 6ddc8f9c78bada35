/**
 * The timing window's schema is its one owner: every field the aggregator computes is in it, a
 * report carries every one of them through the real store and report builder, and the log line
 * names each. (The view's table of them is checked in test/browser/transparency-view.test.ts.)
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { reportBodyProblems, type SignedReport } from '../../common/report';
import { flattenTimingWindow, projectTimingWindow, TIMING_FIELDS, timingValue, type TimingWindow } from '../../common/timing';
import { Aggregator } from '../../agent/input/aggregator';
import { FakeInputSource } from '../helpers/fake-input-source';
import { ReportBuilder } from '../../agent/report/report-builder';
import { listOutbox } from '../../agent/store/outbox';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { ReportSigner } from '../../protocol/report-crypto';
import { testContext } from '../helpers/agent-context';

/** A window from the real aggregator with typing, a tie, rollover and pointer motion in it, so no field is empty. */
async function busyWindow(): Promise<TimingWindow> {
  const aggregator = new Aggregator({ windowSeconds: 30, windowKeystrokes: 1000 });
  // Attribution runs beside the hook: some events of each class and origin.
  aggregator.attributionRunning = true;
  aggregator.acceptAttribution({ injectedKeyPresses: 1, deviceKeyPresses: 2, injectedPointerEvents: 3, devicePointerEvents: 4, injectedClicks: 5, deviceClicks: 6 });
  const source = new FakeInputSource();
  const started = await source.start((event) => aggregator.accept(event, 1_700_000_000_000 + (event.kind === 'keystroke' ? event.upTime : event.time)));
  assert.ok(started.ok);
  let t = 1000;
  for (let index = 0; index < 30; index++) {
    source.keyDown(30 + (index % 5), t);
    source.keyUp(30 + (index % 5), t + 70 + (index % 4) * 10);
    t += index % 6 === 0 ? 1 : 140;
  }
  source.keyDown(40, t);
  source.keyUp(40, t);
  for (let index = 0; index < 80; index++) source.move(100 + index * 3, 200 + index, t + 8 * index + (index % 9 === 0 ? 0 : 1));
  source.press(t + 700);
  source.wheel(t + 710);
  const window = aggregator.take();
  assert.ok(window);
  return window;
}

describe('timing window schema', () => {
  it('names every field once, with a label and a unit', () => {
    const names = TIMING_FIELDS.map((field) => field.name);
    assert.equal(new Set(names).size, names.length, 'flat names are unique');
    for (const field of TIMING_FIELDS) {
      assert.ok(field.label.length > 3, `${field.name} has a label`);
      assert.ok(field.unit, `${field.name} has a unit`);
    }
    // The detector's evidence is among them.
    for (const name of ['coincidentEvents', 'oneMsGaps', 'shortGaps', 'dwellP5', 'coincidentMoves', 'fastMoves']) assert.ok(names.includes(name), name);
  });

  it('the aggregator fills every schema field', async () => {
    const window = await busyWindow();
    const missing = TIMING_FIELDS.filter((field) => timingValue(window, field) === null).map((field) => field.name);
    assert.deepEqual(missing, []);
  });

  it('a report carries every field of every stored window, and nothing else', async (t) => {
    const ctx = testContext(t);
    const window = await busyWindow();
    insertTimingWindows(ctx.db, [{ ...window, keys: { ...window.keys, keyCode: 30 } } as never]);
    const builder = new ReportBuilder({ db: ctx.db, signer: new ReportSigner(crypto.generateKeyPairSync('ed25519').privateKey), agentVersion: '1.0.0', maxPending: 10 });
    builder.queue('device-1', ctx.clock.now(), false);
    const report = JSON.parse(listOutbox(ctx.db)[0]!.body!) as SignedReport;
    assert.deepEqual(reportBodyProblems(report.body), []);
    const sent = report.body.timing[0]!;
    for (const field of TIMING_FIELDS) assert.equal(timingValue(sent, field), timingValue(window, field), field.name);
    assert.deepEqual(sent, projectTimingWindow(window));
    assert.ok(!JSON.stringify(sent).includes('keyCode'));
  });

  it('the log line has one entry per field', async () => {
    const window = await busyWindow();
    const fields = flattenTimingWindow(window);
    assert.deepEqual(Object.keys(fields), TIMING_FIELDS.map((field) => field.name));
    assert.equal(fields.dwellMedian, window.keys.dwell?.median);
    assert.equal(fields.coincidentMoves, window.mouse.coincidentMoves);
  });
});
