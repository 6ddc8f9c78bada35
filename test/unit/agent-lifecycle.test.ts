import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Agent } from '../../agent/agent';
import { FakeInputSource } from '../helpers/fake-input-source';
import type { InputCaptureService } from '../../agent/input/input-capture-service';
import type { TimingDetectorService } from '../../agent/timing-detector/timing-detector-service';
import { createMemoryLogger } from '../../agent/log';
import { openDatabase } from '../../agent/store/database';
import { listTimingWindows } from '../../agent/store/timing-windows';
import { manualClock } from '../helpers/agent-context';
import { tempDir } from '../helpers/temp-dir';

describe('Agent', () => {
  it('creates, starts services in order, captures, and on stop flushes, checkpoints and closes', async (t) => {
    const dir = tempDir(t);
    const source = new FakeInputSource();
    const logger = createMemoryLogger();
    const created = await Agent.create({
      dataDir: dir,
      managedPolicyPath: path.join(dir, 'no-managed-policy.json'),
      inputSource: source,
      logger,
      clock: manualClock(),
    });
    assert.ok(created.ok, JSON.stringify(!created.ok && created.error));
    const agent = created.value;
    t.after(() => agent.stop());
    assert.equal(agent.policySource, 'defaults');
    assert.equal(agent.databasePath, path.join(dir, 'telltale.db'));
    // Input capture and retention come first; other engineers' services are appended after them.
    assert.deepEqual(
      agent.services.map((service) => service.name).slice(0, 2),
      ['input-capture', 'retention'],
    );
    await agent.start();
    assert.equal(source.started, true);
    assert.equal(agent.service<InputCaptureService>('input-capture')?.isCapturing, true);
    const flushed: number[] = [];
    agent.context.events.on('windowFlushed', ({ id }) => flushed.push(id));
    source.tap(30, 0, 90);
    source.tap(48, 200, 260);
    await agent.stop();
    assert.equal(flushed.length, 1, 'stop flushed the open window');
    assert.equal(agent.context.db.open, false);
    assert.equal(fs.existsSync(`${agent.databasePath}-wal`) ? fs.statSync(`${agent.databasePath}-wal`).size : 0, 0, 'WAL truncated');
    await agent.stop(); // idempotent

    const db = openDatabase(agent.databasePath);
    t.after(() => db.close());
    const rows = listTimingWindows(db);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.window.keys.keystrokes, 2);
    assert.equal(rows[0]?.window.keys.flight?.median, 200);
  });

  it('on stop, the open window is stored and scored by the timing detector before it stops', async (t) => {
    const dir = tempDir(t);
    const source = new FakeInputSource();
    const created = await Agent.create({ dataDir: dir, managedPolicyPath: path.join(dir, 'none.json'), inputSource: source, logger: createMemoryLogger(), clock: manualClock() });
    assert.ok(created.ok);
    const agent = created.value;
    t.after(() => agent.stop());
    await agent.start();
    const detector = agent.service<TimingDetectorService>('timing-detector')!;
    // Enough keystrokes to be scored (40), too few to fill a window (50): only stop flushes it.
    for (let index = 0; index < 45; index++) source.tap(30 + (index % 10), index * 180, index * 180 + 90);
    assert.equal(detector.lastScores.length, 0, 'nothing scored yet');
    await agent.stop();
    const keys = detector.lastScores.find((score) => score.modality === 'keys');
    assert.equal(keys?.samples, 45, 'the last window was scored');
  });

  it('returns coded failures for a bad policy, a corrupt database and a missing --policy file', async (t) => {
    const dir = tempDir(t);
    const policy = path.join(dir, 'policy.json');
    fs.writeFileSync(policy, JSON.stringify({ intervals: { windowSeconds: 1 } }));
    const bad = await Agent.create({ policyPath: policy, dataDir: dir, inputSource: null, logger: createMemoryLogger() });
    assert.equal(!bad.ok && bad.error.code, 'POLICY_INVALID');
    assert.match(!bad.ok ? bad.error.message : '', /\/intervals\/windowSeconds must be >= 5/);

    const missing = await Agent.create({ policyPath: path.join(dir, 'absent.json'), dataDir: dir, inputSource: null });
    assert.equal(!missing.ok && missing.error.code, 'POLICY_UNREADABLE');

    const corruptDir = path.join(dir, 'corrupt');
    fs.mkdirSync(corruptDir);
    const garbage = crypto.randomBytes(4096);
    fs.writeFileSync(path.join(corruptDir, 'telltale.db'), garbage);
    const corrupt = await Agent.create({ dataDir: corruptDir, managedPolicyPath: policy + '.none', inputSource: null });
    assert.equal(!corrupt.ok && corrupt.error.code, 'DATABASE_CORRUPT');
    assert.deepEqual(fs.readFileSync(path.join(corruptDir, 'telltale.db')), garbage);
  });

  it('uses the OS paths when no data folder is given', async (t) => {
    const home = tempDir(t);
    const created = await Agent.create({
      platform: 'linux',
      env: { HOME: home, XDG_DATA_HOME: path.join(home, 'xdg') },
      managedPolicyPath: path.join(home, 'none.json'),
      inputSource: null,
    });
    assert.ok(created.ok);
    t.after(() => created.value.stop());
    assert.equal(created.value.databasePath, path.join(home, 'xdg', 'telltale', 'telltale.db'));
    const unsupported = await Agent.create({ platform: 'aix', env: { HOME: home }, inputSource: null });
    assert.equal(!unsupported.ok && unsupported.error.code, 'UNSUPPORTED_PLATFORM');
  });

  it('stops the services it started when a later one fails to start', async (t) => {
    const dir = tempDir(t);
    const source = new FakeInputSource();
    const created = await Agent.create({ dataDir: dir, managedPolicyPath: path.join(dir, 'x.json'), inputSource: source, logger: createMemoryLogger() });
    assert.ok(created.ok);
    const agent = created.value;
    // Make the second service (retention) fail to start.
    const retention = agent.service('retention')!;
    (retention as { start: () => void }).start = () => {
      throw new Error('boom');
    };
    await assert.rejects(agent.start(), /boom/);
    assert.equal(source.started, false, 'input capture was stopped again');
    assert.equal(agent.context.db.open, false);
  });
});
