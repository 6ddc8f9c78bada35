/**
 * A userspace TCP proxy that adds one-way delay and jitter, the way a long, busy network path does.
 *
 * Each chunk read from one side is released to the other at
 *   release = max(previous release in that direction, arrival + delay + jitter sample)
 * so chunks are delayed independently but delivered in order, as TCP delivers a stream: a chunk held
 * back by a large jitter sample holds back everything behind it, which then leaves in a bunch. That
 * head-of-line bunching is exactly what a relayed operator's keystrokes look like on arrival.
 *
 * Jitter samples are drawn per chunk from a seeded generator, so a lab run is reproducible, in one of
 * the shapes of lab/relay-model.ts jitterSample: exponential with mean `jitterMs` (the default: many
 * small extra delays, a long tail, a queueing link), normal with that standard deviation or uniform
 * over ±jitterMs around the constant delay (netem's shapes; never earlier than no delay at all), or
 * Pareto with that mean (a heavy tail: rare, very late chunks).
 *
 * A bandwidth cap makes the link a bottleneck: a token bucket of `rateKbps` with a burst of
 * BURST_BYTES. A chunk leaves the bucket when enough tokens have gathered for it, then takes the
 * delay and jitter. Chunks waiting for tokens beyond QUEUE_LIMIT_BYTES pause reading from their
 * sender, the way a full socket buffer pushes back on a real server: a remote-desktop server whose
 * screen updates are throttled also has its own input loop held up. Loopback only.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../agent/sync/backoff';
import { jitterSample, type JitterKind } from './relay-model';

/** Delay settings for one direction. */
export interface LinkDelay {
  /** Constant one-way delay, ms. */
  readonly delayMs: number;
  /** Scale of the extra delay per chunk, ms (0 = none): the mean, or the spread for normal and uniform. */
  readonly jitterMs: number;
  /** Shape of the extra delay (default 'exponential'). */
  readonly jitter?: JitterKind;
  /** Bandwidth cap, kbit/s (1 kbit = 1000 bits); absent = uncapped. */
  readonly rateKbps?: number;
}

/** Bytes a capped link may send at once before the rate applies (a typical shaper's burst). */
export const BURST_BYTES = 16 * 1024;
/** Bytes waiting for tokens beyond which the proxy stops reading from the sender (backpressure). */
export const QUEUE_LIMIT_BYTES = 64 * 1024;

export interface DelayProxyOptions {
  /** Where to forward, on loopback. */
  readonly targetPort: number;
  /** Client → target direction (the operator's input travels this way). */
  readonly upstream: LinkDelay;
  /** Target → client direction (screen updates). */
  readonly downstream: LinkDelay;
  /** Seed for the jitter generator. */
  readonly seed: number;
}

export interface DelayProxy {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** Chunks received so far, per direction (for tests and diagnostics). */
  readonly chunks: { upstream: number; downstream: number };
  /** Change delay, jitter and cap for chunks arriving from now on (open connections included). */
  setLinks(upstream: LinkDelay, downstream: LinkDelay): void;
  close(): Promise<void>;
}

/** The seeded PRNG (mulberry32) shared with the agent's backoff: one implementation. */
export { seededRandom } from '../agent/sync/backoff';

/**
 * The release-time rule, pure so it can be unit-tested: a chunk arriving at `arrival` with jitter
 * sample `jitter` leaves at max(previous release, arrival + delay + jitter).
 */
export function releaseTime(previousRelease: number, arrival: number, delayMs: number, jitter: number): number {
  return Math.max(previousRelease, arrival + delayMs + jitter);
}

/**
 * One jitter sample for a live link: `jitterSample` of the link's kind, never pulling a chunk earlier
 * than the constant delay allows (a normal or uniform sample below -delayMs is cut there).
 */
export function linkJitter(link: LinkDelay, random: () => number): number {
  return Math.max(-link.delayMs, jitterSample(link.jitter ?? 'exponential', link.jitterMs, random));
}

/**
 * A token bucket, pure so it can be unit-tested: `rateKbps` of tokens, at most `burstBytes` saved up.
 * Tracked as the time the bucket would next be full (GCRA's theoretical arrival time).
 */
