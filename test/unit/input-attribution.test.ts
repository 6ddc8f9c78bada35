/**
 * Injected-input attribution: each OS module's decision logic against fixtures
 * (test/fixtures/attribution/, see its SOURCE.md: the X11 XTEST lines are recorded, the X11 device
 * lines and the Windows/macOS records are synthesized, since neither a physical X input device nor
 * Windows or macOS is available here), then the detector's pooling, thresholds and policy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AttributionTally, type AttributedEvent, type AttributionCounts } from '../../agent/input/attribution/attribution-source';
import { attributeDarwin, parseDarwinEventRecord } from '../../agent/input/attribution/darwin';
import {
  HOLD_MS,
  InjectedInputDetector,
  isInjected,
  matchesAllowedProgram,
  poolAttribution,
} from '../../agent/input/attribution/injected-input-detector';
import { attributeWin32, parseWin32HookRecord } from '../../agent/input/attribution/win32';
import { parseX11Line, x11HelperCandidates, X11AttributionSource } from '../../agent/input/attribution/x11';
import { InputCaptureService } from '../../agent/input/input-capture-service';
import { createMemoryLogger } from '../../agent/log';
import { FakeInputSource } from '../helpers/fake-input-source';
import type { ProcessInfo } from '../../agent/detect/processes/process-info';
import { listOpenFindings, reconcileFindings } from '../../agent/store/findings';
import type { TimingWindow } from '../../common/timing';
import { testContext } from '../helpers/agent-context';
import { sampleWindow } from '../helpers/sample-window';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'attribution');

function fixtureLines(name: string): string[] {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8').split('\n').filter((line) => line.trim() !== '');
}

function tally(events: readonly (AttributedEvent | null)[]): AttributionCounts {
  const counts = new AttributionTally();
  for (const event of events) if (event !== null) counts.add(event);
  return counts.take();
}

function sum(lines: readonly (AttributionCounts | null)[]): AttributionCounts {
  const counts = new AttributionTally();
  for (const line of lines) if (line !== null) counts.addCounts(line);
  return counts.take();
}

function counts(keys: [number, number], pointer: [number, number], clicks: [number, number]): AttributionCounts {
  return {
    injectedKeyPresses: keys[0],
    deviceKeyPresses: keys[1],
    injectedPointerEvents: pointer[0],
    devicePointerEvents: pointer[1],
    injectedClicks: clicks[0],
    deviceClicks: clicks[1],
  };
}

describe('attribution decision logic per OS', () => {
  it('X11: recorded XTEST helper output is all injected, releases not counted', () => {
    const lines = fixtureLines('x11-xtest-recorded.txt').map(parseX11Line);
    // Key a and b, three motions and a wheel notch, one click (button 1).
    assert.deepEqual(sum(lines), counts([2, 0], [4, 0], [1, 0]));
  });

  it('X11: device counts are kept apart, malformed lines are skipped', () => {
    const lines = fixtureLines('x11-device-synthesized.txt').map(parseX11Line);
    assert.equal(lines.filter((line) => line === null).length, 5, 'ready, garbage, a short line, a negative count, an event-style line');
    assert.deepEqual(sum(lines), counts([1, 2], [0, 3], [0, 2]));
  });

  it('X11: the helper is looked for beside the bundle, in the sources tree, and outside the asar', () => {
    const [bundle, sources] = x11HelperCandidates('/opt/Telltale/resources/app.asar/dist/agent-host');
    assert.equal(bundle, '/opt/Telltale/resources/app.asar.unpacked/dist/native/telltale-xi2');
    assert.ok(sources!.endsWith(path.join('dist', 'native', 'telltale-xi2')));
  });

  it('Windows: LLKHF_INJECTED, LLKHF_LOWER_IL_INJECTED and LLMHF_INJECTED mark injected input; releases are not counted', () => {
    const records = fixtureLines('win32-hook-records.jsonl').map(parseWin32HookRecord);
    const events = records.map(attributeWin32);
    assert.equal(events.filter((event) => event === null).length, 3, 'two key releases and a button release');
    // Keys: plain, extended and Alt presses are device; 0x10, 0x12 and 0x11 are injected.
    assert.deepEqual(tally(events), counts([3, 3], [2, 2], [2, 1]));
    assert.throws(() => parseWin32HookRecord('{"hook":"pen","message":1,"flags":0}'), /hook must be/);
    assert.throws(() => parseWin32HookRecord('{"hook":"mouse","message":"0x200","flags":"x"}'), /flags is not a non-negative integer/);
  });

  it('macOS: anything not posted by the HID system, or carrying a process id, is injected', () => {
    const events = fixtureLines('darwin-events.jsonl').map(parseDarwinEventRecord).map(attributeDarwin);
    assert.equal(events.filter((event) => event === null).length, 3, 'key up, flags changed, mouse up');
    // A program posting under the HID state is still caught by its process id.
    assert.deepEqual(tally(events), counts([3, 1], [1, 3], [1, 1]));
    assert.throws(() => parseDarwinEventRecord('{"type":10,"sourceStateId":"1","sourcePid":0}'), /sourceStateId is not an integer/);
  });
});

function attributed(startedAt: number, keys: [number, number], pointer: [number, number] = [0, 0]): TimingWindow {
  const window = sampleWindow(startedAt);
  return {
    ...window,
    keys: { ...window.keys, injectedKeyPresses: keys[0], deviceKeyPresses: keys[1] },
    mouse: { ...window.mouse, injectedPointerEvents: pointer[0], devicePointerEvents: pointer[1], injectedClicks: 0, deviceClicks: 0 },
  };
}

function processInfo(name: string, exe: string | null = null): ProcessInfo {
  return { pid: 1, ppid: null, uid: null, name, exe, argv0: null, script: null, startedAt: null };
}

describe('attribution is optional', () => {
  it('a missing or failing helper is one warning line; timing capture runs on without attribution', async (t) => {
    for (const [helper, reason] of [
      ['/nonexistent/telltale-xi2', /helper telltale-xi2 is not installed/],
      ['/bin/false', /telltale-xi2 exited \(code 1\)/],
    ] as const) {
      const logger = createMemoryLogger();
      const ctx = testContext(t, { logger });
      const capture = new InputCaptureService(ctx, new FakeInputSource(), new X11AttributionSource({ DISPLAY: ':0' }, helper));
      await capture.start();
      t.after(() => capture.stop());
      assert.equal(capture.isCapturing, true);
      assert.equal(capture.isAttributing, false);
      const warnings = logger.lines.filter((line) => line.level === 'warn');
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0]!.message, 'Input attribution is unavailable; the agent runs without it');
      assert.match(String(warnings[0]!.fields.reason), reason);
    }
  });
});

describe('injected-input detector', () => {
  it('calls a modality injected only when enough of it is injected and injected input is the majority', () => {
    assert.equal(isInjected({ modality: 'keys', injected: 8, device: 7 }), true);
    assert.equal(isInjected({ modality: 'keys', injected: 8, device: 8 }), false, 'half is not a majority');
    assert.equal(isInjected({ modality: 'keys', injected: 7, device: 0 }), false, 'too few to judge');
    assert.equal(isInjected({ modality: 'pointer', injected: 39, device: 0 }), false);
    assert.equal(isInjected({ modality: 'pointer', injected: 40, device: 0 }), true);
    const pooled = poolAttribution([attributed(0, [3, 1], [10, 2]), attributed(1000, [5, 0], [30, 0]), sampleWindow(2000)]);
    assert.deepEqual(pooled.keys, { modality: 'keys', injected: 8, device: 1 });
    assert.deepEqual(pooled.pointer, { modality: 'pointer', injected: 40, device: 2 });
  });

  it('matches allowed programs by base name, case and .exe aside', () => {
    assert.equal(matchesAllowedProgram(processInfo('OSK.EXE'), ['osk.exe']), 'osk');
    assert.equal(matchesAllowedProgram(processInfo('python3', '/usr/bin/onboard'), ['onboard']), 'onboard');
    assert.equal(matchesAllowedProgram(processInfo('onboardx'), ['onboard']), null);
  });

  it('opens a high injected-input finding for injected typing and closes it after the hold time', async (t) => {
    const ctx = testContext(t);
    const detector = new InjectedInputDetector(ctx, async () => []);
    detector.start();
    t.after(() => detector.stop());
    // A person types (device presses only): nothing.
    ctx.events.emit('windowFlushed', { id: 1, window: attributed(ctx.clock.now(), [0, 10]) });
    await detector.settled();
    assert.deepEqual(listOpenFindings(ctx.db), []);
    // A program types.
    ctx.clock.advance(30_000);
    ctx.events.emit('windowFlushed', { id: 2, window: attributed(ctx.clock.now(), [30, 0]) });
    await detector.settled();
    const [finding] = listOpenFindings(ctx.db);
    assert.equal(finding?.kind, 'injected-input');
    assert.equal(finding.severity, 'high');
    assert.equal(finding.title, 'Keyboard input on this computer is being typed by a program, not a keyboard');
    // Pooled with the person's window 30 s before: 30 of 40 presses injected, counts only.
    assert.deepEqual(finding.evidence, { modality: 'keys', injected: 30, device: 10, share: 0.75, spanSeconds: 31 });
    // Windows without attribution (attribution not running) are no evidence either way.
    ctx.clock.advance(HOLD_MS + 1000);
    ctx.events.emit('windowFlushed', { id: 3, window: sampleWindow(ctx.clock.now()) });
    await detector.settled();
    assert.equal(listOpenFindings(ctx.db).length, 1);
    // A clean attributed window after the hold time closes it.
    ctx.events.emit('windowFlushed', { id: 4, window: attributed(ctx.clock.now(), [0, 30]) });
    await detector.settled();
    assert.deepEqual(listOpenFindings(ctx.db), []);
  });

  it('opens nothing while an allowed program runs, and logs why', async (t) => {
    const ctx = testContext(t, { policy: { injectedInput: { allowedPrograms: ['onboard'], approvedToolsMayInject: true, pointerMotion: false } } });
    let listed = 0;
    const detector = new InjectedInputDetector(ctx, async () => {
      listed++;
      return [processInfo('bash'), processInfo('onboard', '/usr/bin/onboard')];
    });
    detector.start();
    t.after(() => detector.stop());
    ctx.events.emit('windowFlushed', { id: 1, window: attributed(ctx.clock.now(), [30, 0]) });
    await detector.settled();
    assert.deepEqual(listOpenFindings(ctx.db), []);
    assert.equal(listed, 1);
  });

  it('lets an approved tool inject, unless an unapproved remote tool is open too, and only when the policy says so', async (t) => {
    for (const approvedToolsMayInject of [true, false]) {
      const ctx = testContext(t, { policy: { injectedInput: { allowedPrograms: [], approvedToolsMayInject, pointerMotion: false } } });
      const detector = new InjectedInputDetector(ctx, async () => assert.fail('no allowed programs: processes are not listed'));
      detector.start();
      t.after(() => detector.stop());
      const approved = { key: 'tool:zoom:approved', kind: 'approved-tool', severity: 'info', title: 'Zoom (approved)', explanation: 'e', evidence: {} } as const;
      reconcileFindings(ctx.db, 'tool', [approved], ctx.clock.now());
      ctx.events.emit('windowFlushed', { id: 1, window: attributed(ctx.clock.now(), [0, 0], [60, 0]) });
      await detector.settled();
      const opened = listOpenFindings(ctx.db).filter((finding) => finding.kind === 'injected-input');
      assert.equal(opened.length, approvedToolsMayInject ? 0 : 1, `approvedToolsMayInject ${approvedToolsMayInject}`);
      if (!approvedToolsMayInject) {
        assert.equal(opened[0]!.severity, 'medium', 'pointer injection alone is medium');
        continue;
      }
      const session = { key: 'tool:anydesk:session:1', kind: 'remote-session-active', severity: 'high', title: 'AnyDesk session', explanation: 'e', evidence: {} } as const;
      reconcileFindings(ctx.db, 'tool', [approved, session], ctx.clock.now());
      ctx.events.emit('windowFlushed', { id: 2, window: attributed(ctx.clock.now(), [0, 0], [60, 0]) });
      await detector.settled();
      assert.equal(listOpenFindings(ctx.db).filter((finding) => finding.kind === 'injected-input').length, 1, 'an unapproved session too: not excused');
    }
  });
});
