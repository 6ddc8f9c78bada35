/**
 * The behaviour scan: remote control found by what the machine's sockets do, not by what the
 * programs are called. Findings of source `behaviour`.
 *
 * 1. Every listening TCP socket is probed once on loopback (protocol-probe/prober.ts); those that
 *    speak RFB, RDP or NoMachine become `remote-tool-listening`, whoever owns them.
 * 2. Established inbound connections to a recognised socket become `remote-session-active`, even
 *    when the owning process is another user's and cannot be read.
 * 3. A session whose peer is on loopback came through a local forwarder (socat, ssh -L/-R, ngrok,
 *    cloudflared...): the process holding the other end is found, and its own connection off the
 *    machine gives the real peer and its round-trip time (`via` evidence).
 *
 * Sockets the name-based tool scan already reported are skipped, unless this scan adds the real
 * peer behind a forwarder.
 */
import type { Evidence, FindingObservation } from '../../common/findings';
import type { ProcessMatcher } from './catalog/catalog';
import { processNames, type ProcessInfo } from './processes/process-info';
import { PROTOCOL_LABEL, type Recognised } from './protocol-probe/recognise';
import type { ProtocolProber } from './protocol-probe/prober';
import type { ConnectionRtt } from './rtt/linux';
import { findRtt, sameAddress } from './rtt/match';
import { isLoopback, type SocketState } from './sockets/socket-info';

export const BEHAVIOUR_SOURCE = 'behaviour';

/** One TCP socket of the machine. */
export interface TcpEntry {
  readonly state: SocketState;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Kernel socket inode (Linux) or 0 where the platform has none. */
  readonly inode: number;
  /** Owning pid when the listing gives it (netstat -ano, lsof); null on Linux until looked up. */
  readonly pid: number | null;
}

export interface BehaviourProbes {
  /** Every listening and established TCP socket (no privilege needed on Linux). */
  readTcpTable(): Promise<TcpEntry[]>;
  /** inode -> pid for the given inodes, as far as this user can see. */
  ownersOf(inodes: ReadonlySet<number>): Promise<Map<number, number>>;
  readRtt?: () => Promise<ConnectionRtt[]>;
}

export interface BehaviourScanOptions {
  readonly probes: BehaviourProbes;
  readonly prober: ProtocolProber;
  /** The processes of this scan (from the tool scan's listing), to name socket owners. */
  readonly processes: readonly ProcessInfo[];
  /** To name owners and forwarders that are catalogued (tunnel tools included). */
  readonly matcher: ProcessMatcher;
  /** `address:port` of listening sockets and `local:port>peer:port` of sessions the tool scan reported. */
  readonly alreadyReported?: ReadonlySet<string>;
}

/** A protocol-recognised listening socket and its sessions. */
export interface RecognisedListener {
  readonly socket: TcpEntry;
  readonly recognised: Recognised;
  readonly owner: ProcessInfo | null;
  readonly ownerPid: number | null;
  readonly sessions: readonly BehaviourSession[];
}

export interface BehaviourSession {
  readonly socket: TcpEntry;
  /** The peer that matters: the forwarder's far end when forwarded, else the socket's peer. */
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly rtt: ConnectionRtt | null;
  readonly via: ForwarderInfo | null;
}

export interface ForwarderInfo {
  readonly pid: number | null;
  readonly process: ProcessInfo | null;
  readonly catalogId: string | null;
  /** The forwarder's connection off the machine, when found. */
  readonly outer: TcpEntry | null;
  /** Whether the forwarder's far connection was made to it (socat listening) or by it (ssh -R). */
  readonly outerDirection: 'inbound' | 'outbound' | null;
}

export interface BehaviourScanResult {
  readonly observations: FindingObservation[];
  readonly listeners: readonly RecognisedListener[];
  readonly probedSockets: number;
}

/** Protocols whose sessions are screen control. SSH is recognised for forwarding, and reported milder. */
const SCREEN_PROTOCOLS = new Set(['rfb', 'rdp', 'nomachine']);