export class TokenBucket {
  private fullAt = -Infinity;

  constructor(
    private readonly rateKbps: number,
    private readonly burstBytes = BURST_BYTES,
  ) {}

  /** When a chunk of `bytes` offered at `now` (ms) may leave: now, or when enough tokens have gathered. */
  take(bytes: number, now: number): number {
    const msPerByte = 8 / this.rateKbps;
    const start = Math.max(this.fullAt, now);
    const leave = Math.max(now, start + bytes * msPerByte - this.burstBytes * msPerByte);
    this.fullAt = start + bytes * msPerByte;
    return leave;
  }
}

/**
 * One direction of the pipe: queue chunks with their release times, write each when due.
 * Writes are issued from a single timer chain so order is preserved even when timers fire late.
 */
class DelayedPipe {
  private readonly queue: { release: number; chunk: Buffer }[] = [];
  private lastRelease = 0;
  private timer: NodeJS.Timeout | null = null;
  private bucket: { rateKbps: number; bucket: TokenBucket } | null = null;
  /** Bytes queued that are still waiting for the bucket's tokens (the bottleneck's own queue). */
  private waitingBytes = 0;
  count = 0;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly link: () => LinkDelay,
    private readonly random: () => number,
  ) {}

  push(chunk: Buffer): void {
    const arrival = performance.now();
    const link = this.link();
    let sent = arrival;
    if (link.rateKbps !== undefined && link.rateKbps > 0) {
      if (this.bucket?.rateKbps !== link.rateKbps) this.bucket = { rateKbps: link.rateKbps, bucket: new TokenBucket(link.rateKbps) };
      sent = this.bucket.bucket.take(chunk.length, arrival);
      if (sent > arrival) this.hold(chunk.length, sent);
    }
    this.lastRelease = releaseTime(this.lastRelease, sent, link.delayMs, linkJitter(link, this.random));
    this.queue.push({ release: this.lastRelease, chunk });
    this.schedule();
  }

  /** Count a chunk's bytes as queued at the bottleneck until `until`, pausing the sender while too many are. */
  private hold(bytes: number, until: number): void {
    this.waitingBytes += bytes;
    if (this.waitingBytes > QUEUE_LIMIT_BYTES) this.from.pause();
    setTimeout(() => {
      this.waitingBytes -= bytes;
      if (this.waitingBytes <= QUEUE_LIMIT_BYTES && !this.from.destroyed) this.from.resume();
    }, until - performance.now()).unref();
  }

  private schedule(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    const wait = this.queue[0]!.release - performance.now();
    if (wait <= 0) {
      this.drain();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, wait);
  }

  private drain(): void {
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.release <= now + 0.5) {
      const { chunk } = this.queue.shift()!;
      this.count++;
      if (!this.to.destroyed) this.to.write(chunk);
    }
    this.schedule();
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

/** Start the proxy on an ephemeral loopback port. */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const random = seededRandom(options.seed);
  const sockets = new Set<net.Socket>();
  const pipes = new Set<DelayedPipe>();
  const chunks = { upstream: 0, downstream: 0 };
  const links = { upstream: options.upstream, downstream: options.downstream };
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const target = net.connect({ host: '127.0.0.1', port: options.targetPort });
    target.setNoDelay(true);
    sockets.add(client);
    sockets.add(target);
    const up = new DelayedPipe(client, target, () => links.upstream, random);
    const down = new DelayedPipe(target, client, () => links.downstream, random);
    pipes.add(up);
    pipes.add(down);
    client.on('data', (chunk) => {
      chunks.upstream++;
      up.push(chunk);
    });
    target.on('data', (chunk) => {
      chunks.downstream++;
      down.push(chunk);
    });
    const end = (): void => {
      up.cancel();
      down.cancel();
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on('close', end);
    target.on('close', end);
    client.on('error', end);
    target.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    chunks,
    setLinks(upstream, downstream) {
      links.upstream = upstream;
      links.downstream = downstream;
    },
    async close() {
      for (const pipe of pipes) pipe.cancel();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
