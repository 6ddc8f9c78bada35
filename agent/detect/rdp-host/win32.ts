/**
 * Windows' own Remote Desktop host, found through its service rather than a process name: the RDP
 * listener and its connections belong to an svchost.exe hosting TermService, so the name-based scan
 * never sees them. Three recorded outputs decide it:
 * - `Get-CimInstance Win32_Service -Filter "Name='TermService'"` → is the service running, and its pid;
 * - `netstat -ano` → the sockets that pid listens on (3389 unless reconfigured) and its connections;
 * - `query session` (qwinsta) → `rdp-tcp#N` sessions in state Active: someone is logged on over RDP.
 * User names in `query session` are never kept.
 */
import type { FindingObservation } from '../../../common/findings';
import { ProbeError, type CommandRunner } from '../command-runner';
import { isLoopback, type SocketInfo } from '../sockets/socket-info';
import { parseNetstatAno } from '../sockets/win32';

export const RDP_HOST_SOURCE = 'rdp-host';

export interface TermServiceState {
  readonly running: boolean;
  /** The svchost pid hosting TermService; null when stopped. */
  readonly processId: number | null;
  readonly startMode: string | null;
}

export interface WindowsSession {
  readonly name: string;
  readonly id: number;
  readonly state: string;
}

export interface RdpHostState {
  readonly service: TermServiceState | null;
  readonly sessions: readonly WindowsSession[];
  readonly sockets: readonly SocketInfo[];
}

export const TERMSERVICE_COMMAND = "Get-CimInstance Win32_Service -Filter \"Name='TermService'\" | Select-Object Name,State,ProcessId,StartMode | ConvertTo-Json -Compress";

/** Parse the TermService JSON; null when the service does not exist (Windows Home has it too, stopped). */
export function parseTermService(text: string): TermServiceState | null {
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProbeError('PROBE_OUTPUT_INVALID', 'TermService query did not print JSON');
  }
  const item = (Array.isArray(value) ? value[0] : value) as { State?: unknown; ProcessId?: unknown; StartMode?: unknown } | undefined;
  if (!item || typeof item !== 'object' || typeof item.State !== 'string') throw new ProbeError('PROBE_OUTPUT_INVALID', 'TermService JSON has no State');
  const running = item.State === 'Running';
  const processId = typeof item.ProcessId === 'number' && item.ProcessId > 0 ? item.ProcessId : null;
  return { running, processId: running ? processId : null, startMode: typeof item.StartMode === 'string' ? item.StartMode : null };
}

/**
 * Parse `query session` (qwinsta): a header line, then one line per session; the current one starts
 * with ">". Columns are fixed-width under the header; USERNAME may be empty, so the session id and
 * state are found after the session name by pattern, and the user name is dropped.
 */
export function parseQuerySession(text: string): WindowsSession[] {
  const lines = text.split(/\r?\n/);
  const header = lines.findIndex((line) => /SESSIONNAME/i.test(line) && /\bID\b/i.test(line));
  if (header < 0) return [];
  const sessions: WindowsSession[] = [];
  for (const line of lines.slice(header + 1)) {
    if (line.trim() === '') continue;
    const body = line.replace(/^[ >]/, '');
    const name = /^(\S*)/.exec(body)![1]!;
    // "<name> [user] <id> <state> [type] [device]": the id is the first all-digit field after the name.
    const match = /\s(\d+)\s+([A-Za-z]+)/.exec(body.slice(name.length));
    if (!match) continue;
    sessions.push({ name, id: Number(match[1]), state: match[2]! });
  }
  return sessions;
}

/** Read the three outputs through the command seam. */
export async function readRdpHostWin32(run: CommandRunner): Promise<RdpHostState> {
  const service = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', TERMSERVICE_COMMAND]);
  if (service.exitCode !== 0) throw new ProbeError('PROBE_COMMAND_FAILED', `TermService query exited with ${service.exitCode}`);
  const state = parseTermService(service.stdout);
  if (!state?.running) return { service: state, sessions: [], sockets: [] };
  // query session exits 1 when it lists no session it may show; its output is still the table.
  const [sessions, netstat] = await Promise.all([run('query.exe', ['session']), run('netstat.exe', ['-ano'])]);
  if (netstat.exitCode !== 0) throw new ProbeError('PROBE_COMMAND_FAILED', `netstat exited with ${netstat.exitCode}`);
  const sockets = parseNetstatAno(netstat.stdout).filter((socket) => socket.pid === state.processId);
  return { service: state, sessions: parseQuerySession(sessions.stdout), sockets };
}

/** Findings for the RDP host: its listener(s), connections to them, and Active rdp-tcp sessions. */
export function rdpHostObservations(state: RdpHostState): FindingObservation[] {
  if (!state.service?.running) return [];
  const observations: FindingObservation[] = [];
  const service = { tool: 'Windows Remote Desktop', service: 'TermService', pid: state.service.processId, startMode: state.service.startMode };
  const listening = state.sockets.filter((socket) => socket.state === 'listen');
  const ports = new Set(listening.map((socket) => socket.localPort));
  for (const socket of listening) {
    const localOnly = isLoopback(socket.localAddress);
    observations.push({
      key: `${RDP_HOST_SOURCE}:listening:${socket.localAddress}:${socket.localPort}`,
      kind: 'remote-tool-listening',
      severity: localOnly ? 'low' : 'medium',
      title: `Windows Remote Desktop is accepting connections on port ${socket.localPort}`,
      explanation: `Remote Desktop is turned on: another computer can log on to this one over port ${socket.localPort} and control it.`,
      evidence: { ...service, protocol: 'rdp', address: socket.localAddress, port: socket.localPort, loopbackOnly: localOnly },
    });
  }
  const connections = state.sockets.filter((socket) => socket.state === 'established' && ports.has(socket.localPort));
  for (const socket of connections) {
    observations.push({
      key: `${RDP_HOST_SOURCE}:session:${socket.localPort}:${socket.remoteAddress}:${socket.remotePort}`,
      kind: 'remote-session-active',
      severity: 'high',
      title: 'Someone is connected to this computer over Remote Desktop',
      explanation: `Another computer (${socket.remoteAddress}) is connected to Windows Remote Desktop on this computer and may be controlling it.`,
      evidence: { ...service, protocol: 'rdp', direction: 'inbound', localAddress: socket.localAddress, localPort: socket.localPort, peerAddress: socket.remoteAddress, peerPort: socket.remotePort, rttMs: null },
    });
  }
  // A logged-on RDP session without a visible connection (e.g. through an RD Gateway or a tunnel).
  const active = state.sessions.filter((session) => /^rdp-tcp#\d+$/i.test(session.name) && /^Active$/i.test(session.state));
  if (connections.length === 0) {
    for (const session of active) {
      observations.push({
        key: `${RDP_HOST_SOURCE}:session-id:${session.id}`,
        kind: 'remote-session-active',
        severity: 'high',
        title: 'Someone is logged on to this computer over Remote Desktop',
        explanation: 'Windows lists an active Remote Desktop session on this computer: someone is using it from another computer.',
        evidence: { ...service, protocol: 'rdp', sessionName: session.name, sessionId: session.id, state: session.state },
      });
    }
  }
  return observations;
}