function strip(address: string): string {
  return address.replace(/^::ffff:/, '');
}


function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::ffff:0.0.0.0';
}

/** Whether an established socket's local end is the listening socket's. */
function acceptedBy(listener: TcpEntry, socket: TcpEntry): boolean {
  return socket.localPort === listener.localPort && (isWildcard(listener.localAddress) || sameAddress(listener.localAddress, socket.localAddress));
}


/** Listening key and session key, shared with the tool scan to avoid double findings. */
export function listeningKey(address: string, port: number): string {
  return `${address}:${port}`;
}
export function sessionKey(localAddress: string, localPort: number, peerAddress: string, peerPort: number): string {
  return `${localAddress}:${localPort}>${peerAddress}:${peerPort}`;
}

/** The listening and session keys a tool scan reported, for `alreadyReported`. */
export function reportedByToolScan(tools: readonly { listening: readonly { localAddress: string; localPort: number }[]; sessions: readonly { localAddress: string; localPort: number; peerAddress: string; peerPort: number }[] }[]): Set<string> {
  const reported = new Set<string>();
  for (const tool of tools) {
    for (const socket of tool.listening) reported.add(listeningKey(socket.localAddress, socket.localPort));
    for (const session of tool.sessions) reported.add(sessionKey(session.localAddress, session.localPort, session.peerAddress, session.peerPort));
  }
  return reported;
}

/** The listening and session keys of other scanners' findings (address/port, local/peer evidence). */
export function reportedByObservations(observations: readonly FindingObservation[]): Set<string> {
  const reported = new Set<string>();
  for (const { kind, evidence } of observations) {
    if (kind === 'remote-tool-listening' && typeof evidence.address === 'string' && typeof evidence.port === 'number') reported.add(listeningKey(evidence.address, evidence.port));
    if (
      kind === 'remote-session-active' &&
      typeof evidence.localAddress === 'string' &&
      typeof evidence.localPort === 'number' &&
      typeof evidence.peerAddress === 'string' &&
      typeof evidence.peerPort === 'number'
    ) {
      reported.add(sessionKey(evidence.localAddress, evidence.localPort, evidence.peerAddress, evidence.peerPort));
    }
  }
  return reported;
}

/** Run one behaviour scan. Probe failures of single sockets are results, not errors. */
export async function scanBehaviour(options: BehaviourScanOptions): Promise<BehaviourScanResult> {
  const { probes, prober } = options;
  const table = await probes.readTcpTable();
  const listening = table.filter((entry) => entry.state === 'listen');
  const established = table.filter((entry) => entry.state === 'established');
  const results = await prober.probeAll(listening);
  const recognised: { socket: TcpEntry; recognised: Recognised }[] = [];
  for (const socket of listening) {
    const result = prober.resultFor(socket);
    if (result?.status === 'recognised') recognised.push({ socket, recognised: result.recognised });
  }
  const sessionsOf = new Map(recognised.map((item) => [item, established.filter((socket) => acceptedBy(item.socket, socket))]));
  const loopbackSessions = [...sessionsOf.values()].some((sessions) => sessions.some((socket) => isLoopback(socket.remoteAddress)));

  // One owner lookup for everything this scan needs: recognised listeners, and when a session is
  // on loopback, every established socket (to find the forwarder and its far connection).
  const wanted = new Set<number>();
  for (const item of recognised) if (item.socket.pid === null && item.socket.inode !== 0) wanted.add(item.socket.inode);
  if (loopbackSessions) for (const socket of established) if (socket.pid === null && socket.inode !== 0) wanted.add(socket.inode);
  const owners = wanted.size > 0 ? await probes.ownersOf(wanted) : new Map<number, number>();
  const pidOf = (socket: TcpEntry) => socket.pid ?? owners.get(socket.inode) ?? null;
  const byPid = new Map(options.processes.map((process) => [process.pid, process]));
  const anySession = [...sessionsOf.values()].some((sessions) => sessions.length > 0);
  const rtts = anySession && probes.readRtt ? await probes.readRtt().catch(() => []) : [];

  const listeners: RecognisedListener[] = [];
  for (const item of recognised) {
    const ownerPid = pidOf(item.socket);
    const sessions = sessionsOf.get(item)!.map((socket): BehaviourSession => {
      const found = isLoopback(socket.remoteAddress) ? findForwarder(socket, established, listening, pidOf, byPid, options.matcher) : null;
      // A local program without a connection onwards is a client on this machine, not a forwarder.
      const via = found && (found.outer !== null || found.pid === null) ? found : null;
      const outer = via?.outer ?? null;
      return {
        socket,
        peerAddress: outer ? outer.remoteAddress : socket.remoteAddress,
        peerPort: outer ? outer.remotePort : socket.remotePort,
        rtt: findRtt(rtts, outer ?? socket),
        via,
      };
    });
    listeners.push({ socket: item.socket, recognised: item.recognised, ownerPid, owner: ownerPid === null ? null : (byPid.get(ownerPid) ?? null), sessions });
  }
  return { observations: observationsFor(listeners, options), listeners, probedSockets: results.size };
}

