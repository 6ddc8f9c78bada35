/**
 * Crash safety of reporting + sync: an agent process is SIGKILLed at random moments while it queues
 * and delivers reports, 20 times on the same data folder, against the real collector. Afterwards
 * the collector must hold exactly seqs 1..N once each, with an intact chain and no gap flags: no
 * report lost, none duplicated, no seq reused, no fork.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { describe, it } from 'node:test';
import { GENESIS_HASH } from '../../common/report';
import { loadOrCreateIdentity } from '../../agent/identity/device-identity';
import { reportBodyProblems } from '../../common/report';
import { verifyOutboxLocally } from '../../agent/report/verify-local';
import { openDatabase } from '../../agent/store/database';
import { listOutbox } from '../../agent/store/outbox';
import { seededRandom } from '../../agent/sync/backoff';
import { readCollectorDatabase, startCollectorProcess } from '../helpers/collector-process';
import { tempDir } from '../helpers/temp-dir';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ITERATIONS = 20;
const BURST = 12;

interface RunResult {
  readonly lines: Record<string, unknown>[];
  readonly exit: number | string;
}

/** Run the fault-injection agent; kill it `killAfterMs` after it reports "started" (null: let it finish). */
function runAgent(args: readonly string[], killAfterMs: number | null): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'helpers', 'reporting-agent.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    // A hung child must not hang the suite.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 120_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      lines.push(parsed);
      if (parsed.event === 'started' && killAfterMs !== null) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (killAfterMs === null && code !== 0) reject(new Error(`agent exited with ${code ?? signal}: ${stderr}`));
      else if (killAfterMs !== null && signal !== 'SIGKILL' && code !== 0) reject(new Error(`agent failed before the kill (${code}): ${stderr}`));
      else resolve({ lines, exit: signal ?? code ?? -1 });
    });
  });
}

describe('reporting survives kill -9', () => {
  it(`delivers every report exactly once across ${ITERATIONS} random SIGKILLs`, async (t) => {
    const dir = tempDir(t, 'telltale-crash-');
    const dbFile = path.join(dir, 'collector.db');
    const dataDir = path.join(dir, 'agent');
    const secret = crypto.randomBytes(12).toString('hex');
    const server = await startCollectorProcess({ dbFile, enrollmentSecret: secret, itToken: crypto.randomBytes(16).toString('hex') });
    t.after(() => server.kill());
    const common = ['--data-dir', dataDir, '--collector', server.url, '--secret', secret];

    const random = seededRandom(20240611);
    let killedWhileQueueing = 0;
    let killedWhileDelivering = 0;
    let delivered = 0;
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      // Kill anywhere from right at start-up (enrollment, catch-up) to well into the burst.
      const killAfterMs = Math.floor(random() * 400);
      const result = await runAgent([...common, '--burst', String(BURST), '--seed', String(iteration)], killAfterMs);
      const queued = result.lines.filter((line) => line.event === 'queued').length;
      const deliveredNow = result.lines.filter((line) => line.event === 'delivered').length;
      delivered += deliveredNow;
      if (queued > 0 && queued < BURST) killedWhileQueueing++;
      if (deliveredNow > 0) killedWhileDelivering++;
    }
    const final = await runAgent([...common, '--exit-when-drained'], null);
    const drained = final.lines.find((line) => line.event === 'drained');
    assert.ok(drained, 'the last run drains the outbox');
    const headSeq = drained.headSeq as number;
    t.diagnostic(
      `${ITERATIONS} kills: ${killedWhileQueueing} mid-burst, ${killedWhileDelivering} after some deliveries; ${delivered} deliveries acknowledged before kills; head seq ${headSeq}`,
    );
    assert.ok(headSeq >= BURST, `enough reports were made to mean something (${headSeq})`);
    assert.ok(killedWhileDelivering >= 3, 'several kills landed while reports were being delivered');

    await server.stop();
    const stored = readCollectorDatabase(dbFile);
    assert.equal(stored.devices.length, 1, 'one device: restarts never re-enrolled as a new identity');
    assert.deepEqual(
      stored.reports.map((report) => report.seq),
      Array.from({ length: headSeq }, (_, index) => index + 1),
      'seqs 1..N each exactly once',
    );
    let previous = GENESIS_HASH;
    for (const report of stored.reports) {
      assert.equal(report.prev_hash, previous, `chain link at seq ${report.seq}`);
      assert.deepEqual(reportBodyProblems(report.body), []);
      previous = report.hash;
    }
    assert.deepEqual(stored.gaps, [], 'no gap flags');

    // The agent's own view agrees: everything delivered, every signature and link valid.
    const db = openDatabase(path.join(dataDir, 'telltale.db'));
    try {
      const outbox = listOutbox(db);
      assert.equal(outbox.length, headSeq);
      assert.ok(outbox.every((entry) => entry.state === 'delivered'));
      const identity = loadOrCreateIdentity({ dataDir });
      assert.equal(identity.created, false);
      assert.equal(stored.devices[0]!.public_key, identity.publicKeySpki);
      assert.ok(verifyOutboxLocally(db, identity.publicKey).every((check) => check.signatureValid && check.chainValid));
      // Timing windows: each reported exactly once, none skipped (ids are the windows' identity).
      const windowCount = (db.prepare('SELECT count(*) AS n FROM timing_windows').get() as { n: number }).n;
      const reported = stored.reports.reduce((sum, report) => sum + (JSON.parse(report.body) as { timing: unknown[] }).timing.length, 0);
      assert.equal(reported, windowCount, 'every stored timing window reached the collector once');
    } finally {
      db.close();
    }
  });
});
