import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { listOpenFindings } from '../../agent/store/findings';
import { loadCatalog, ProcessMatcher } from '../../agent/detect/catalog/catalog';
import { DetectionService, type DetectionProbes } from '../../agent/detect/detection-service';
import { parseXrandrProps } from '../../agent/detect/displays/linux';
import { evaluateHardware } from '../../agent/detect/hardware-scanner';
import { parseDarwinPs } from '../../agent/detect/processes/darwin';
import { listProcessesLinux, parseProcStat } from '../../agent/detect/processes/linux';
import { parseTasklistCsv, parseWin32Cim } from '../../agent/detect/processes/win32';
import { parseSsTcpInfo } from '../../agent/detect/rtt/linux';
import { parseLsofTcp } from '../../agent/detect/sockets/darwin';
import { decodeAddress, parseProcNetTcp } from '../../agent/detect/sockets/linux';
import { parseNetstatAno } from '../../agent/detect/sockets/win32';
import { scanTools } from '../../agent/detect/tool-scanner';
import { DEFAULT_POLICY } from '../../common/policy';

const fixture = (name: string) => fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures', name), 'utf8');
const catalog = loadCatalog();

describe('per-OS parsers on recorded outputs', () => {
  it('Windows: CIM JSON, tasklist CSV and netstat -ano', async () => {
    const processes = parseWin32Cim(fixture('win32/get-ciminstance-win32-process.json'));
    assert.equal(processes.length, 10);
    assert.equal(processes.find((item) => item.pid === 4820)?.exe, 'C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe');
    assert.equal(processes.find((item) => item.pid === 4820)?.startedAt, 1718000100000);
    const tasklist = parseTasklistCsv(fixture('win32/tasklist-v-csv.txt'));
    assert.deepEqual(tasklist.map((item) => item.name), ['System Idle Process', 'explorer.exe', 'AnyDesk.exe', 'rustdesk.exe', 'chrome.exe']);
    assert.throws(() => parseTasklistCsv('"Abbildname","PID"\r\n'), /Image Name/);
    const sockets = parseNetstatAno(fixture('win32/netstat-ano.txt'));
    assert.equal(sockets.filter((item) => item.state === 'listen').length, 5);
    assert.deepEqual(sockets.find((item) => item.state === 'established' && item.localPort === 7070), {
      pid: 4820, state: 'established', localAddress: '192.168.1.23', localPort: 7070, remoteAddress: '203.0.113.77', remotePort: 51522,
    });
    assert.equal(sockets.find((item) => item.localAddress === '::1')?.localPort, 5938);

    const result = await scanTools({
      matcher: new ProcessMatcher(catalog, 'win32'),
      probes: { listProcesses: async () => processes, listSockets: async (pids) => sockets.filter((item) => pids.includes(item.pid)), pathExists: () => false },
      approvedTools: [{ catalogId: 'teamviewer', note: 'IT helpdesk' }],
      platform: 'win32',
    });
    const kinds = result.observations.map((item) => `${item.kind}:${item.evidence.catalogId}`).sort();
    assert.deepEqual(kinds, [
      'approved-tool:teamviewer',
      'remote-session-active:anydesk',
      'remote-session-active:anydesk',
      'remote-tool-listening:anydesk',
      'remote-tool-running:anydesk',
      'remote-tool-running:chrome-remote-desktop',
    ]);
    const inbound = result.observations.find((item) => item.kind === 'remote-session-active' && item.evidence.direction === 'inbound');
    assert.equal(inbound?.evidence.peerAddress, '203.0.113.77');
    assert.equal(result.observations.find((item) => item.kind === 'approved-tool')?.severity, 'info');
  });

  it('macOS: ps and lsof', async () => {
    const processes = parseDarwinPs(fixture('darwin/ps-axo-pid-ppid-uid-comm.txt'));
    assert.equal(processes.length, 8);
    assert.equal(processes.find((item) => item.pid === 810)?.name, 'Google Chrome');
    const sockets = parseLsofTcp(fixture('darwin/lsof-nP-iTCP.txt'));
    assert.equal(sockets.length, 5);
    assert.deepEqual(sockets[2], { pid: 611, state: 'established', localAddress: '192.168.1.40', localPort: 5900, remoteAddress: '198.51.100.9', remotePort: 60211 });
    const result = await scanTools({
      matcher: new ProcessMatcher(catalog, 'darwin'),
      probes: { listProcesses: async () => processes, listSockets: async (pids) => sockets.filter((item) => pids.includes(item.pid)), pathExists: () => false },
      approvedTools: [],
      platform: 'darwin',
    });
    const session = result.observations.find((item) => item.kind === 'remote-session-active' && item.evidence.catalogId === 'macos-screen-sharing');
    assert.equal(session?.evidence.direction, 'inbound');
    assert.equal(session?.severity, 'high');
    assert.ok(result.observations.some((item) => item.kind === 'remote-tool-running' && item.evidence.catalogId === 'teamviewer'));
    assert.ok(result.observations.some((item) => item.kind === 'remote-session-active' && item.evidence.catalogId === 'anydesk' && item.evidence.direction === 'outbound'));
  });

  it('Linux: /proc/net/tcp, /proc/<pid>/stat and ss RTT', () => {
    assert.deepEqual(decodeAddress('0100007F:170C'), { address: '127.0.0.1', port: 5900 });
    assert.deepEqual(decodeAddress('00000000000000000000000001000000:0016'), { address: '::1', port: 22 });
    assert.deepEqual(decodeAddress('0000000000000000FFFF00000100007F:170C'), { address: '::ffff:127.0.0.1', port: 5900 });
    const rows = parseProcNetTcp(fixture('sockets/proc-net-tcp.txt'));
    assert.deepEqual(rows.map((row) => [row.state, row.remotePort, row.inode]), [['listen', 0, 41234], ['established', 48822, 41240]]);
    assert.deepEqual(parseProcStat('123 (a) b)) S 1 123 123 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 4242 0 0'), { name: 'a) b)', ppid: 1, startTicks: 4242 });
    const rtts = parseSsTcpInfo(fixture('sockets/ss-tinH-established.txt'));
    assert.deepEqual(rtts.map((rtt) => [rtt.localPort, rtt.remoteAddress, rtt.rttMs, rtt.rttVarMs, rtt.minRttMs]), [
      [5900, '127.0.0.1', 0.062, 0.031, 0.012],
      [5900, '::ffff:198.51.100.9', 172.5, 12.25, 161.2],
    ]);
    const own = listProcessesLinux().find((item) => item.pid === process.pid);
    assert.ok(own && own.exe !== null && own.startedAt !== null);
    // Only the pids asked for, the same as in the full listing; one that has exited is left out.
    assert.deepEqual(listProcessesLinux('/proc', [process.pid, 2 ** 31 - 1]), [own]);
  });
});

