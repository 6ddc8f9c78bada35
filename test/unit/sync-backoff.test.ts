import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, seededRandom } from '../../agent/sync/backoff';
import { checkCollectorUrl, collectorEndpoint, isLoopbackHost } from '../../agent/sync/collector-url';

describe('backoff with full jitter', () => {
  it('doubles its ceiling up to the cap and draws each delay uniformly below it (seeded)', () => {
    const backoff = new Backoff({ baseMs: 1000, capMs: 300_000, random: seededRandom(42) });
    const ceilings = Array.from({ length: 12 }, (_, index) => backoff.ceilingMs(index + 1));
    assert.deepEqual(ceilings, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000, 300000, 300000]);
    const delays = Array.from({ length: 12 }, () => backoff.nextDelayMs());
    delays.forEach((delay, index) => assert.ok(delay >= 0 && delay < ceilings[index]!, `${delay} < ${ceilings[index]}`));
    // The same seed gives the same schedule (reproducible fault-injection runs)...
    const again = new Backoff({ baseMs: 1000, capMs: 300_000, random: seededRandom(42) });
    assert.deepEqual(Array.from({ length: 12 }, () => again.nextDelayMs()), delays);
    // ...and the jitter really spreads: a fleet of agents does not retry in lockstep.
    const fleet = Array.from({ length: 100 }, (_, seed) => new Backoff({ random: seededRandom(seed) }));
    const tenthDelays = fleet.map((agent) => Array.from({ length: 10 }, () => agent.nextDelayMs())[9]!);
    assert.ok(new Set(tenthDelays).size > 90);
    assert.ok(Math.min(...tenthDelays) < 100_000 && Math.max(...tenthDelays) > 200_000);
  });

  it('starts over after a success and never overflows', () => {
    const backoff = new Backoff({ baseMs: 1000, capMs: 5000, random: () => 0.999999 });
    for (let index = 0; index < 2000; index++) backoff.nextDelayMs();
    assert.equal(backoff.failureCount, 2000);
    assert.equal(backoff.nextDelayMs(), 4999);
    backoff.reset();
    assert.equal(backoff.nextDelayMs(), 999);
    assert.throws(() => new Backoff({ baseMs: 10, capMs: 5 }), /baseMs <= capMs/);
  });
});

describe('collector URL policy', () => {
  it('allows HTTPS anywhere and plain HTTP only to loopback', () => {
    for (const url of ['https://collector.example.com', 'https://10.0.0.5:8443/telltale', 'http://127.0.0.1:8080', 'http://127.5.6.7', 'http://localhost:3000', 'http://[::1]:9000']) {
      assert.equal(checkCollectorUrl(url).ok, true, url);
    }
    for (const url of ['http://collector.example.com', 'http://10.0.0.5', 'http://192.168.1.2:8080', 'http://128.0.0.1', 'http://[::2]', 'http://localhost.evil.com', 'http://127.0.0.1.nip.io']) {
      const result = checkCollectorUrl(url);
      assert.equal(result.ok, false, url);
      assert.equal(!result.ok && result.error.code, 'POLICY_INVALID');
      assert.match(!result.ok ? result.error.message : '', /plain HTTP to a non-loopback host; use https:\/\//);
    }
    for (const url of ['ftp://127.0.0.1', 'not a url', 'https://user:pw@collector.example.com', 'https://c.example.com/?x=1']) {
      const result = checkCollectorUrl(url);
      assert.equal(result.ok, false, url);
      assert.equal(!result.ok && result.error.code, 'POLICY_INVALID');
    }
    assert.equal(isLoopbackHost('::ffff:7f00:1'), true);
  });

  it('keeps a base path when building endpoints', () => {
    assert.equal(collectorEndpoint(new URL('https://c.example.com/telltale/'), '/v1/reports').href, 'https://c.example.com/telltale/v1/reports');
    assert.equal(collectorEndpoint(new URL('http://127.0.0.1:9'), '/v1/enroll').href, 'http://127.0.0.1:9/v1/enroll');
  });
});