/**
 * The process at the other end of a loopback session, and its own connection off the machine.
 * The other end is the established socket whose local endpoint is the session's peer endpoint.
 */
function findForwarder(
  session: TcpEntry,
  established: readonly TcpEntry[],
  listening: readonly TcpEntry[],
  pidOf: (socket: TcpEntry) => number | null,
  byPid: ReadonlyMap<number, ProcessInfo>,
  matcher: ProcessMatcher,
): ForwarderInfo {
  const otherEnd = established.find(
    (socket) =>
      socket.localPort === session.remotePort &&
      sameAddress(socket.localAddress, session.remoteAddress) &&
      socket.remotePort === session.localPort &&
      sameAddress(socket.remoteAddress, session.localAddress),
  );
  const pid = otherEnd ? pidOf(otherEnd) : null;
  const process = pid === null ? null : (byPid.get(pid) ?? null);
  const catalogId = process ? (matcher.match(processNames(process))?.entry.id ?? null) : null;
  if (pid === null) return { pid, process, catalogId, outer: null, outerDirection: null };
  const own = established.filter((socket) => socket !== otherEnd && pidOf(socket) === pid);
  // Any listening socket, not only the forwarder's: a forking forwarder (socat fork) accepts in
  // the parent and forwards in a child.
  const accepted = (socket: TcpEntry) => listening.some((listener) => acceptedBy(listener, socket));
  // The connection that leaves the machine; or, for a forwarder listening on loopback itself (a
  // chain, or a client on this machine), a connection it accepted.
  const outer = own.find((socket) => !isLoopback(socket.remoteAddress)) ?? own.find(accepted) ?? null;
  return { pid, process, catalogId, outer, outerDirection: outer ? (accepted(outer) ? 'inbound' : 'outbound') : null };
}

function ownerEvidence(pid: number | null, process: ProcessInfo | null): Evidence {
  return { pid, name: process?.name ?? null, exe: process?.exe ?? null, uid: process?.uid ?? null };
}

function ownerText(listener: RecognisedListener): string {
  if (listener.owner) return `a program named "${listener.owner.name}"`;
  return listener.ownerPid !== null ? `process ${listener.ownerPid}` : 'a program this account cannot see (another user\'s)';
}

