/**
 * Probes listening TCP sockets on loopback to learn which remote-control protocol they speak,
 * whatever the owning program is called (or when it cannot be read at all).
 *
 * Bounded on every axis, because it touches other programs' sockets:
 * - loopback only: a socket bound to a non-loopback address alone is never connected to;
 * - at most a handshake: read the greeting, and only if the server is silent send the first RDP
 *   message (`RDP_CONNECTION_REQUEST`); then close;
 * - a per-connection timeout, a few probes at a time, a cap of new probes per scan;
 * - each socket probed once: results are cached by (inode, port) until the socket goes away.
 */
import net from 'node:net';
import { isLoopback } from '../sockets/socket-info';
import { RDP_CONNECTION_REQUEST, recogniseGreeting, recogniseRdpConfirm, type Recognised } from './recognise';

/** A listening socket to probe, as /proc/net/tcp (or netstat) lists it. */
export interface ListeningSocket {
  /** Kernel socket inode (Linux); another stable per-socket id elsewhere, or 0. */
  readonly inode: number;
  readonly localAddress: string;
  readonly localPort: number;
}

export type ProbeResult =
  | { readonly status: 'recognised'; readonly recognised: Recognised }
  | { readonly status: 'unrecognised' }
  /** Bound to a non-loopback address only: the probe does not leave loopback. */
  | { readonly status: 'not-probed'; readonly reason: 'not-on-loopback' }
  | { readonly status: 'failed'; readonly reason: string };

/** The network seam: connect, exchange at most one request, return what the server said. */
export type Exchange = (host: string, port: number, timing: ProbeTiming) => Promise<{ greeting: Uint8Array; reply: Uint8Array | null }>;

export interface ProbeTiming {
  /** How long to wait for a server that speaks first. */
  readonly greetingMs: number;
  /** Overall bound on one probe, connect included. */
  readonly timeoutMs: number;
}

export interface ProberOptions {
  readonly timing?: ProbeTiming;
  /** New probes per `probeAll` call; the rest wait for the next scan. */
  readonly maxProbesPerScan?: number;
  /** Probes in flight at once. */
  readonly concurrency?: number;
  readonly exchange?: Exchange;
}

export const DEFAULT_TIMING: ProbeTiming = { greetingMs: 800, timeoutMs: 2000 };

/** The loopback address to reach a listening socket at, or undefined when it is not on loopback. */
export function loopbackTarget(localAddress: string): string | undefined {
  if (localAddress === '0.0.0.0') return '127.0.0.1';
  if (localAddress === '::' || localAddress === '::1') return '::1';
  if (localAddress.startsWith('::ffff:') && isLoopback(localAddress)) return localAddress.slice('::ffff:'.length);
  if (localAddress === '::ffff:0.0.0.0') return '127.0.0.1';
  return isLoopback(localAddress) ? localAddress : undefined;
}

/** Cache key of a socket: the inode alone can be reused after close, the port pins it. */
function keyOf(socket: ListeningSocket): string {
  return `${socket.inode}:${socket.localAddress}:${socket.localPort}`;
}

export class ProtocolProber {
  private readonly cache = new Map<string, ProbeResult>();
  private readonly timing: ProbeTiming;
  private readonly maxProbesPerScan: number;
  private readonly concurrency: number;
  private readonly exchange: Exchange;
  /** Probes actually made (connections opened), for tests and the bench. */
  probesMade = 0;

  constructor(options: ProberOptions = {}) {
    this.timing = options.timing ?? DEFAULT_TIMING;
    this.maxProbesPerScan = options.maxProbesPerScan ?? 16;
    this.concurrency = options.concurrency ?? 4;
    this.exchange = options.exchange ?? tcpExchange;
  }

  /**
   * Results for the given listening sockets: cached ones at once, up to `maxProbesPerScan` new
   * ones probed now; sockets left over are absent from the map and probed on a later call.
   * Cache entries of sockets no longer listed are dropped.
   */
  async probeAll(sockets: readonly ListeningSocket[]): Promise<Map<string, ProbeResult>> {
    const wanted = new Map(sockets.map((socket) => [keyOf(socket), socket]));
    for (const key of this.cache.keys()) if (!wanted.has(key)) this.cache.delete(key);
    const fresh = [...wanted].filter(([key]) => !this.cache.has(key)).slice(0, this.maxProbesPerScan);
    let next = 0;
    const worker = async () => {
      while (next < fresh.length) {
        const [key, socket] = fresh[next++]!;
        this.cache.set(key, await this.probeOne(socket));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, fresh.length) }, worker));
    const result = new Map<string, ProbeResult>();
    for (const key of wanted.keys()) {
      const cached = this.cache.get(key);
      if (cached) result.set(key, cached);
    }
    return result;
  }

  /** The cached result for one socket, if it was probed. */
  resultFor(socket: ListeningSocket): ProbeResult | undefined {
    return this.cache.get(keyOf(socket));
  }

  private async probeOne(socket: ListeningSocket): Promise<ProbeResult> {
    const host = loopbackTarget(socket.localAddress);
    if (!host) return { status: 'not-probed', reason: 'not-on-loopback' };
    this.probesMade++;
    try {
      const { greeting, reply } = await this.exchange(host, socket.localPort, this.timing);
      const recognised = greeting.length > 0 ? recogniseGreeting(greeting) : reply ? recogniseRdpConfirm(reply) : undefined;
      return recognised ? { status: 'recognised', recognised } : { status: 'unrecognised' };
    } catch (error) {
      return { status: 'failed', reason: error instanceof Error ? error.message : String(error) };
    }
  }
}

/**
 * The real exchange: connect, wait `greetingMs` for the server to speak; if it said nothing, send
 * the RDP connection request and wait for its answer until `timeoutMs`. Reads at most 1 KiB.
 */
export function tcpExchange(host: string, port: number, timing: ProbeTiming): Promise<{ greeting: Uint8Array; reply: Uint8Array | null }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let sent = false;
    let settled = false;
    const received = () => Buffer.concat(chunks);
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      clearTimeout(greetingTimer);
      socket.destroy();
      if (error && received().length === 0) reject(error);
      else resolve(sent ? { greeting: new Uint8Array(0), reply: received() } : { greeting: received(), reply: null });
    };
    const overall = setTimeout(() => finish(new Error(`no answer within ${timing.timeoutMs} ms`)), timing.timeoutMs);
    let greetingTimer: NodeJS.Timeout | undefined;
    socket.once('connect', () => {
      greetingTimer = setTimeout(() => {
        if (chunks.length > 0 || settled) return;
        sent = true;
        socket.write(RDP_CONNECTION_REQUEST);
      }, timing.greetingMs);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const total = received();
      // A greeting line or a TPKT is complete enough to decide on; 1 KiB is more than any needs.
      if (total.length >= 1024 || (!sent && total.includes(0x0a)) || (sent && total.length >= 4 && total.length >= ((total[2]! << 8) | total[3]!))) finish();
    });
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error('closed without an answer')));
  });
}
