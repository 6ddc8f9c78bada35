/**
 * The evasion table of issue 15, re-run with real tools: each row in its own PID + network
 * namespace (`unshare`), its VNC viewer in a second namespace over a veth pair (a real, non-loopback
 * peer with the kernel's RTT). A row is caught when the agent's scan shows a live session finding
 * whose peer is the viewer's address; "before" is the name-only scan, "after" the full one (names,
 * binary identity, protocol probes, forwarder attribution). The unprivileged rows run the scan as a
 * user the test creates. Prints the table with the time from session start to finding.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { requireCondition, requireTools } from '../helpers/tools';
import type { Row, RowResult } from '../helpers/behaviour-scenario';

const SCAN_USER = 'telltale-scan';
const ROOT = path.resolve(import.meta.dirname, '../..');

const TABLE: readonly { row: Row; what: string; user?: string }[] = [
  { row: 'renamed-x11vnc', what: 'x11vnc copied as `updater`, inbound viewer' },
  { row: 'renamed-xtigervnc', what: 'Xtigervnc copied as `Xorg-helper`, inbound viewer' },
  { row: 'reverse-x11vnc', what: '`updater` (x11vnc) -connect to a listening viewer' },
  { row: 'socat-forward', what: '`updater` on loopback behind socat, viewer via socat' },
  { row: 'symlink-unprivileged', what: 'root x11vnc via symlink `updater`, agent as ordinary user', user: SCAN_USER },
  { row: 'root-x11vnc-unprivileged', what: 'root x11vnc (real name), agent as ordinary user', user: SCAN_USER },
];

function ensureUser(name: string): boolean {
  if (spawnSync('id', [name]).status === 0) return true;
  return spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]).status === 0;
}

function runRow(row: Row, user: string | undefined): RowResult {
  const args = ['--pid', '--fork', '--mount-proc', '--net', '--', process.execPath, '--import', 'tsx', 'test/helpers/behaviour-scenario.ts', '--row', row, ...(user ? ['--scan-user', user] : [])];
  const result = spawnSync('unshare', args, { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as RowResult;
  } catch {
    throw new Error(`row ${row} printed no result (status ${result.status}): ${result.stderr.slice(-2000)}`);
  }
}

describe('behaviour detection: the evasion table with real tools (namespaced)', () => {
  it('catches every row by what the tool does, not by its name', (t) => {
    if (!requireTools(t, ['unshare', 'nsenter', 'ip', 'ss', 'runuser', 'useradd', 'Xvfb', 'x11vnc', 'Xtigervnc', 'vncviewer', 'socat'])) return;
    if (!requireCondition(t, process.getuid?.() === 0, 'needs root to create namespaces, veth links and a user')) return;
    if (!requireCondition(t, ensureUser(SCAN_USER), `cannot create the user ${SCAN_USER}`)) return;
    const results: (RowResult & { what: string })[] = [];
    for (const { row, what, user } of TABLE) {
      let result = runRow(row, user);
      // One retry: on a loaded machine a viewer now and then fails to finish its handshake; a
      // detection miss is still a miss on the second run.
      if (!result.caughtAfter) result = runRow(row, user);
      results.push({ ...result, what });
    }
    const table = [
      '| row | scan as | before (names only) | after | time to session finding | caught by | full scan, median |',
      '|---|---|---|---|---|---|---|',
      ...results.map(
        (result) =>
          `| ${result.what} | uid ${result.scanUid} | ${result.caughtBefore ? 'session' : result.beforeKinds.join(', ') || 'nothing'} | ${result.caughtAfter ? 'session' : 'MISSED'} | ` +
          `${result.timeToFindingMs === null ? '-' : `${(result.timeToFindingMs / 1000).toFixed(1)} s`} | ${result.finding?.key.split(':').slice(0, 3).join(':') ?? '-'} | ${result.medianScanMs ?? '-'} ms |`,
      ),
    ].join('\n');
    t.diagnostic(`\n${table}`);
    process.stdout.write(`${table}\n`);
    for (const result of results) {
      assert.equal(result.error, undefined, `${result.row}: ${result.error}`);
      assert.ok(result.caughtAfter, `${result.row} not caught: ${JSON.stringify({ keys: result.afterKeys, sockets: result.sockets })}`);
      assert.equal(result.finding!.severity, 'high', `${result.row}: ${JSON.stringify(result.finding)}`);
    }
    const byRow = new Map(results.map((result) => [result.row, result]));
    // Renamed copies were invisible to the name-only scan.
    for (const row of ['renamed-x11vnc', 'renamed-xtigervnc', 'reverse-x11vnc', 'symlink-unprivileged'] as const) assert.equal(byRow.get(row)!.caughtBefore, false, row);
    // The forwarded session names socat and the viewer's real address, with the kernel's RTT.
    const forwarded = byRow.get('socat-forward')!.finding!;
    assert.equal((forwarded.evidence.via as { name: string }).name, 'socat');
    assert.equal(typeof forwarded.evidence.rttMs, 'number');
    // The unprivileged agent cannot read root's processes: the probe found the session anyway.
    assert.notEqual(byRow.get('symlink-unprivileged')!.scanUid, 0);
    assert.equal((byRow.get('symlink-unprivileged')!.finding!.evidence.owner as { name: unknown }).name, null);
  });
});
