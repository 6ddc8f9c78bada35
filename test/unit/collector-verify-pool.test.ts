/**
 * The worker-thread Ed25519 verifier: the same answers as the inline check (valid, forged, wrong
 * key, tampered, malformed), batching, the inline fast paths, and no worker left after close, both
 * for a pool on its own and for the one buildCollector starts.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { canonicalize } from '../../protocol/canonical-json';
import { startTestCollector } from '../helpers/collector/harness';
import { VerifierPool } from '../../protocol/verify-pool';
import { sealReport, verifySignature } from '../../protocol/report-crypto';

function signer() {
  const pair = crypto.generateKeyPairSync('ed25519');
  return {
    publicKey: pair.publicKey,
    sign: (message: Uint8Array) => crypto.sign(null, message, pair.privateKey).toString('base64url'),
  };
}

/** Exercise cases: [key, message, signature, expected]. */
function cases() {
  const alice = signer();
  const mallory = signer();
  const message = Buffer.from(canonicalize({ deviceId: 'alice', seq: 1, text: 'Ünïcödé ✓' }), 'utf8');
  const good = alice.sign(message);
  const last = good.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return [
    { name: 'valid', key: alice.publicKey, message, signature: good, expected: true },
    { name: 'forged (signed by another key)', key: alice.publicKey, message, signature: mallory.sign(message), expected: false },
    { name: 'wrong key', key: mallory.publicKey, message, signature: good, expected: false },
    { name: 'tampered message', key: alice.publicKey, message: Buffer.concat([message, Buffer.from(' ')]), signature: good, expected: false },
    { name: 'non-canonical last character', key: alice.publicKey, message, signature: good.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1]!, expected: false },
    { name: 'truncated signature', key: alice.publicKey, message, signature: good.slice(0, -4), expected: false },
    { name: 'not base64url', key: alice.publicKey, message, signature: '!'.repeat(86), expected: false },
  ];
}

test('worker pool: valid, forged, wrong-key, tampered and malformed signatures answer like the inline check', async (t) => {
  const pool = new VerifierPool({ threads: 2, inlineWhenIdle: false });
  t.after(() => pool.close());
  const all = cases();
  // Several rounds at once so both workers take part and messages carry batches.
  const jobs = Array.from({ length: 8 }, () => all).flat();
  const results = await Promise.all(jobs.map((item) => pool.verify(item.key, item.message, item.signature)));
  jobs.forEach((item, index) => {
    assert.equal(results[index], item.expected, item.name);
    assert.equal(verifySignature(item.key, item.message, item.signature), item.expected, `inline: ${item.name}`);
  });
  const stats = pool.stats;
  // Malformed signatures are refused before any thread sees them; everything else ran on a worker.
  const wellFormed = jobs.filter((item) => !/non-canonical|truncated|base64url/.test(item.name)).length;
  assert.equal(stats.pooled, wellFormed);
  assert.equal(stats.inline, 0);
  assert.equal(stats.liveWorkers, 2);
  assert.ok(stats.messages < wellFormed, `jobs of one turn share messages (${stats.messages} messages for ${wellFormed} jobs)`);
});

test('worker pool: a lone request is verified inline without starting a worker; a full pool overflows inline', async (t) => {
  const idle = new VerifierPool({ threads: 2 });
  t.after(() => idle.close());
  const [valid] = cases();
  assert.equal(await idle.verify(valid!.key, valid!.message, valid!.signature), true);
  assert.deepEqual(idle.stats, { pooled: 0, inline: 1, messages: 0, liveWorkers: 0 });

  const busy = new VerifierPool({ threads: 1, maxInFlightPerWorker: 3, inlineWhenIdle: false });
  t.after(() => busy.close());
  const results = await Promise.all(Array.from({ length: 10 }, () => busy.verify(valid!.key, valid!.message, valid!.signature)));
  assert.ok(results.every(Boolean));
  assert.deepEqual({ pooled: busy.stats.pooled, inline: busy.stats.inline }, { pooled: 3, inline: 7 });
});

test('worker pool: close terminates every worker, finishes outstanding jobs, and later calls verify inline', async () => {
  const pool = new VerifierPool({ threads: 2, inlineWhenIdle: false });
  const [valid, forged] = cases();
  const pending = Array.from({ length: 50 }, (_, index) => {
    const item = index % 2 === 0 ? valid! : forged!;
    return pool.verify(item.key, item.message, item.signature).then((result) => assert.equal(result, item.expected));
  });
  assert.equal(pool.stats.liveWorkers, 2);
  await pool.close();
  assert.equal(pool.stats.liveWorkers, 0);
  await Promise.all(pending);
  assert.equal(pool.stats.pooled + pool.stats.inline, 50, 'every job answered once, by a worker or inline at close');
  assert.equal(await pool.verify(valid!.key, valid!.message, valid!.signature), true);
  assert.equal(pool.stats.liveWorkers, 0, 'no worker restarted after close');
});

test('buildCollector verifies on its worker pool and leaves no worker running after app.close', async (t) => {
  const collector = await startTestCollector(t, { verifyThreads: 2 });
  const pool = collector.app.collector.verifierPool;
  assert.ok(pool, 'the app made a pool');
  const devices = await Promise.all(Array.from({ length: 20 }, () => collector.enroll()));
  const forger = crypto.generateKeyPairSync('ed25519');
  const reports = devices.map((device, index) => {
    const report = device.nextReport();
    if (index % 5 !== 0) return report;
    return sealReport(report.body, forger.privateKey).report;
  });
  const responses = await Promise.all(reports.map((report) => collector.postReport(report)));
  assert.deepEqual(
    responses.map((response) => response.statusCode),
    reports.map((_, index) => (index % 5 === 0 ? 401 : 200)),
  );
  assert.equal(await collector.count('reports'), 16);
  assert.ok(pool.stats.pooled > 0, `some verifications ran on workers: ${JSON.stringify(pool.stats)}`);
  assert.ok(pool.stats.liveWorkers > 0);
  await collector.app.close();
  assert.equal(pool.stats.liveWorkers, 0, 'workers terminated with the app');
});