/** Findings for the recognised listeners, skipping what the tool scan already reported. */
export function observationsFor(listeners: readonly RecognisedListener[], options: Pick<BehaviourScanOptions, 'alreadyReported' | 'matcher'>): FindingObservation[] {
  const reported = options.alreadyReported ?? new Set<string>();
  const observations: FindingObservation[] = [];
  const sessionsByPeer = new Map<string, FindingObservation & { forwarded: boolean }>();
  for (const listener of listeners) {
    const { socket, recognised } = listener;
    const label = PROTOCOL_LABEL[recognised.protocol];
    const screen = SCREEN_PROTOCOLS.has(recognised.protocol);
    const owner = listener.owner;
    const ownerCatalogId = owner ? (options.matcher.match(processNames(owner))?.entry.id ?? null) : null;
    const base = {
      // What the verdict and the views call it, when no catalog entry names the owner.
      tool: `${label} server`,
      signal: 'protocol-probe',
      protocol: recognised.protocol,
      protocolVersion: recognised.version,
      owner: ownerEvidence(listener.ownerPid, owner),
      ownerCatalogId,
    };
    const localOnly = isLoopback(socket.localAddress);
    if (screen && !reported.has(listeningKey(socket.localAddress, socket.localPort))) {
      observations.push({
        key: `${BEHAVIOUR_SOURCE}:listening:${recognised.protocol}:${socket.localAddress}:${socket.localPort}`,
        kind: 'remote-tool-listening',
        severity: localOnly ? 'low' : 'medium',
        title: `A ${label} server is accepting connections on port ${socket.localPort}`,
        explanation:
          `Port ${socket.localPort} answers like a ${label} server (it is run by ${ownerText(listener)}). ` +
          (localOnly
            ? 'It is reachable from this computer only, or through a tunnel.'
            : 'Another computer can connect to it to see or control this one.'),
        evidence: { ...base, address: socket.localAddress, port: socket.localPort, loopbackOnly: localOnly },
      });
    }
    for (const session of listener.sessions) {
      const forwarded = session.via !== null;
      if (!forwarded && reported.has(sessionKey(session.socket.localAddress, session.socket.localPort, session.socket.remoteAddress, session.socket.remotePort))) continue;
      const peerId = `${strip(session.peerAddress)}:${session.peerPort}`;
      const existing = sessionsByPeer.get(peerId);
      // The same remote session is seen at the forwarder's port and, through it, at the server's:
      // keep one, the attributed one.
      if (existing && (existing.forwarded || !forwarded)) continue;
      const rttText = session.rtt ? ` The connection's round-trip time is ${session.rtt.rttMs.toFixed(1)} ms.` : '';
      const viaText = session.via
        ? ` It arrives through ${session.via.process ? `"${session.via.process.name}"` : 'another program'} on this computer, which forwards it${session.via.outer ? ` from ${session.peerAddress}` : ''}.`
        : '';
      sessionsByPeer.set(peerId, {
        forwarded,
        key: `${BEHAVIOUR_SOURCE}:session:${recognised.protocol}:${socket.localPort}:${peerId}`,
        kind: 'remote-session-active',
        severity: screen ? 'high' : 'low',
        title: `Someone is connected to the ${label} server on port ${socket.localPort}`,
        explanation: isLoopback(session.peerAddress)
          ? // Still on loopback after attribution: a program here (or a forwarder whose far end is unreadable), not another machine.
            `A program on this computer (${session.peerAddress}) is connected to a ${label} server on this computer; a tunnel can carry such a connection from elsewhere.${viaText}`
          : `Another computer (${session.peerAddress}) is connected to a ${label} server on this computer and may be viewing or controlling it.${viaText}${rttText}`,
        evidence: {
          ...base,
          direction: 'inbound',
          localAddress: session.socket.localAddress,
          localPort: session.socket.localPort,
          peerAddress: session.peerAddress,
          peerPort: session.peerPort,
          rttMs: session.rtt?.rttMs ?? null,
          rttVarMs: session.rtt?.rttVarMs ?? null,
          minRttMs: session.rtt?.minRttMs ?? null,
          via: session.via
            ? {
                ...ownerEvidence(session.via.pid, session.via.process),
                catalogId: session.via.catalogId,
                direction: session.via.outerDirection,
                loopbackPeer: `${session.socket.remoteAddress}:${session.socket.remotePort}`,
              }
            : null,
        },
      });
    }
  }
  for (const { forwarded: _forwarded, ...observation } of sessionsByPeer.values()) observations.push(observation);
  return observations;
}
