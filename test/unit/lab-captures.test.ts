import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capturedStamped, describeLink, sameReplay, type CaptureItem } from '../../lab/captures';
import { x11vncArgs } from '../../lab/lab';

const ITEM: CaptureItem = { label: 'keys-d110-j20-u21-45s', modality: 'keys', route: 'remote', delayMs: 110, jitterMs: 20, user: 21, session: 4, durationMs: 45_000 };

describe('lab capture cache', () => {
  it('reuses a cached capture only for the same replay', () => {
    assert.equal(sameReplay(ITEM, { ...ITEM }), true);
    assert.equal(sameReplay(ITEM, { ...ITEM, x11vnc: 'tuned' }), true, 'captures from before the x11vnc option were tuned');
    assert.equal(sameReplay(ITEM, { ...ITEM, durationMs: 30_000 }), false, 'a 45 s capture never stands in for a 30 s one');
    assert.equal(sameReplay(ITEM, { ...ITEM, x11vnc: 'default' }), false);
    assert.equal(sameReplay(ITEM, { ...ITEM, tool: 'vnc' }), true, 'captures from before the tool option were VNC');
    assert.equal(sameReplay(ITEM, { ...ITEM, tool: 'rdp' }), false);
    assert.equal(sameReplay(ITEM, { ...ITEM, jitterMs: 10 }), false);
    assert.equal(sameReplay(ITEM, { ...ITEM, user: 19 }), false);
    assert.equal(sameReplay(ITEM, { ...ITEM, viewer: 'tigervnc', jitter: 'exponential', cpuHog: false }), true, 'older captures: TigerVNC, exponential jitter, no hog');
    assert.equal(sameReplay(ITEM, { ...ITEM, viewer: 'tightvnc' }), false);
    assert.equal(sameReplay(ITEM, { ...ITEM, jitter: 'normal' }), false);
    assert.equal(sameReplay(ITEM, { ...ITEM, rateKbps: 256 }), false);
    assert.equal(sameReplay(ITEM, { ...ITEM, cpuHog: true }), false);
  });

  it("names links and keeps the load guard's inputs beside each captured event", () => {
    assert.deepEqual(describeLink({ jitterMs: 25, jitter: 'normal', rateKbps: 256 }), { jitter: '25 normal', cap: '256 kbit/s' });
    assert.deepEqual(describeLink({ jitterMs: 0, rateKbps: 1000 }), { jitter: '0', cap: '1 Mbit/s' });
    const events = [
      { kind: 'mouseMove', time: 10, distance: null },
      { kind: 'mouseMove', time: 18, distance: 3 },
    ] as const;
    const stamped = capturedStamped({ events, deliveryDelaysMs: [0, 70], loopDelays: [{ index: 1, ms: 40 }, { index: 1, ms: 150 }] });
    assert.deepEqual(stamped, [
      { event: events[0], deliveryDelayMs: 0 },
      { event: events[1], deliveryDelayMs: 70, loopDelayMs: 150 },
    ]);
    assert.deepEqual(capturedStamped({ events }).map((s) => s.deliveryDelayMs), [0, 0], 'older captures: no delays known');
  });

  it('runs x11vnc latency-tuned or at its own input defaults', () => {
    const tuned = x11vncArgs('tuned').join(' ');
    const plain = x11vncArgs('default').join(' ');
    assert.match(tuned, /-defer 0 -wait 1 -nowait_bog -nonap -sb 0/);
    assert.doesNotMatch(plain, /-defer|-wait|-nowait_bog|-nonap|-sb/);
    assert.match(plain, /-noxrecord/, 'the capture-related settings stay the same in both modes');
  });
});
