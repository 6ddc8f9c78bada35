import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FindingObservation } from '../../common/findings';
import { AgentEvents, type AgentEventMap } from '../../agent/events';
import { openDatabase, type Db } from '../../agent/store/database';
import {
  deleteClosedFindingsBefore,
  listAllFindings,
  listFindingsSince,
  listOpenFindings,
  listOpenFindingsBySource,
  listRecentlyClosedFindings,
  reconcileFindings,
} from '../../agent/store/findings';

function tempDb(t: { after(fn: () => void): void }): Db {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-findings-'));
  const db = openDatabase(path.join(dir, 'agent.db'));
  t.after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

function observation(key: string, evidence: Record<string, string | number> = {}): FindingObservation {
  return {
    key,
    kind: 'remote-tool-running',
    severity: 'medium',
    title: 'x11vnc is running',
    explanation: 'A remote-control program is running.',
    evidence,
  };
}

describe('findings store', () => {
  it('takes no write lock to reconcile nothing seen against nothing open, and does when a finding of the source is open', (t) => {
    const db = tempDb(t);
    reconcileFindings(db, 'tool', [observation('tool:x11vnc')], 1000);
    // Another connection holds the write lock: a reconcile that needs it would wait, then fail busy.
    const other = openDatabase(db.name);
    other.pragma('busy_timeout = 0');
    db.pragma('busy_timeout = 0');
    t.after(() => other.close());
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      assert.deepEqual(reconcileFindings(db, 'timing', [], 2000), { opened: [], closed: [], updated: [] });
      assert.throws(() => reconcileFindings(db, 'tool', [], 2000), /database is locked/, 'an open finding to close needs the write lock');
    } finally {
      other.prepare('ROLLBACK').run();
    }
    assert.equal(reconcileFindings(db, 'tool', [], 3000).closed.length, 1);
  });

  it('opens, deduplicates, updates last-seen, closes and reopens as a new row', (t) => {
    const db = tempDb(t);
    const events = new AgentEvents();
    const changes: AgentEventMap['findingsChanged'][] = [];
    events.on('findingsChanged', (change) => changes.push(change));

    const first = reconcileFindings(db, 'tool', [observation('tool:x11vnc:running', { pid: 1 })], 1000, events);
    assert.equal(first.opened.length, 1);
    assert.equal(changes.length, 1);
    const id = first.opened[0]!.id;

    // Same observation again: no new row, last-seen moves, no event (nothing a listener must redraw).
    const second = reconcileFindings(db, 'tool', [observation('tool:x11vnc:running', { pid: 1 })], 2000, events);
    assert.deepEqual([second.opened.length, second.updated.length, second.closed.length], [0, 0, 0]);
    assert.equal(changes.length, 1);
    let open = listOpenFindings(db);
    assert.equal(open.length, 1);
    assert.equal(open[0]!.id, id);
    assert.equal(open[0]!.firstSeenAt, 1000);
    assert.equal(open[0]!.lastSeenAt, 2000);

    // Changed evidence is an update of the same row.
    const third = reconcileFindings(db, 'tool', [observation('tool:x11vnc:running', { pid: 2 })], 3000, events);
    assert.equal(third.updated.length, 1);
    assert.equal(third.updated[0]!.id, id);
    assert.deepEqual(third.updated[0]!.evidence, { pid: 2 });

    // Not observed any more: closed.
    const fourth = reconcileFindings(db, 'tool', [], 4000, events);
    assert.equal(fourth.closed.length, 1);
    assert.equal(fourth.closed[0]!.closedAt, 4000);
    assert.equal(listOpenFindings(db).length, 0);

    // Recurs: a new row, the old episode stays closed.
    const fifth = reconcileFindings(db, 'tool', [observation('tool:x11vnc:running', { pid: 3 })], 5000, events);
    assert.equal(fifth.opened.length, 1);
    assert.notEqual(fifth.opened[0]!.id, id);
    open = listOpenFindings(db);
    assert.equal(open.length, 1);
    assert.equal(listFindingsSince(db, 0).length, 2);
    assert.equal(listFindingsSince(db, 4500).length, 1);
    assert.equal(changes.length, 4);
  });

  it('only closes findings of the reconciling source', (t) => {
    const db = tempDb(t);
    reconcileFindings(db, 'tool', [observation('tool:a')], 1);
    reconcileFindings(db, 'usb', [observation('usb:b')], 1);
    // "tool-extra" shares a textual prefix with "tool" but is another source.
    reconcileFindings(db, 'tool-extra', [observation('tool-extra:c')], 1);
    reconcileFindings(db, 'tool', [], 2);
    assert.deepEqual(
      listOpenFindings(db).map((finding) => finding.key).sort(),
      ['tool-extra:c', 'usb:b'],
    );
    assert.equal(listOpenFindingsBySource(db, 'usb').length, 1);
    assert.equal(deleteClosedFindingsBefore(db, 10), 1);
  });

  it('rejects an observation whose key is outside its source', (t) => {
    const db = tempDb(t);
    assert.throws(() => reconcileFindings(db, 'tool', [observation('usb:x')], 1), /source prefix/);
    assert.equal(listOpenFindings(db).length, 0);
  });

  it('lists open findings most severe first', (t) => {
    const db = tempDb(t);
    reconcileFindings(db, 'tool', [{ ...observation('tool:a'), severity: 'info' }, { ...observation('tool:b'), severity: 'high' }], 1);
    assert.deepEqual(listOpenFindings(db).map((finding) => finding.severity), ['high', 'info']);
  });

  it('lists the most recently closed findings newest first, and every finding in id order', (t) => {
    const db = tempDb(t);
    reconcileFindings(db, 'tool', [observation('tool:a'), observation('tool:b'), observation('tool:c')], 1);
    reconcileFindings(db, 'tool', [observation('tool:b'), observation('tool:c')], 2);
    reconcileFindings(db, 'tool', [observation('tool:c')], 3);
    assert.deepEqual(listRecentlyClosedFindings(db, 5).map((finding) => [finding.key, finding.closedAt]), [['tool:b', 3], ['tool:a', 2]]);
    assert.deepEqual(listRecentlyClosedFindings(db, 1).map((finding) => finding.key), ['tool:b']);
    assert.deepEqual(listAllFindings(db).map((finding) => finding.key), ['tool:a', 'tool:b', 'tool:c']);
  });
});
