import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameReplay, type CaptureItem } from '../../lab/captures';
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
  });

  it('runs x11vnc latency-tuned or at its own input defaults', () => {
    const tuned = x11vncArgs('tuned').join(' ');
    const plain = x11vncArgs('default').join(' ');
    assert.match(tuned, /-defer 0 -wait 1 -nowait_bog -nonap -sb 0/);
    assert.doesNotMatch(plain, /-defer|-wait|-nowait_bog|-nonap|-sb/);
    assert.match(plain, /-noxrecord/, 'the capture-related settings stay the same in both modes');
  });
});
