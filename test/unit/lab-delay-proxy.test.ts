import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { releaseTime, seededRandom, startDelayProxy } from '../../lab/delay-proxy';

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
});
