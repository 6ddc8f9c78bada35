import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { BURST_BYTES, linkJitter, releaseTime, seededRandom, startDelayProxy, TokenBucket } from '../../lab/delay-proxy';

/** A loopback sink that records each chunk's arrival time. */
async function startSink(): Promise<{ port: number; arrivals: { at: number; data: string }[]; close(): Promise<void> }> {
  const arrivals: { at: number; data: string }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => arrivals.push({ at: performance.now(), data: chunk.toString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arrivals,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('lab delay proxy', () => {
  it('releases a chunk at max(previous release, arrival + delay + jitter)', () => {
    assert.equal(releaseTime(0, 100, 50, 0), 150);
    // A chunk that drew a small jitter queues behind one that drew a large one: head-of-line bunching.
    const first = releaseTime(0, 100, 50, 40); // 190
    assert.equal(first, 190);
    assert.equal(releaseTime(first, 110, 50, 5), 190);
    assert.equal(releaseTime(first, 200, 50, 0), 250);
  });

  it('draws reproducible uniform numbers from a seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(values.slice(0, 5), Array.from({ length: 5 }, () => b()));
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05);
  });

  it('delays each chunk by at least the one-way delay and delivers the stream in order (real sockets)', async (t) => {
    const sink = await startSink();
    t.after(() => sink.close());
    const proxy = await startDelayProxy({ targetPort: sink.port, upstream: { delayMs: 80, jitterMs: 30 }, downstream: { delayMs: 0, jitterMs: 0 }, seed: 3 });
    t.after(() => proxy.close());
    const client = net.connect({ host: '127.0.0.1', port: proxy.port });
    client.setNoDelay(true);
    t.after(() => client.destroy());
    await new Promise((resolve) => client.once('connect', resolve));
    const sent: number[] = [];
    for (let i = 0; i < 40; i++) {
      sent.push(performance.now());
      client.write(`<${i}>`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const deadline = Date.now() + 20_000;
    while (sink.arrivals.map((a) => a.data).join('').split('<').length - 1 < 40 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stream = sink.arrivals.map((a) => a.data).join('');
    assert.equal(stream, Array.from({ length: 40 }, (_, i) => `<${i}>`).join(''));
    // Every chunk arrives no earlier than its send time plus the constant delay (lower bound only:
    // an upper bound would be a timed assertion on a busy machine).
    for (const arrival of sink.arrivals) {
      const first = Number(/<(\d+)>/.exec(arrival.data)![1]);
      assert.ok(arrival.at - sent[first]! >= 80 - 1, `chunk ${first} arrived after ${arrival.at - sent[first]!} ms`);
    }
    assert.ok(proxy.chunks.upstream >= 1);
  });

  it('forwards the other direction too and applies new link settings', async (t) => {
    const echoSockets = new Set<net.Socket>();
    const echo = net.createServer((socket) => {
      echoSockets.add(socket);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const proxy = await startDelayProxy({
      targetPort: (echo.address() as net.AddressInfo).port,
      upstream: { delayMs: 0, jitterMs: 0 },
      downstream: { delayMs: 0, jitterMs: 0 },
      seed: 1,
    });
    const client = net.connect({ host: '127.0.0.1', port: proxy.port });
    // One cleanup in a fixed order: client, proxy, then the echo server and its connections.
    t.after(async () => {
      client.destroy();
      await proxy.close();
      for (const socket of echoSockets) socket.destroy();
      await new Promise((resolve) => echo.close(resolve));
    });
    proxy.setLinks({ delayMs: 40, jitterMs: 0 }, { delayMs: 60, jitterMs: 0 });
    await new Promise((resolve) => client.once('connect', resolve));
    const start = performance.now();
    client.write('ping');
    const reply = await new Promise<string>((resolve) => client.once('data', (chunk) => resolve(chunk.toString())));
    assert.equal(reply, 'ping');
    assert.ok(performance.now() - start >= 100 - 1);
  });

  it('draws jitter in the shape the link asks for, never earlier than no delay at all', () => {
    const draw = (jitter: 'exponential' | 'normal' | 'uniform' | 'pareto', delayMs = 110): number[] => {
      const random = seededRandom(5);
      return Array.from({ length: 20_000 }, () => linkJitter({ delayMs, jitterMs: 20, jitter }, random));
    };
    const mean = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = (xs: readonly number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
    const exponential = draw('exponential');
    assert.ok(exponential.every((x) => x >= 0) && Math.abs(mean(exponential) - 20) < 1, 'exponential: mean 20, never early');
    const normal = draw('normal');
    assert.ok(Math.abs(mean(normal)) < 1 && Math.abs(sd(normal) - 20) < 1, 'normal: centred, SD 20');
    const uniform = draw('uniform');
    assert.ok(uniform.every((x) => x >= -20 && x <= 20) && Math.abs(sd(uniform) - 20 / Math.sqrt(3)) < 0.5, 'uniform over ±20');
    const pareto = draw('pareto');
    const exponentialTail = exponential.filter((x) => x > 100).length;
    assert.ok(Math.abs(mean(pareto) - 20) < 2 && pareto.filter((x) => x > 100).length > exponentialTail, 'Pareto: same mean, heavier tail');
    assert.ok(draw('normal', 5).every((x) => x >= -5), 'a sample never pulls a chunk before the constant delay');
    assert.equal(linkJitter({ delayMs: 110, jitterMs: 0, jitter: 'pareto' }, seededRandom(1)), 0);
  });

  it('lets a burst through a token bucket at once, then paces at the rate', () => {
    // 256 kbit/s = 32 bytes per ms.
    const bucket = new TokenBucket(256, 1024);
    assert.equal(bucket.take(1024, 0), 0, 'the burst leaves at once');
    assert.equal(bucket.take(320, 0), 10, 'then 320 bytes wait 10 ms for their tokens');
    assert.equal(bucket.take(32, 0), 11);
    // After an idle second the bucket is full again.
    assert.equal(bucket.take(1024, 1000), 1000);
    assert.equal(new TokenBucket(1000).take(BURST_BYTES + 1000, 0), 8, 'a chunk larger than the burst waits for the rest');
  });

  it("caps a link's bandwidth (real sockets)", async (t) => {
    const sink = await startSink();
    t.after(() => sink.close());
    const proxy = await startDelayProxy({ targetPort: sink.port, upstream: { delayMs: 0, jitterMs: 0, rateKbps: 256 }, downstream: { delayMs: 0, jitterMs: 0 }, seed: 1 });
    t.after(() => proxy.close());
    const client = net.connect({ host: '127.0.0.1', port: proxy.port });
    t.after(() => client.destroy());
    await new Promise((resolve) => client.once('connect', resolve));
    const bytes = 64 * 1024;
    const start = performance.now();
    client.write(Buffer.alloc(bytes, 120));
    const received = (): number => sink.arrivals.reduce((n, a) => n + a.data.length, 0);
    const deadline = Date.now() + 20_000;
    while (received() < bytes && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(received(), bytes);
    // Lower bound only: (64 KiB - 16 KiB burst) at 32 bytes/ms is 1536 ms.
    const took = performance.now() - start;
    assert.ok(took >= ((bytes - BURST_BYTES) * 8) / 256 - 5, `64 KiB crossed a 256 kbit/s link in ${took.toFixed(0)} ms`);
  });
});
