/**
 * A userspace TCP proxy that adds one-way delay and jitter, the way a long, busy network path does.
 *
 * Each chunk read from one side is released to the other at
 *   release = max(previous release in that direction, arrival + delay + jitter sample)
 * so chunks are delayed independently but delivered in order, as TCP delivers a stream: a chunk held
 * back by a large jitter sample holds back everything behind it, which then leaves in a bunch. That
 * head-of-line bunching is exactly what a relayed operator's keystrokes look like on arrival.
 *
 * Jitter samples are exponential with mean `jitterMs` (many small extra delays, a long tail: a
 * queueing link), drawn from a seeded generator so a lab run is reproducible. Loopback only.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../agent/sync/backoff';

/** Delay settings for one direction. */
export interface LinkDelay {
  /** Constant one-way delay, ms. */
  readonly delayMs: number;
  /** Mean of the exponential extra delay per chunk, ms (0 = none). */
  readonly jitterMs: number;
}

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
  /** Change delay and jitter for chunks arriving from now on (open connections included). */
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
 * One direction of the pipe: queue chunks with their release times, write each when due.
 * Writes are issued from a single timer chain so order is preserved even when timers fire late.
 */
class DelayedPipe {
  private readonly queue: { release: number; chunk: Buffer }[] = [];
  private lastRelease = 0;
  private timer: NodeJS.Timeout | null = null;
  count = 0;

  constructor(
    private readonly to: net.Socket,
    private readonly link: () => LinkDelay,
    private readonly random: () => number,
  ) {}

  push(chunk: Buffer): void {
    const arrival = performance.now();
    const link = this.link();
    const jitter = link.jitterMs > 0 ? -Math.log(1 - this.random()) * link.jitterMs : 0;
    this.lastRelease = releaseTime(this.lastRelease, arrival, link.delayMs, jitter);
    this.queue.push({ release: this.lastRelease, chunk });
    this.schedule();
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
    const up = new DelayedPipe(target, () => links.upstream, random);
    const down = new DelayedPipe(client, () => links.downstream, random);
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