describe('hardware evaluation', () => {
  it('flags a virtual X screen (real Xvfb xrandr output)', () => {
    const outputs = parseXrandrProps(fixture('edid/xrandr/xvfb.txt'));
    assert.deepEqual(outputs.map((item) => [item.name, item.connected, item.widthMm]), [['screen', true, 0]]);
    const result = evaluateHardware({ connectors: [], xOutputs: outputs, xDisplay: ':5', usbDevices: [] });
    assert.deepEqual(result.display.map((item) => item.kind), ['virtual-display']);
    assert.deepEqual([result.edid.length, result.usb.length], [0, 0]);
  });

  it('flags a PiKVM monitor and the closed-lid single-external topology', () => {
    const outputs = parseXrandrProps(fixture('edid/xrandr/laptop-lid-closed-pikvm.txt'));
    assert.deepEqual(outputs.map((item) => [item.name, item.connected, item.enabled, item.edid.length]), [
      ['eDP-1', true, false, 128],
      ['HDMI-1', true, true, 256],
      ['DP-1', false, false, 0],
    ]);
    const result = evaluateHardware({ connectors: outputs, usbDevices: [] });
    assert.equal(result.edid.length, 1);
    assert.equal(result.edid[0]!.kind, 'kvm-edid');
    assert.equal(result.edid[0]!.severity, 'high');
    assert.equal(result.edid[0]!.evidence.connector, 'HDMI-1');
    assert.deepEqual(result.display.map((item) => item.kind), ['display-topology']);
  });

  it('raises a content-match spoof only with USB corroboration', () => {
    const hex = fixture('edid/kvm_edids/jetkvm/DELL_D2721H_1920x1080.hex').replace(/\s/g, '');
    const connector = { name: 'HDMI-1', connected: true, enabled: true, internal: false, edid: Uint8Array.from(Buffer.from(hex, 'hex')) };
    assert.equal(evaluateHardware({ connectors: [connector], usbDevices: [] }).edid[0]!.severity, 'low');
    const gadget = { path: '1-1', vendorId: 0x1d6b, productId: 0x0104, manufacturer: 'JetKVM', product: 'JetKVM', serial: null, deviceClass: 0, interfaces: [] };
    const corroborated = evaluateHardware({ connectors: [connector], usbDevices: [gadget] });
    assert.equal(corroborated.edid[0]!.severity, 'high');
    assert.equal(corroborated.usb[0]!.kind, 'kvm-usb-gadget');
  });
});

describe('DetectionService', () => {
  it('scans tools every tick but probes hardware only when due or changed', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-detect-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    let now = 1_000_000;
    let hardwareReads = 0;
    let token = 'a';
    let processes = parseDarwinPs(fixture('darwin/ps-axo-pid-ppid-uid-comm.txt'));
    const probes: DetectionProbes = {
      listProcesses: async () => processes,
      listSockets: async () => [],
      pathExists: () => false,
      async readHardware() {
        hardwareReads++;
        return { connectors: [], xOutputs: parseXrandrProps(fixture('edid/xrandr/xvfb.txt')), xDisplay: ':9', usbDevices: [] };
      },
      hardwareToken: () => token,
    };
    const events = new AgentEvents();
    let changes = 0;
    events.on('findingsChanged', () => changes++);
    const service = new DetectionService(
      { db, policy: DEFAULT_POLICY, clock: { now: () => now }, logger: { log() {} }, dataDir: dir, agentVersion: 'test', events },
      { platform: 'darwin', probes },
    );
    await service.tick();
    assert.equal(hardwareReads, 1);
    assert.ok(listOpenFindings(db).some((item) => item.kind === 'remote-tool-running' && item.evidence.catalogId === 'anydesk'));
    assert.ok(listOpenFindings(db).some((item) => item.key.startsWith('display:virtual-x')));
    now += 30_000;
    await service.tick();
    assert.equal(hardwareReads, 1, 'not due yet and nothing changed');
    token = 'b';
    await service.tick();
    assert.equal(hardwareReads, 2, 'a hardware change triggers a probe');
    now += 61_000;
    processes = processes.filter((item) => !/AnyDesk/.test(item.name));
    await service.tick();
    assert.equal(hardwareReads, 3, 'due after a minute');
    assert.ok(!listOpenFindings(db).some((item) => item.evidence.catalogId === 'anydesk'), 'AnyDesk finding closed once it stops');
    assert.ok(changes >= 2);
    await service.stop();
  });
});
