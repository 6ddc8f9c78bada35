/**
 * The scan change gate: a scheduled scan is skipped while the platform's change token stays the
 * same and the last full scan found nothing running; a changed token, a running tool or the
 * fallback period scans in full. Linux's token is read from a /proc-shaped folder of real files.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { readScanChangeLinux } from '../../agent/detect/change/linux';
import { readTcpTableLinux, shareProcNetTcp } from '../../agent/detect/sockets/linux';
import { readTcpRttLinux, shareTcpRtt } from '../../agent/detect/rtt/linux';
import { requireTools } from '../helpers/tools';
import { defaultProbes, DetectionService, FULL_SCAN_EVERY } from '../../agent/detect/detection-service';
import type { ScanChange } from '../../agent/detect/change/scan-change';
import type { ProcessInfo } from '../../agent/detect/processes/process-info';
import type { ProcessIdentity } from '../../agent/detect/tool-scanner';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { DEFAULT_POLICY } from '../../common/policy';

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
function tcpRow(local: string, remote: string, state: string, inode: number): string {
  return `   0: ${local} ${remote} ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}

function fakeProc(t: TestContext): { root: string; pids(list: number[]): void; tcp(rows: string[]): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-scan-change-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'net'));
  fs.writeFileSync(path.join(root, 'net', 'tcp6'), TCP_HEADER);
  return {
    root,
    pids(list) {
      for (const entry of fs.readdirSync(root)) if (/^\d+$/.test(entry)) fs.rmSync(path.join(root, entry), { recursive: true });
      for (const pid of list) fs.mkdirSync(path.join(root, String(pid)));
    },
    tcp(rows) {
      fs.writeFileSync(path.join(root, 'net', 'tcp'), TCP_HEADER + rows.join(''));
    },
  };
}

/** Both digests as one text, for comparing reads. */
function scanChangeTokenLinux(procRoot: string): string | null {
  const change = readScanChangeLinux(procRoot);
  return change && `${change.processes}|${change.sockets}`;
}

describe('scan change token (Linux)', () => {
  it('changes with the pid set, listening sockets and inbound connections, not with outbound ones', (t) => {
    const proc = fakeProc(t);
    proc.pids([1, 200, 3000]);
    proc.tcp([tcpRow('0100007F:170C', '00000000:0000', '0A', 11), tcpRow('0A000002:D431', '08080808:01BB', '01', 12)]);
    const base = scanChangeTokenLinux(proc.root);
    assert.ok(base !== null);
    assert.equal(scanChangeTokenLinux(proc.root), base, 'nothing changed');
    // Outbound connection churn (a browser) leaves it alone.
    proc.tcp([tcpRow('0100007F:170C', '00000000:0000', '0A', 11), tcpRow('0A000002:D499', '08080404:01BB', '01', 13)]);
    assert.equal(scanChangeTokenLinux(proc.root), base, 'outbound connections are not in the token');
    proc.pids([1, 200, 3000, 3001]);
    const started = scanChangeTokenLinux(proc.root);
    assert.notEqual(started, base, 'a process started');
    const [before, after] = [readScanChangeLinux(proc.root)!, readScanChangeLinux(proc.root)!];
    assert.equal(after.sockets, before.sockets, 'a start moves the process digest alone');
    assert.deepEqual([...after.pids].sort((a, b) => a - b), [1, 200, 3000, 3001], 'and names the pids to check');
    proc.pids([1, 200, 3001]);
    assert.notEqual(scanChangeTokenLinux(proc.root), started, 'a process exited (same count)');
    proc.pids([1, 200, 3000]);
    assert.equal(scanChangeTokenLinux(proc.root), base, 'back to the same set');
    // A viewer connects to the listening port 5900 (0x170C): an inbound session.
    proc.tcp([tcpRow('0100007F:170C', '00000000:0000', '0A', 11), tcpRow('0A000002:D499', '08080404:01BB', '01', 13), tcpRow('0100007F:170C', '0100007F:C350', '01', 14)]);
    assert.notEqual(scanChangeTokenLinux(proc.root), base, 'an inbound connection');
    proc.tcp([tcpRow('0100007F:170C', '00000000:0000', '0A', 11), tcpRow('0100007F:1770', '00000000:0000', '0A', 15)]);
    assert.notEqual(scanChangeTokenLinux(proc.root), base, 'a new listening socket');
    assert.equal(scanChangeTokenLinux(path.join(proc.root, 'missing')), null, 'unreadable /proc: cannot tell');
  });

  it('reads the connection table only when the TCP socket counts of sockstat moved', (t) => {
    const proc = fakeProc(t);
    const sockstat = (tcp: number, tcp6: number) => {
      fs.writeFileSync(path.join(proc.root, 'net', 'sockstat'), `sockets: used 10\nTCP: inuse ${tcp} orphan 0 tw 0 alloc ${tcp} mem 1\nUDP: inuse 0 mem 0\n`);
      fs.writeFileSync(path.join(proc.root, 'net', 'sockstat6'), `TCP6: inuse ${tcp6}\nUDP6: inuse 0\n`);
    };
    proc.pids([1]);
    proc.tcp([tcpRow('0100007F:170C', '00000000:0000', '0A', 11)]);
    sockstat(1, 0);
    const base = scanChangeTokenLinux(proc.root);
    // A listener swapped for another between two periods leaves the counts as they were: not read.
    proc.tcp([tcpRow('0100007F:1770', '00000000:0000', '0A', 15)]);
    assert.equal(scanChangeTokenLinux(proc.root), base, 'same counts: the table is not read again');
    sockstat(2, 0);
    proc.tcp([tcpRow('0100007F:1770', '00000000:0000', '0A', 15), tcpRow('0100007F:1770', '0100007F:D431', '01', 16)]);
    const inbound = scanChangeTokenLinux(proc.root);
    assert.notEqual(inbound, base, 'a count moved: the table is read and the inbound connection shows');
    sockstat(2, 1);
    proc.tcp([tcpRow('0100007F:1770', '00000000:0000', '0A', 15), tcpRow('0100007F:1770', '0100007F:D431', '01', 16)]);
    assert.equal(scanChangeTokenLinux(proc.root), inbound, 'an outbound IPv6 socket reads the table, which shows nothing new');
  });
});

