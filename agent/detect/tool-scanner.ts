/**
 * The remote-tool scan: processes matched against the catalog, their sockets, session RTTs and
 * install paths, turned into findings of source `tool`.
 *
 * Cheap by construction: one process listing, socket-to-pid mapping only for matched pids, `ss` only
 * when a matched tool has an established connection, and a few stat calls for install paths.
 */
import fs from 'node:fs';
import type { Evidence, FindingObservation } from '../../common/findings';
import type { ApprovedTool } from '../../common/policy';
import { commonSigner, findApproval, rulesNeedSigner } from './approved-tools';
import type { CatalogEntry, CatalogOs, ProcessMatcher, ToolCategory } from './catalog/catalog';
import { processNames, type ProcessInfo } from './processes/process-info';
import type { ConnectionRtt } from './rtt/linux';
import { findRtt } from './rtt/match';
import { isLoopback, type SocketInfo } from './sockets/socket-info';

export const TOOL_SOURCE = 'tool';

export interface ToolScanProbes {
  listProcesses(): Promise<ProcessInfo[]>;
  listSockets(pids: readonly number[]): Promise<SocketInfo[]>;
  /** RTTs of established connections; undefined where the platform has no cheap source. */
  readRtt?: () => Promise<ConnectionRtt[]>;
  pathExists(file: string): boolean;
  /** Verified code signer of an executable (signers/read-signer.ts); absent means never verified. */
  readSigner?: (file: string) => Promise<string | null>;
  /**
   * Identity of a process whose names matched nothing: the catalog entry its binary's content
   * belongs to (identity/linux.ts), so a renamed copy is still the tool. Absent: names only.
   */
  identify?: (process: ProcessInfo) => ProcessIdentity | undefined | Promise<ProcessIdentity | undefined>;
}

/** A name-independent match of a process to a catalog entry. */
export interface ProcessIdentity {
  readonly entry: CatalogEntry;
  /** How it was matched and against what, e.g. { method: 'sha256', reference: '/usr/bin/x11vnc' }. */
  readonly evidence: Evidence;
}

export interface ToolScanOptions {
  readonly matcher: ProcessMatcher;
  readonly probes: ToolScanProbes;
  readonly approvedTools: readonly ApprovedTool[];
  readonly platform: NodeJS.Platform;
  /** Environment for expanding %VAR% in Windows install paths. */
  readonly env?: NodeJS.ProcessEnv;
}

/** One matched tool's state, before it becomes findings. */
export interface ToolState {
  readonly entry: CatalogEntry;
  readonly processes: readonly ProcessInfo[];
  readonly matchedName: string;
  /** Present when the processes matched by binary identity rather than by name. */
  readonly identifiedBy?: Evidence;
  readonly installedPaths: readonly string[];
  readonly listening: readonly SocketInfo[];
  readonly sessions: readonly SessionInfo[];
  /** Verified signer shared by the tool's executables, when a signer rule asked for it. */
  readonly signer?: string | null;
}

export interface SessionInfo {
  readonly pid: number;
  readonly direction: 'inbound' | 'outbound';
  readonly localAddress: string;
  readonly localPort: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly rtt: ConnectionRtt | null;
}

export interface ToolScanResult {
  readonly observations: FindingObservation[];
  readonly tools: readonly ToolState[];
  readonly processCount: number;
  /** The process listing of this scan, for the behaviour scan to name socket owners. */
  readonly processes: readonly ProcessInfo[];
}

/** The catalog tool a process is, by its names or else by its binary's identity, or undefined. */
export async function toolOf(
  process: ProcessInfo,
  matcher: ProcessMatcher,
  probes: Pick<ToolScanProbes, 'identify'>,
): Promise<{ by: 'name'; entry: CatalogEntry; matchedName: string } | { by: 'identity'; entry: CatalogEntry; evidence: Evidence } | undefined> {
  const match = matcher.match(processNames(process));
  if (match) return { by: 'name', entry: match.entry, matchedName: match.matchedName };
  const identity = await probes.identify?.(process);
  return identity && { by: 'identity', entry: identity.entry, evidence: identity.evidence };
}

