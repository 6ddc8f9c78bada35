/**
 * Kernel TCP round-trip time for established connections, from `ss -tinH state established`.
 *
 * The RTT of a remote-control session's connection is the local view of "keystrokes arrive late":
 * input relayed from far away rides on it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface ConnectionRtt {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Smoothed RTT, ms. */
  readonly rttMs: number;
  /** RTT variance, ms. */
  readonly rttVarMs: number;
  /** Minimum RTT seen on the connection, ms, when the kernel reports it. */
  readonly minRttMs: number | null;
}

function splitAddress(text: string): { address: string; port: number } | undefined {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(text);
  if (!match) return undefined;
  // ss prints interface scope as "%lo"; drop it.
  return { address: match[1]!.replace(/%\S+$/, ''), port: Number(match[2]) };
}

/**
 * Parse `ss -tinH state established ...` output: an address line ("Recv-Q Send-Q local peer"),
 * then an indented info line holding "rtt:<srtt>/<rttvar>" and maybe "minrtt:<ms>".
 */
export function parseSsTcpInfo(text: string): ConnectionRtt[] {
  const result: ConnectionRtt[] = [];
  let pending: { local: { address: string; port: number }; peer: { address: string; port: number } } | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const fields = line.trim().split(/\s+/);
      // With a state filter ss omits the State column: Recv-Q Send-Q Local Peer [Process].
      const offset = /^\d+$/.test(fields[0] ?? '') ? 2 : 3;
      const local = splitAddress(fields[offset] ?? '');
      const peer = splitAddress(fields[offset + 1] ?? '');
      pending = local && peer ? { local, peer } : undefined;
      continue;
    }
    if (!pending) continue;
    const rtt = /\brtt:([\d.]+)\/([\d.]+)/.exec(line);
    const minRtt = /\bminrtt:([\d.]+)/.exec(line);
    if (rtt) {
      result.push({
        localAddress: pending.local.address,
        localPort: pending.local.port,
        remoteAddress: pending.peer.address,
        remotePort: pending.peer.port,
        rttMs: Number(rtt[1]),
        rttVarMs: Number(rtt[2]),
        minRttMs: minRtt ? Number(minRtt[1]) : null,
      });
    }
    pending = undefined;
  }
  return result;
}

/** The `ss` run shared by one scan (`shareTcpRtt`), once started; undefined: not sharing. */
let sharedRtt: Promise<ConnectionRtt[]> | null | undefined;

/**
 * Run `work` (one scan) with at most one `ss` run in it: the tool scan and the behaviour scan each
 * want the RTTs of the sessions they found, and a spawn from a node process with the agent's
 * heap costs it more CPU than the rest of a quiet scan. Nested calls join the outer one.
 */
export async function shareTcpRtt<T>(work: () => Promise<T>): Promise<T> {
  if (sharedRtt !== undefined) return work();
  sharedRtt = null;
  try {
    return await work();
  } finally {
    sharedRtt = undefined;
  }
}

/** RTTs of every established TCP connection (one `ss` run per scan; called only when a session exists). */
export function readTcpRttLinux(): Promise<ConnectionRtt[]> {
  if (sharedRtt) return sharedRtt;
  const read = promisify(execFile)('ss', ['-tinH', 'state', 'established'], { maxBuffer: 16 * 1024 * 1024 }).then(({ stdout }) => parseSsTcpInfo(stdout));
  if (sharedRtt === null) sharedRtt = read;
  return read;
}