describe('one read of /proc/net/tcp per scan', () => {
  it('the token and the socket table read inside one shared scan see the table as it was first read; outside, each read is fresh', async (t) => {
    const proc = fakeProc(t);
    proc.pids([1]);
    const listening = tcpRow('0100007F:170C', '00000000:0000', '0A', 11);
    const inbound = tcpRow('0100007F:170C', '0100007F:D431', '01', 12);
    proc.tcp([listening]);
    const before = scanChangeTokenLinux(proc.root);
    await shareProcNetTcp(async () => {
      assert.equal(scanChangeTokenLinux(proc.root), before);
      proc.tcp([listening, inbound]);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(scanChangeTokenLinux(proc.root), before, 'the token reads the shared table');
      assert.equal(readTcpTableLinux(proc.root).length, 1, 'so does the behaviour scan');
    });
    assert.notEqual(scanChangeTokenLinux(proc.root), before, 'after the scan the new connection shows');
    assert.equal(readTcpTableLinux(proc.root).length, 2);
  });

  it('one ss run per shared scan for the tool and behaviour scans, a fresh one outside', async (t) => {
    if (!requireTools(t, ['ss'])) return;
    await shareTcpRtt(async () => {
      const first = readTcpRttLinux();
      assert.equal(readTcpRttLinux(), first, 'the second reader joins the first run');
      await first;
      assert.equal(readTcpRttLinux(), first);
    });
    const [a, b] = [readTcpRttLinux(), readTcpRttLinux()];
    assert.notEqual(a, b);
    await Promise.all([a, b]);
  });
});

