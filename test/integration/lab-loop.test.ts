/**
 * The latency-in-the-loop lab at CI size: the closed-loop operator (lab/loop-operator.c) on the
 * operator display finds the squares of the target task (lab/loop-target.c) in the real TigerVNC
 * viewer's image, knowing its cursor only from the video (the IP-KVM variant), through the delay
 * proxy at 110 ms and real x11vnc, and must click them on the target display; the agent's real
 * capture on the target must hold times and step lengths only, never a position.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireTools } from '../helpers/tools';
import { LAB_TOOLS, startLab } from '../../lab/lab';
import { runLoop } from '../../lab/loop';
import { movementFeatures } from '../../lab/loop-features';

/** The only fields a captured pointer or click event may carry. */
const ALLOWED_FIELDS: Record<string, readonly string[]> = { mouseMove: ['kind', 'time', 'distance'], click: ['kind', 'time'] };

describe('latency-in-the-loop lab (closed-loop operator through TigerVNC, a 110 ms link and x11vnc)', () => {
  it('reaches the targets it sees through the viewer, and the capture holds no coordinates', { timeout: 120_000 }, async (t) => {
    if (!requireTools(t, LAB_TOOLS)) return;
    const lab = await startLab({ upstream: { delayMs: 110, jitterMs: 0 } });
    try {
      const targets = 3;
      const run = await runLoop(lab, { variant: 'kvm', seed: 5, targets, timeoutMs: 40_000 });
      assert.equal(run.hits, targets, 'every square was reached and clicked through the viewer');
      const clicks = run.events.filter((e) => e.kind === 'click');
      const moves = run.events.filter((e) => e.kind === 'mouseMove');
      assert.ok(clicks.length >= targets, `the clicks reached the target display (${clicks.length})`);
      assert.ok(moves.length >= 20 * targets, `the motion reached the target display (${moves.length} reports)`);
      for (const event of run.events) {
        const allowed = ALLOWED_FIELDS[event.kind];
        assert.ok(allowed !== undefined, `only pointer events were captured, got ${event.kind}`);
        assert.deepEqual(Object.keys(event).filter((key) => !allowed.includes(key)), [], `no other field on ${JSON.stringify(event)}`);
      }
      // Each reached square after the first is one measured movement.
      assert.ok(movementFeatures(run.events).length >= targets - 1, 'movements measured from the capture');
    } finally {
      await lab.stop();
    }
  });
});