/** Run one scan. Throws only on bugs; probe failures propagate for the service to log. */
export async function scanTools(options: ToolScanOptions): Promise<ToolScanResult> {
  const { matcher, probes } = options;
  const processes = await probes.listProcesses();
  const matched = new Map<string, { entry: CatalogEntry; matchedName: string; identifiedBy?: Evidence; processes: ProcessInfo[] }>();
  const identified = new Map<string, { entry: CatalogEntry; matchedName: string; identifiedBy?: Evidence; processes: ProcessInfo[] }>();
  for (const process of processes) {
    const tool = await toolOf(process, matcher, probes);
    if (!tool) continue;
    if (tool.by === 'name') {
      const group = matched.get(tool.entry.id) ?? { entry: tool.entry, matchedName: tool.matchedName, processes: [] };
      group.processes.push(process);
      matched.set(tool.entry.id, group);
      continue;
    }
    // Renamed copies form their own group (own finding keys), so a named and a renamed instance both show.
    const group = identified.get(tool.entry.id) ?? { entry: tool.entry, matchedName: process.name, identifiedBy: tool.evidence, processes: [] };
    group.processes.push(process);
    identified.set(tool.entry.id, group);
  }
  for (const [id, group] of identified) matched.set(`${id}:renamed`, group);
  const pids = [...matched.values()].flatMap((group) => group.processes.map((process) => process.pid));
  const sockets = pids.length > 0 ? await probes.listSockets(pids) : [];
  const needsRtt = sockets.some((socket) => socket.state === 'established');
  const rtts = needsRtt && probes.readRtt ? await probes.readRtt().catch(() => []) : [];

  const tools: ToolState[] = [];
  const needSigner = options.probes.readSigner !== undefined && rulesNeedSigner(options.approvedTools);
  for (const group of matched.values()) {
    const groupPids = new Set(group.processes.map((process) => process.pid));
    const own = sockets.filter((socket) => groupPids.has(socket.pid));
    const listening = dedupeListening(own.filter((socket) => socket.state === 'listen'));
    const listeningPorts = new Set(listening.map((socket) => socket.localPort));
    const sessions = own
      .filter((socket) => socket.state === 'established')
      .map((socket): SessionInfo => ({
        pid: socket.pid,
        direction: listeningPorts.has(socket.localPort) ? 'inbound' : 'outbound',
        localAddress: socket.localAddress,
        localPort: socket.localPort,
        peerAddress: socket.remoteAddress,
        peerPort: socket.remotePort,
        rtt: findRtt(rtts, socket),
      }));
    tools.push({
      entry: group.entry,
      processes: group.processes,
      matchedName: group.matchedName,
      ...(group.identifiedBy ? { identifiedBy: group.identifiedBy } : {}),
      installedPaths: installedPaths(group.entry, options),
      listening,
      sessions,
      ...(needSigner ? { signer: await commonSigner(executablesOf(group.processes), options.probes.readSigner!) } : {}),
    });
  }
  // Installed but not running: only the catalog's install paths for this OS, a few stat calls.
  const os = catalogOs(options.platform);
  for (const entry of matcher.catalog.entries) {
    if (matched.has(entry.id) || matched.has(`${entry.id}:renamed`) || entry.paths[os].length === 0) continue;
    const paths = installedPaths(entry, options);
    if (paths.length > 0) tools.push({ entry, processes: [], matchedName: '', installedPaths: paths, listening: [], sessions: [] });
  }
  return { observations: tools.flatMap((tool) => observationsFor(tool, options)), tools, processCount: processes.length, processes };
}

function executablesOf(processes: readonly ProcessInfo[]): string[] {
  return processes.map((process) => process.exe).filter((exe): exe is string => exe !== null);
}

function catalogOs(platform: NodeJS.Platform): CatalogOs {
  return platform === 'win32' ? 'win32' : platform === 'darwin' ? 'darwin' : 'linux';
}