describe('detection scan gate', () => {
  async function rig(t: TestContext, processes: () => ProcessInfo[]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-gate-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const state = {
      change: { processes: 'a', sockets: 's', pids: [1] } as ScanChange | null,
      scans: 0,
      hardwareTokens: 0,
      tokenReads: 0,
      /** The pids each new-process check read. */
      checked: [] as number[][],
      /** Processes of pids a check may read (pid → process). */
      started: new Map<number, ProcessInfo>(),
      /** Identity by executable path, as identity/linux.ts gives for a renamed copy. */
      identities: new Map<string, ProcessIdentity>(),
    };
    const probes = {
      ...defaultProbes('linux'),
      listProcesses: async () => {
        state.scans++;
        return processes();
      },
      listSockets: async () => [],
      behaviour: undefined,
      pathExists: () => false,
      readHardware: async () => ({ connectors: [], usb: [], xScreens: [] }) as never,
      hardwareToken: () => {
        state.hardwareTokens++;
        return 'same';
      },
      readScanChange: () => {
        state.tokenReads++;
        return state.change;
      },
      listProcessesOf: async (pids: readonly number[]) => {
        state.checked.push([...pids]);
        return pids.flatMap((pid) => state.started.get(pid) ?? []);
      },
      identify: (process: ProcessInfo) => (process.exe === null ? undefined : state.identities.get(process.exe)),
    };
    const context = {
      db,
      policy: DEFAULT_POLICY,
      clock: { now: () => 1_000_000 },
      logger: { log: () => undefined },
      dataDir: dir,
      agentVersion: 'test',
      events: new AgentEvents(),
    };
    return { state, service: new DetectionService(context, { platform: 'linux', probes }) };
  }

  it('skips a period while nothing changed, scans when the token moves, and in full once per FULL_SCAN_EVERY periods', async (t) => {
    const { state, service } = await rig(t, () => []);
    await service.tick();
    assert.equal(state.scans, 1);
    await service.scheduledTick();
    assert.equal(state.scans, 1, 'unchanged: skipped');
    assert.equal(service.skippedScans, 1);
    assert.equal(state.hardwareTokens, 2, 'the hardware check still runs in a skipped period');
    state.change = { ...state.change!, sockets: 't' };
    const readsBefore = state.tokenReads;
    await service.scheduledTick();
    assert.equal(state.scans, 2, 'a socket changed: scanned');
    assert.equal(state.tokenReads - readsBefore, 1, 'the scan keeps the token its period took (one read of /proc/net/tcp, not two)');
    for (let i = 0; i < FULL_SCAN_EVERY - 1; i++) await service.scheduledTick();
    assert.equal(state.scans, 2, `${FULL_SCAN_EVERY - 1} quiet periods skipped`);
    await service.scheduledTick();
    assert.equal(state.scans, 3, 'the fallback period scans in full');
    state.change = null;
    await service.scheduledTick();
    assert.equal(state.scans, 4, 'a platform that cannot tell always scans');
  });

  it('checks only the processes started since, and scans in full only when one is a tool by name or by binary identity', async (t) => {
    const { state, service } = await rig(t, () => []);
    await service.tick();
    assert.equal(state.scans, 1);
    const proc = (pid: number, name: string, exe: string): ProcessInfo => ({ pid, ppid: 1, uid: 1000, name, exe, argv0: null, script: null, startedAt: 1 });
    // An autovacuum worker starts and another process exits: only the new pid is read, and it is no tool.
    state.started.set(2, proc(2, 'postgres', '/usr/lib/postgresql/15/bin/postgres'));
    state.change = { processes: 'b', sockets: 's', pids: [2] };
    await service.scheduledTick();
    assert.deepEqual([state.scans, service.newProcessChecks, service.skippedScans], [1, 1, 0], 'no full scan');
    assert.deepEqual(state.checked, [[2]]);
    await service.scheduledTick();
    assert.deepEqual([state.scans, service.skippedScans], [1, 1], 'the check moved the baseline: the same set again is a plain skip');
    // A renamed copy of a catalog tool starts: identified by its binary, so the next period scans in full.
    const x11vncEntry = { id: 'x11vnc' } as ProcessIdentity['entry'];
    state.identities.set('/tmp/helper', { entry: x11vncEntry, evidence: { method: 'sha256', reference: '/usr/bin/x11vnc' } });
    state.started.set(3, proc(3, 'helper', '/tmp/helper'));
    state.change = { processes: 'c', sockets: 's', pids: [2, 3] };
    await service.scheduledTick();
    assert.deepEqual(state.checked.at(-1), [3]);
    assert.equal(state.scans, 2, 'a renamed tool among the new processes: scanned in full');
    // A process named like a tool is a full scan too, and the fallback period still comes round.
    state.started.set(4, proc(4, 'x11vnc', '/usr/bin/x11vnc'));
    state.change = { processes: 'd', sockets: 's', pids: [2, 3, 4] };
    await service.scheduledTick();
    assert.equal(state.scans, 3, 'a tool by name: scanned in full');
    for (let i = 0; i < FULL_SCAN_EVERY - 1; i++) {
      state.started.set(10 + i, proc(10 + i, 'sh', '/bin/sh'));
      state.change = { processes: `e${i}`, sockets: 's', pids: [2, 3, 4, 10 + i] };
      await service.scheduledTick();
    }
    assert.equal(state.scans, 3, `${FULL_SCAN_EVERY - 1} periods of new non-tool processes: checked, not scanned`);
    state.change = { processes: 'f', sockets: 's', pids: [2, 3, 4] };
    await service.scheduledTick();
    assert.equal(state.scans, 4, 'the fallback period scans in full');
  });

  it('always scans while the last scan found a running tool (its sessions move without a new process)', async (t) => {
    const x11vnc: ProcessInfo = { pid: 4242, ppid: 1, uid: 1000, name: 'x11vnc', exe: '/usr/bin/x11vnc', argv0: null, script: null, startedAt: 1 };
    const { state, service } = await rig(t, () => [x11vnc]);
    await service.tick();
    assert.equal(service.lastToolScan?.tools.some((tool) => tool.processes.length > 0), true, 'the catalog knows x11vnc');
    await service.scheduledTick();
    await service.scheduledTick();
    assert.equal(state.scans, 3);
    assert.equal(service.skippedScans, 0);
  });
});
