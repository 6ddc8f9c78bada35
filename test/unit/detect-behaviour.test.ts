/**
 * Protocol recognition, the prober's bounds (loopback only, once per socket, cap per scan) against
 * real local servers, forwarder attribution over a constructed socket table, and binary identity
 * over real files.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { scanBehaviour, type TcpEntry } from '../../agent/detect/behaviour-scanner';
import { ProcessMatcher, type Catalog, type CatalogEntry } from '../../agent/detect/catalog/catalog';
import { ExecutableIdentifier, referencesFromDpkgLists } from '../../agent/detect/identity/linux';
import { SignerIdentifier } from '../../agent/detect/identity/signer';
import { scanTools } from '../../agent/detect/tool-scanner';
import type { ProcessInfo } from '../../agent/detect/processes/process-info';
import { loopbackTarget, ProtocolProber, type ListeningSocket } from '../../agent/detect/protocol-probe/prober';
import { parseQuerySession, parseTermService, rdpHostObservations, readRdpHostWin32, TERMSERVICE_COMMAND } from '../../agent/detect/rdp-host/win32';
import type { CommandRunner } from '../../agent/detect/command-runner';
import { DetectionService } from '../../agent/detect/detection-service';
import { AgentEvents } from '../../agent/events';
import { openDatabase } from '../../agent/store/database';
import { listOpenFindings } from '../../agent/store/findings';
import { DEFAULT_POLICY } from '../../common/policy';
import { deviceVerdict } from '../../agent/verdict/verdict';
import { RDP_CONNECTION_REQUEST, recogniseGreeting, recogniseRdpConfirm } from '../../agent/detect/protocol-probe/recognise';

const bytes = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));

describe('protocol recognition', () => {
  it('recognises RFB, SSH and NoMachine greetings and nothing else', () => {
    assert.deepEqual(recogniseGreeting(bytes('RFB 003.008\n')), { protocol: 'rfb', version: '3.8' });
    assert.deepEqual(recogniseGreeting(bytes('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')), { protocol: 'ssh', version: '2.0 OpenSSH_9.2p1' });
    assert.equal(recogniseGreeting(bytes('Welcome\r\nSSH-2.0-dropbear\r\n'))?.protocol, 'ssh');
    assert.deepEqual(recogniseGreeting(bytes('NXD-8.10.1\n')), { protocol: 'nomachine', version: '8.10.1' });
    for (const other of ['HTTP/1.1 400 Bad Request\r\n', '220 smtp ready\r\n', 'RFB 3.8\n', '']) assert.equal(recogniseGreeting(bytes(other)), undefined, other);
  });

  it('recognises an X.224 Connection Confirm and refuses other TPKTs', () => {
    // xrdp's answer to the request: TPKT 19 bytes, CC, RDP_NEG_RSP selecting TLS.
    const confirm = Uint8Array.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x1f, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00]);
    assert.deepEqual(recogniseRdpConfirm(confirm), { protocol: 'rdp', version: 'negotiated' });
    const failure = Uint8Array.from([...confirm.subarray(0, 11), 0x03, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00]);
    assert.equal(recogniseRdpConfirm(failure)?.version, 'negotiation refused');
    assert.equal(recogniseRdpConfirm(RDP_CONNECTION_REQUEST), undefined, 'a request is not a confirm');
    assert.equal(recogniseRdpConfirm(bytes('HTTP/1.1 400')), undefined);
    assert.equal(RDP_CONNECTION_REQUEST.length, 19);
  });

  it('maps listening addresses to loopback targets and refuses others', () => {
    assert.equal(loopbackTarget('0.0.0.0'), '127.0.0.1');
    assert.equal(loopbackTarget('::'), '::1');
    assert.equal(loopbackTarget('127.0.0.53'), '127.0.0.53');
    assert.equal(loopbackTarget('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(loopbackTarget('192.168.1.20'), undefined);
  });
});

async function server(onConnection: (socket: net.Socket) => void): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const open = new Set<net.Socket>();
  const instance = net.createServer((socket) => {
    count++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => instance.listen(0, '127.0.0.1', resolve));
  return {
    port: (instance.address() as net.AddressInfo).port,
    connections: () => count,
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => instance.close(() => resolve()));
    },
  };
}

describe('ProtocolProber (real loopback servers)', () => {
  it('reads a greeting, sends the RDP request only to a silent server, probes each socket once, caps per scan', async (t) => {
    const rfb = await server((socket) => socket.write('RFB 003.008\n'));
    const received: Buffer[] = [];
    const rdp = await server((socket) =>
      socket.once('data', (data: Buffer) => {
        received.push(data);
        socket.write(Buffer.from([0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00]));
      }),
    );
    const silent = await server(() => undefined);
    t.after(async () => {
      await Promise.all([rfb.close(), rdp.close(), silent.close()]);
    });
    const prober = new ProtocolProber({ timing: { greetingMs: 200, timeoutMs: 600 }, maxProbesPerScan: 2 });
    const sockets: ListeningSocket[] = [
      { inode: 1, localAddress: '127.0.0.1', localPort: rfb.port },
      { inode: 2, localAddress: '0.0.0.0', localPort: rdp.port },
      { inode: 3, localAddress: '127.0.0.1', localPort: silent.port },
      { inode: 4, localAddress: '10.9.9.9', localPort: 5900 },
    ];
    const first = await prober.probeAll(sockets);
    assert.equal(first.size, 2, 'two new probes per scan');
    const second = await prober.probeAll(sockets);
    assert.equal(second.size, 4);
    assert.deepEqual(prober.resultFor(sockets[0]!), { status: 'recognised', recognised: { protocol: 'rfb', version: '3.8' } });
    assert.deepEqual(prober.resultFor(sockets[1]!), { status: 'recognised', recognised: { protocol: 'rdp', version: 'classic' } });
    assert.equal(prober.resultFor(sockets[2]!)?.status, 'failed');
    assert.deepEqual(prober.resultFor(sockets[3]!), { status: 'not-probed', reason: 'not-on-loopback' });
    assert.deepEqual(received, [Buffer.from(RDP_CONNECTION_REQUEST)], 'only the 19-byte request, once');
    await prober.probeAll(sockets);
    assert.equal(rfb.connections() + rdp.connections() + silent.connections(), 3, 'each socket probed once');
    assert.equal(prober.probesMade, 3);
    // A socket that goes away leaves the cache; one that comes back (new inode) is probed again.
    await prober.probeAll([{ ...sockets[0]!, inode: 9 }]);
    assert.equal(rfb.connections(), 2);
  });
});

const entry = (id: string, category: CatalogEntry['category'], linux: string[], paths: string[] = []): CatalogEntry => ({
  id,
  name: id,
  category,
  origin: 'telltale',
  processes: { win32: [], darwin: [], linux },
  paths: { win32: [], darwin: [], linux: paths },
  ports: [],
  domains: [],
  signers: [],
});
const catalog: Catalog = { version: 1, source: 'test', entries: [entry('x11vnc', 'vnc', ['x11vnc']), entry('socat', 'tunnel', ['socat'])] };
const processInfo = (pid: number, name: string): ProcessInfo => ({ pid, ppid: 1, uid: 0, name, exe: `/usr/bin/${name}`, argv0: null, script: null, startedAt: null });

describe('scanBehaviour', () => {
  const vncListen: TcpEntry = { state: 'listen', localAddress: '127.0.0.1', localPort: 5901, remoteAddress: '0.0.0.0', remotePort: 0, inode: 10, pid: null };
  const socatListen: TcpEntry = { state: 'listen', localAddress: '0.0.0.0', localPort: 7000, remoteAddress: '0.0.0.0', remotePort: 0, inode: 20, pid: null };
  const vncSide: TcpEntry = { state: 'established', localAddress: '127.0.0.1', localPort: 5901, remoteAddress: '127.0.0.1', remotePort: 40000, inode: 11, pid: null };
  const socatInner: TcpEntry = { state: 'established', localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.1', remotePort: 5901, inode: 21, pid: null };
  const socatOuter: TcpEntry = { state: 'established', localAddress: '10.0.0.1', localPort: 7000, remoteAddress: '203.0.113.7', remotePort: 51000, inode: 22, pid: null };
  const owners = new Map([[10, 100], [11, 100], [20, 200], [21, 201], [22, 201]]);
  const prober = new ProtocolProber({
    exchange: async () => ({ greeting: bytes('RFB 003.008\n'), reply: null }),
  });
  const run = (table: TcpEntry[], visible: Map<number, number>, processes: ProcessInfo[]) =>
    scanBehaviour({
      probes: {
        readTcpTable: async () => table,
        ownersOf: async (inodes) => new Map([...visible].filter(([inode]) => inodes.has(inode))),
        readRtt: async () => [{ localAddress: '10.0.0.1', localPort: 7000, remoteAddress: '203.0.113.7', remotePort: 51000, rttMs: 84.5, rttVarMs: 3, minRttMs: 80 }],
      },
      prober,
      processes,
      matcher: new ProcessMatcher(catalog, 'linux'),
    });

  it('attributes a loopback session through the forwarder to the real peer and its RTT, once', async () => {
    const result = await run([vncListen, socatListen, vncSide, socatInner, socatOuter], owners, [processInfo(100, 'updater'), processInfo(200, 'socat'), processInfo(201, 'socat')]);
    const sessions = result.observations.filter((observation) => observation.kind === 'remote-session-active');
    assert.equal(sessions.length, 1, JSON.stringify(sessions));
    const evidence = sessions[0]!.evidence as Record<string, unknown>;
    assert.equal(evidence.peerAddress, '203.0.113.7');
    assert.equal(evidence.rttMs, 84.5);
    assert.deepEqual(evidence.via, { pid: 201, name: 'socat', exe: '/usr/bin/socat', uid: 0, catalogId: 'socat', direction: 'inbound', loopbackPeer: '127.0.0.1:40000' });
    assert.equal(sessions[0]!.severity, 'high');
    const listening = result.observations.filter((observation) => observation.kind === 'remote-tool-listening').map((observation) => observation.evidence.port);
    assert.deepEqual(listening.sort(), [5901, 7000]);
    // The verdict names the protocol and the real, distant peer.
    const verdict = deviceVerdict(result.observations);
    assert.ok(verdict.chain.some((link) => link === 'VNC (RFB) server session from 203.0.113.7, a peer 85 ms away (round trip)'), JSON.stringify(verdict.chain));
  });

  it('reports the session when no owner is readable (an ordinary user looking at root\'s tool)', async () => {
    const inbound: TcpEntry = { ...vncSide, localAddress: '10.0.0.1', remoteAddress: '198.51.100.4', remotePort: 1234, localPort: 5901 };
    const result = await run([{ ...vncListen, localAddress: '0.0.0.0' }, inbound], new Map(), []);
    const session = result.observations.find((observation) => observation.kind === 'remote-session-active')!;
    assert.equal(session.evidence.peerAddress, '198.51.100.4');
    assert.deepEqual(session.evidence.owner, { pid: null, name: null, exe: null, uid: null });
    assert.equal(session.evidence.via, null);
  });

  it('treats a local client with no onward connection as a client, not a forwarder, and skips what the tool scan reported', async () => {
    const result = await scanBehaviour({
      probes: { readTcpTable: async () => [vncListen, vncSide, socatInner], ownersOf: async () => owners },
      prober,
      processes: [processInfo(100, 'x11vnc'), processInfo(201, 'vncviewer')],
      matcher: new ProcessMatcher(catalog, 'linux'),
      alreadyReported: new Set(['127.0.0.1:5901', '127.0.0.1:5901>127.0.0.1:40000']),
    });
    assert.deepEqual(result.observations, []);
  });
});

describe('ExecutableIdentifier (real files)', () => {
  it('matches a renamed copy by content, ignores same-size strangers, hashes only on size match', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-identity-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const reference = path.join(dir, 'x11vnc');
    fs.writeFileSync(reference, 'pretend-binary-contents');
    // A fake /proc with exe links: pid 1 a renamed copy, pid 2 same size different bytes, pid 3 other size.
    const proc = path.join(dir, 'proc');
    const files = { 1: 'pretend-binary-contents', 2: 'pretend-binary-CONTENTS', 3: 'short' };
    for (const [pid, content] of Object.entries(files)) {
      fs.mkdirSync(path.join(proc, pid), { recursive: true });
      fs.writeFileSync(path.join(dir, `bin-${pid}`), content);
      fs.symlinkSync(path.join(dir, `bin-${pid}`), path.join(proc, pid, 'exe'));
    }
    const identifier = new ExecutableIdentifier({ catalog: { ...catalog, entries: [entry('x11vnc', 'vnc', ['x11vnc'], [reference])] }, procRoot: proc, dpkgLists: () => new Map() });
    assert.equal(identifier.identify(1)?.entry.id, 'x11vnc');
    assert.equal(identifier.identify(1)?.reference, reference);
    assert.equal(identifier.identify(2), undefined);
    assert.equal(identifier.identify(3), undefined);
    assert.equal(identifier.identify(4), undefined, 'gone');
    assert.equal(identifier.hashesComputed, 3, 'reference, copy, stranger: each once');
  });

  it('takes reference binaries from dpkg file lists by catalog process name', () => {
    const references = referencesFromDpkgLists(
      new Map([
        ['tigervnc-standalone-server', '/.\n/usr/bin\n/usr/bin/Xtigervnc\n/usr/share/man/man1/Xtigervnc.1.gz\n'],
        ['coreutils', '/usr/bin/ls\n'],
      ]),
      { ...catalog, entries: [entry('tigervnc', 'vnc', ['xtigervnc'])] },
    );
    assert.deepEqual(references.map((reference) => [reference.entry.id, reference.file, reference.package]), [['tigervnc', '/usr/bin/Xtigervnc', 'tigervnc-standalone-server']]);
  });
});

const rdpFixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'win32', 'rdp-host', name), 'utf8');

describe('Windows RDP host through TermService (synthesized outputs, see fixtures/win32/rdp-host/SOURCE.md)', () => {
  it('parses the service, the sessions (no user names) and finds listener, connection and session', async () => {
    assert.deepEqual(parseTermService(rdpFixture('get-ciminstance-termservice.json')), { running: true, processId: 1184, startMode: 'Manual' });
    assert.deepEqual(parseTermService(rdpFixture('get-ciminstance-termservice-stopped.json')), { running: false, processId: null, startMode: 'Manual' });
    assert.equal(parseTermService(''), null);
    assert.throws(() => parseTermService('not json'), /did not print JSON/);
    const sessions = parseQuerySession(rdpFixture('query-session.txt'));
    assert.deepEqual(sessions, [
      { name: 'services', id: 0, state: 'Disc' },
      { name: 'rdp-tcp#3', id: 2, state: 'Active' },
      { name: 'console', id: 5, state: 'Conn' },
      { name: 'rdp-tcp', id: 65536, state: 'Listen' },
    ]);
    assert.doesNotMatch(JSON.stringify(sessions), /contractor/);

    const calls: string[] = [];
    const run: CommandRunner = async (file, args) => {
      calls.push(file);
      const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: '' });
      if (file === 'powershell.exe' && args[args.length - 1] === TERMSERVICE_COMMAND) return ok(rdpFixture('get-ciminstance-termservice.json'));
      if (file === 'query.exe') return ok(rdpFixture('query-session.txt'));
      if (file === 'netstat.exe') return ok(rdpFixture('netstat-ano.txt'));
      throw new Error(`unexpected command ${file}`);
    };
    const state = await readRdpHostWin32(run);
    const observations = rdpHostObservations(state);
    assert.deepEqual(
      observations.map((observation) => [observation.kind, observation.severity, observation.evidence.port ?? observation.evidence.peerAddress]),
      [
        ['remote-tool-listening', 'medium', 3389],
        ['remote-tool-listening', 'medium', 3389],
        ['remote-session-active', 'high', '198.51.100.77'],
      ],
    );
    assert.equal(observations[2]!.evidence.service, 'TermService');
    // Without a visible connection (a gateway or tunnel), the Active rdp-tcp session still counts.
    const viaGateway = rdpHostObservations({ ...state, sockets: state.sockets.filter((socket) => socket.state === 'listen') });
    assert.deepEqual(viaGateway.filter((observation) => observation.kind === 'remote-session-active').map((observation) => observation.evidence.sessionName), ['rdp-tcp#3']);
    // A stopped service: one command, no findings.
    calls.length = 0;
    const stopped = await readRdpHostWin32(async () => ({ exitCode: 0, stdout: rdpFixture('get-ciminstance-termservice-stopped.json'), stderr: '' }));
    assert.deepEqual(rdpHostObservations(stopped), []);
  });
});

describe('display probe without xrandr', () => {
  it('logs once, not silently and not every scan, when an X session is there but its screens cannot be read', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-noxrandr-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    let token = 0;
    const warnings: string[] = [];
    const service = new DetectionService(
      {
        db,
        policy: DEFAULT_POLICY,
        clock: { now: () => 1_000_000 },
        logger: { log: (level, message) => void (level === 'warn' && warnings.push(message)) },
        dataDir: dir,
        agentVersion: 'test',
        events: new AgentEvents(),
      },
      {
        platform: 'linux',
        probes: {
          listProcesses: async () => [],
          listSockets: async () => [],
          pathExists: () => false,
          readHardware: async () => ({ connectors: [], usbDevices: [], xDisplay: ':77' }),
          // A new token each scan: the hardware probe runs every time.
          hardwareToken: () => String(token++),
        },
      },
    );
    await service.tick();
    await service.tick();
    assert.deepEqual(warnings, ['X screen probe unavailable: virtual-display detection for this X session is off']);
  });
});

describe('SignerIdentifier (Windows/macOS identity by code signer)', () => {
  it('identifies a renamed signed tool, never by a platform vendor, each file once, a few new files a minute', async () => {
    const signed = entry('anydesk', 'remote-desktop', []);
    const vendor = entry('quick-assist', 'remote-access', []);
    const withSigners: Catalog = {
      ...catalog,
      entries: [{ ...signed, processes: { ...signed.processes, win32: ['anydesk.exe'] }, signers: ['AnyDesk Software GmbH'] }, { ...vendor, signers: ['Microsoft Corporation'] }],
    };
    const signers: Record<string, string | null> = {
      'C:\\Users\\c\\AppData\\Local\\Temp\\svc-helper.exe': 'AnyDesk Software GmbH',
      'C:\\Windows\\System32\\notepad.exe': 'Microsoft Corporation',
    };
    const reads: string[] = [];
    let now = 0;
    const identifier = new SignerIdentifier(
      withSigners,
      async (file) => {
        reads.push(file);
        return signers[file] ?? null;
      },
      { maxNewPerWindow: 2, now: () => now },
    );
    const processes = [
      { ...processInfo(10, 'svc-helper.exe'), exe: 'C:\\Users\\c\\AppData\\Local\\Temp\\svc-helper.exe' },
      { ...processInfo(11, 'notepad.exe'), exe: 'C:\\Windows\\System32\\notepad.exe' },
      { ...processInfo(12, 'other.exe'), exe: 'C:\\other.exe' },
    ];
    const scan = () =>
      scanTools({
        matcher: new ProcessMatcher(withSigners, 'win32'),
        probes: {
          listProcesses: async () => processes,
          listSockets: async () => [],
          pathExists: () => false,
          identify: async (info) => {
            const identity = await identifier.identify(info.exe);
            return identity && { entry: identity.entry, evidence: { method: 'signer', signer: identity.signer } };
          },
        },
        approvedTools: [],
        platform: 'win32',
      });
    const first = await scan();
    const running = first.observations.find((observation) => observation.kind === 'remote-tool-running')!;
    assert.equal(running.key, 'tool:anydesk:renamed:running');
    assert.deepEqual(running.evidence.identifiedBy, { method: 'signer', signer: 'AnyDesk Software GmbH' });
    assert.match(running.title, /under another name \(svc-helper\.exe\)/);
    assert.equal(first.observations.length, 1, 'Microsoft-signed notepad is not Quick Assist');
    assert.equal(reads.length, 2, 'two new files in this minute; the third waits');
    await scan();
    assert.equal(reads.length, 2, 'known files are not verified again, the window is still full');
    now = 60_000;
    await scan();
    assert.deepEqual(reads, [processes[0]!.exe, processes[1]!.exe, processes[2]!.exe]);
  });
});

describe('DetectionService on win32: RDP host and behaviour scan together', () => {
  it('reports TermService\'s listener and session once (source rdp-host), and a VNC server the probe found (source behaviour)', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-rdphost-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    t.after(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const table: TcpEntry[] = [
      { state: 'listen', localAddress: '0.0.0.0', localPort: 3389, remoteAddress: '0.0.0.0', remotePort: 0, inode: 0, pid: 1184 },
      { state: 'established', localAddress: '192.0.2.15', localPort: 3389, remoteAddress: '198.51.100.77', remotePort: 51544, inode: 0, pid: 1184 },
      { state: 'listen', localAddress: '0.0.0.0', localPort: 5900, remoteAddress: '0.0.0.0', remotePort: 0, inode: 0, pid: 4242 },
    ];
    const warnings: string[] = [];
    const service = new DetectionService(
      {
        db,
        policy: DEFAULT_POLICY,
        clock: { now: () => 1_000_000 },
        logger: { log: (level, message, fields) => void (level === 'warn' && warnings.push(`${message} ${JSON.stringify(fields)}`)) },
        dataDir: dir,
        agentVersion: 'test',
        events: new AgentEvents(),
      },
      {
        platform: 'win32',
        // The network exchange is the OS seam here: 3389 answers like RDP, 5900 like VNC.
        prober: new ProtocolProber({
          exchange: async (_host, port) =>
            port === 3389
              ? { greeting: new Uint8Array(0), reply: Uint8Array.from([0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00]) }
              : { greeting: bytes('RFB 003.008\n'), reply: null },
        }),
        probes: {
          listProcesses: async () => [],
          listSockets: async () => [],
          pathExists: () => false,
          readHardware: async () => ({ connectors: [], usbDevices: [] }),
          hardwareToken: () => '',
          behaviour: { readTcpTable: async () => table, ownersOf: async () => new Map() },
          readRdpHost: async () => ({
            service: { running: true, processId: 1184, startMode: 'Manual' },
            sessions: parseQuerySession(rdpFixture('query-session.txt')),
            sockets: table.filter((entry) => entry.pid === 1184).map(({ inode: _inode, ...socket }) => ({ ...socket, pid: 1184 })),
          }),
        },
      },
    );
    await service.tick();
    assert.deepEqual(warnings, []);
    const keys = listOpenFindings(db).map((finding) => finding.key).sort();
    assert.deepEqual(keys, [
      'behaviour:listening:rfb:0.0.0.0:5900',
      'rdp-host:listening:0.0.0.0:3389',
      'rdp-host:session:3389:198.51.100.77:51544',
    ]);
  });
});