function installedPaths(entry: CatalogEntry, options: ToolScanOptions): string[] {
  const env = options.env ?? process.env;
  return entry.paths[catalogOs(options.platform)]
    .map((item) => item.replace(/%([^%]+)%/g, (whole, name: string) => env[name] ?? whole))
    .filter((item) => !item.includes('%') && options.probes.pathExists(item));
}

function dedupeListening(sockets: readonly SocketInfo[]): SocketInfo[] {
  const seen = new Map<string, SocketInfo>();
  for (const socket of sockets) seen.set(`${socket.localAddress}:${socket.localPort}`, socket);
  return [...seen.values()].sort((a, b) => a.localPort - b.localPort || a.localAddress.localeCompare(b.localAddress));
}



const CATEGORY_LABEL: Record<ToolCategory, string> = {
  rmm: 'remote monitoring and management tool',
  'remote-access': 'remote access tool',
  'remote-desktop': 'remote desktop tool',
  vnc: 'VNC screen-sharing server',
  rdp: 'Remote Desktop (RDP) server',
  'kvm-software': 'software keyboard/mouse sharing tool',
  'mouse-jiggler': 'mouse jiggler',
  tunnel: 'tunnel or port forwarder',
  vpn: 'VPN client',
};

function processEvidence(tool: ToolState): Evidence[] {
  return tool.processes.slice(0, 10).map((process) => ({
    pid: process.pid,
    name: process.name,
    exe: process.exe,
    uid: process.uid,
    startedAt: process.startedAt,
  }));
}

function baseEvidence(tool: ToolState): Record<string, Evidence[keyof Evidence]> {
  return { catalogId: tool.entry.id, tool: tool.entry.name, category: tool.entry.category, ...(tool.identifiedBy ? { identifiedBy: tool.identifiedBy } : {}) };
}

/** Finding-key part of a tool: renamed copies get their own keys beside the named instance's. */
function keyOf(tool: ToolState): string {
  return tool.identifiedBy ? `${tool.entry.id}:renamed` : tool.entry.id;
}

/** Turn one tool's state into findings (or a single approved-tool finding). */
export function observationsFor(tool: ToolState, options: Pick<ToolScanOptions, 'approvedTools' | 'platform'>): FindingObservation[] {
  const { entry } = tool;
  const label = CATEGORY_LABEL[entry.category];
  const approval = findApproval(
    options.approvedTools,
    { entry, executables: executablesOf(tool.processes), signer: tool.signer ?? null },
    options.platform,
  );
  if (approval) {
    const state = tool.sessions.length > 0 ? 'session-active' : tool.listening.length > 0 ? 'listening' : tool.processes.length > 0 ? 'running' : 'installed';
    return [
      {
        key: `${TOOL_SOURCE}:${keyOf(tool)}:approved`,
        kind: 'approved-tool',
        severity: 'info',
        title: `${entry.name} (approved by your company) is ${state === 'session-active' ? 'in a session' : state}`,
        explanation: `${entry.name} is a ${label} your company's policy approves, so it is reported for completeness, not as a concern.`,
        evidence: {
          ...baseEvidence(tool),
          state,
          approvedBy: { catalogId: approval.catalogId ?? null, path: approval.path ?? null, signer: approval.signer ?? null, note: approval.note ?? null },
          processes: processEvidence(tool),
          sessions: tool.sessions.map(sessionEvidence),
        },
      },
    ];
  }
  // A tunnel alone is plumbing; the sessions it carries are attributed by the behaviour scan.
  const mild = entry.category === 'mouse-jiggler' || entry.category === 'kvm-software' || entry.category === 'tunnel';
  const observations: FindingObservation[] = [];
  if (tool.installedPaths.length > 0 && tool.processes.length === 0) {
    observations.push({
      key: `${TOOL_SOURCE}:${keyOf(tool)}:installed`,
      kind: 'remote-tool-installed',
      severity: 'low',
      title: `${entry.name} is installed`,
      explanation: `${entry.name}, a ${label}, is installed on this computer but not running.`,
      evidence: { ...baseEvidence(tool), paths: [...tool.installedPaths] },
    });
  }
  if (tool.processes.length > 0) {
    observations.push({
      key: `${TOOL_SOURCE}:${keyOf(tool)}:running`,
      kind: 'remote-tool-running',
      // A running VPN hides the laptop's location, which matters more than a jiggler or KVM software.
      severity: mild ? 'low' : 'medium',
      title: tool.identifiedBy ? `${entry.name} is running under another name (${tool.matchedName})` : `${entry.name} is running`,
      explanation:
        entry.category === 'mouse-jiggler'
          ? `${entry.name} is running. It moves the pointer automatically so the computer looks in use.`
          : entry.category === 'tunnel'
            ? `${entry.name}, a ${label}, is running. It can make a program on this computer reachable from far away, hiding where a connection comes from.`
            : entry.category === 'vpn'
              ? `${entry.name}, a ${label}, is running: a VPN is hiding where this laptop is. Laptop farms use consumer VPNs so the company sees the VPN's country, not the house.`
              : `${entry.name}, a ${label}, is running. It can let someone else see or control this computer.`,
      evidence: { ...baseEvidence(tool), matchedName: tool.matchedName, processes: processEvidence(tool), installedPaths: [...tool.installedPaths] },
    });
  }
  for (const socket of tool.listening) {
    const localOnly = isLoopback(socket.localAddress);
    observations.push({
      key: `${TOOL_SOURCE}:${keyOf(tool)}:listening:${socket.localAddress}:${socket.localPort}`,
      kind: 'remote-tool-listening',
      severity: localOnly || mild ? 'low' : 'medium',
      title: `${entry.name} is accepting connections on port ${socket.localPort}`,
      explanation: localOnly
        ? `${entry.name} is waiting for connections on port ${socket.localPort}, reachable from this computer only (or through a tunnel).`
        : `${entry.name} is waiting for connections on port ${socket.localPort}; another computer can connect to control this one.`,
      evidence: { ...baseEvidence(tool), pid: socket.pid, address: socket.localAddress, port: socket.localPort, loopbackOnly: localOnly },
    });
  }
  for (const session of tool.sessions) {
    const peer = `${session.peerAddress}:${session.peerPort}`;
    const rttText = session.rtt ? ` The connection's round-trip time is ${session.rtt.rttMs.toFixed(1)} ms.` : '';
    observations.push({
      key: `${TOOL_SOURCE}:${keyOf(tool)}:session:${session.localAddress}:${session.localPort}:${peer}`,
      kind: 'remote-session-active',
      severity: mild ? 'medium' : 'high',
      title: `${entry.name} has an active connection (${session.direction})`,
      explanation:
        session.direction === 'inbound'
          ? isLoopback(session.peerAddress)
            ? // A loopback peer is a program on this computer (often a tunnel's end), not another machine.
              `A program on this computer (${session.peerAddress}) is connected to ${entry.name}; a tunnel can carry such a connection from elsewhere.`
            : `Another computer (${session.peerAddress}) is connected to ${entry.name} on this computer and may be viewing or controlling it.${rttText}`
          : `${entry.name} on this computer is connected to ${session.peerAddress}; remote-control tools connect out to a relay so someone can control this computer.${rttText}`,
      evidence: { ...baseEvidence(tool), ...sessionEvidence(session) },
    });
  }
  return observations;
}

function sessionEvidence(session: SessionInfo): Evidence {
  return {
    pid: session.pid,
    direction: session.direction,
    localAddress: session.localAddress,
    localPort: session.localPort,
    peerAddress: session.peerAddress,
    peerPort: session.peerPort,
    rttMs: session.rtt?.rttMs ?? null,
    rttVarMs: session.rtt?.rttVarMs ?? null,
    minRttMs: session.rtt?.minRttMs ?? null,
  };
}

/** Default pathExists probe: a stat that never throws. */
export function pathExists(file: string): boolean {
  try {
    fs.statSync(file);
    return true;
  } catch {
    return false;
  }
}
