/**
 * The remote-control lab at CI size (detector on captures, then the whole agent's device verdict):
 * real Xvfb displays, real x11vnc, real TigerVNC viewer, the
 * delay proxy at 110 ms one-way + 20 ms jitter (and 40 ms for one typing run), XTEST injection, the
 * agent's real hook on the target. Held-out human typing (user 1 locally, user 3 relayed) and
 * generated 125 Hz pointing are replayed locally and through the relay; the captured windows drive
 * the real TimingDetectorService on a real SQLite database, as a new device (population prior,
 * raised threshold). Thresholds are the detector's fixed constants; nothing here is tuned to this run.
 * Held-out typing (user 13) and pointing are also replayed locally with a busy loop on every core:
 * the load case, which must raise nothing. Findings are asserted by kind, key and title, never by
 * the wording of the feature that tipped them, which depends on how busy the machine is.
 * The typing assertion is at 40 ms jitter, where the relay model (lab/relay-model.ts) gives
 * this typist a score of 16-26 against the new-device threshold of 9 over 10 seeds; at 20 ms the
 * same model gives 2-17 (detection in 40 s is a coin flip there), so that run is only reported.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../../agent/store/database';
import { listOpenFindings } from '../../agent/store/findings';
import { TimingDetectorService } from '../../agent/timing-detector/timing-detector-service';
import type { Finding } from '../../common/findings';
import { testContext } from '../helpers/agent-context';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { tempDir } from '../helpers/temp-dir';
import { requireTools } from '../helpers/tools';
import { captureWindows, runCaptures, type Capture, type CaptureItem } from '../../lab/captures';
import { LAB_TOOLS, RDP_TOOLS, startLab, type Lab } from '../../lab/lab';
import { loadFineTypingSessions, typingSchedule } from '../../lab/schedules';

const LINK = { delayMs: 110, jitterMs: 20 };
const PLAN: CaptureItem[] = [
  { label: 'ci-keys-local', modality: 'keys', route: 'local', delayMs: 0, jitterMs: 0, user: 1, session: 5, durationMs: 40_000 },
  { label: 'ci-mouse-local', modality: 'mouse', route: 'local', delayMs: 0, jitterMs: 0, rateHz: 125, seed: 11, durationMs: 15_000 },
  { label: 'ci-keys-relayed', modality: 'keys', route: 'remote', ...LINK, user: 3, session: 4, durationMs: 40_000 },
  { label: 'ci-mouse-relayed', modality: 'mouse', route: 'remote', ...LINK, rateHz: 125, seed: 12, durationMs: 15_000 },
  { label: 'ci-keys-relayed-j40', modality: 'keys', route: 'remote', delayMs: 110, jitterMs: 40, user: 3, session: 4, durationMs: 40_000 },
  // The load case: local typing and pointing while a busy loop saturates every core.
  { label: 'ci-keys-local-cpu-hog', modality: 'keys', route: 'local', delayMs: 0, jitterMs: 0, user: 13, session: 5, durationMs: 30_000, cpuHog: true },
  { label: 'ci-mouse-local-cpu-hog', modality: 'mouse', route: 'local', delayMs: 0, jitterMs: 0, rateHz: 125, seed: 14, durationMs: 10_000, cpuHog: true },
];

/**
 * The same lab with FreeRDP (shadow server on the target, xfreerdp on the operator display) at 110 ms
 * and 40 ms jitter for typing (user 11: the relay model gives 27-31 against the new-device threshold
 * of 9 over 10 seeds) and 20 ms for pointing. xfreerdp forwards every pointer update uncoalesced, so
 * only the pointer's same-millisecond ties can show the relay.
 */
const RDP_PLAN: CaptureItem[] = [
  { label: 'ci-rdp-keys-relayed-j40', modality: 'keys', route: 'remote', delayMs: 110, jitterMs: 40, user: 11, session: 4, durationMs: 40_000, tool: 'rdp' },
  { label: 'ci-rdp-mouse-relayed', modality: 'mouse', route: 'remote', ...LINK, rateHz: 125, seed: 13, durationMs: 15_000, tool: 'rdp' },
];

/** The first 40 s (or `durationMs`) of a held-out session as the CI runs replay it. */
function ciSchedule(user: number, session: number, durationMs = 40_000): ReturnType<typeof typingSchedule> {
  return typingSchedule(loadFineTypingSessions().find((s) => s.user === user && s.session === session)!.keystrokes, { maxDurationMs: durationMs });
}

/** What a timing finding must say, whatever feature tipped it: its kind, its modality and its title. */
function assertTimingFinding(findings: readonly Finding[], modality: 'keys' | 'mouse', what: string): void {
  assert.equal(findings.length, 1, `${what} raises a finding`);
  const finding = findings[0]!;
  assert.equal(finding.kind, 'relayed-input-timing', what);
  assert.equal(finding.key, `timing:relayed-input:${modality}`, what);
  assert.equal(finding.evidence.modality, modality, what);
  assert.equal(finding.title, modality === 'keys' ? 'Typing looks relayed from another computer' : 'Pointer movement looks relayed from another computer', what);
  assert.ok(finding.explanation.length > 0, `${what}: explained`);
}

/**
 * Feed a capture's windows to a fresh detector (new device: population prior) and return what it
 * found. The windows carry what the agent's load guard reads (delivery delays, loop stalls), so a
 * busy CI machine is discounted here as the agent would discount it.
 */
function detect(t: { after(fn: () => void): void }, capture: Capture): { findings: Finding[]; service: TimingDetectorService } {
  const ctx = testContext(t, { clock: { now: () => Date.now() } });
  const { db, events } = ctx;
  const service = new TimingDetectorService(ctx);
  service.start();
  captureWindows(capture).forEach((window, id) => events.emit('windowFlushed', { id, window }));
  service.stop();
  return { findings: listOpenFindings(db).filter((f) => f.kind === 'relayed-input-timing'), service };
}

describe('remote-control lab (x11vnc with TigerVNC, and FreeRDP, through a 110 ms link with jitter)', () => {
  it('captures local and relayed input and the detector tells them apart', async (t) => {
    if (!requireTools(t, LAB_TOOLS)) return;
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-lab-ci-'));
    t.after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
    const [keysLocal, mouseLocal, keysRelayed, mouseRelayed, keysRelayed40, keysHog, mouseHog] = await runCaptures(PLAN, { cacheDir, fresh: true });

    // The lab works: every injected keystroke reaches the target's hook, locally and through the relay.
    const expected = (user: number, session: number): number => ciSchedule(user, session).keystrokes;
    const strokes = (c: Capture): number => c.events.filter((e) => e.kind === 'keystroke').length;
    assert.equal(strokes(keysLocal!), expected(1, 5), 'local keystrokes captured');
    assert.equal(strokes(keysRelayed!), expected(3, 4), 'relayed keystrokes captured');
    assert.equal(strokes(keysRelayed40!), expected(3, 4), 'relayed keystrokes captured at 40 ms jitter');
    assert.ok(mouseRelayed!.events.filter((e) => e.kind === 'mouseMove').length > 50, 'relayed pointer motion captured');

    assert.equal(strokes(keysHog!), ciSchedule(13, 5, 30_000).keystrokes, 'local keystrokes captured with every core busy');

    // No alarm on local input, idle or with every core busy (the agent's load guard discounts stalls).
    const local = [detect(t, keysLocal!), detect(t, mouseLocal!)];
    for (const result of local) assert.deepEqual(result.findings.map((f) => f.title), [], 'no finding on local input');
    for (const capture of [keysHog!, mouseHog!]) {
      assert.deepEqual(detect(t, capture).findings.map((f) => f.title), [], `no finding on local ${capture.modality} input under a CPU hog`);
    }
    const stalls = (c: Capture): string => `longest delivery delay ${Math.max(0, ...(c.deliveryDelaysMs ?? [])).toFixed(0)} ms, loop stall ${Math.max(0, ...(c.loopDelays ?? []).map((d) => d.ms))} ms`;
    t.diagnostic(`CPU hog: typing ${stalls(keysHog!)}, pointing ${stalls(mouseHog!)}; load average ${keysHog!.loadAverage?.toFixed(1)}`);

    // Relayed pointing is found and explained.
    const relayedMouse = detect(t, mouseRelayed!);
    assertTimingFinding(relayedMouse.findings, 'mouse', 'relayed pointer motion');

    // Relayed typing at 40 ms jitter.
    const relayedKeys40 = detect(t, keysRelayed40!);
    assertTimingFinding(relayedKeys40.findings, 'keys', 'relayed typing at 40 ms jitter');

    // Relayed typing at 20 ms jitter: reported only (see the header).
    const relayedKeys = detect(t, keysRelayed!);
    const keyScore = (result: ReturnType<typeof detect>): number => result.service.lastScores.find((s) => s.modality === 'keys')?.score ?? 0;
    t.diagnostic(
      `keys score local ${keyScore(local[0]!).toFixed(2)}, relayed j20 ${keyScore(relayedKeys).toFixed(2)}, relayed j40 ${keyScore(relayedKeys40).toFixed(2)}; typing finding: ${relayedKeys40.findings[0]!.explanation}; mouse finding: ${relayedMouse.findings[0]!.explanation}`,
    );
  });

  it('through FreeRDP as well: relayed typing and relayed pointing raise findings', async (t) => {
    if (!requireTools(t, RDP_TOOLS)) return;
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-lab-ci-rdp-'));
    t.after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
    const [keys, mouse] = await runCaptures(RDP_PLAN, { cacheDir, fresh: true });
    const typed = ciSchedule(11, 4).keystrokes;
    assert.equal(keys!.events.filter((e) => e.kind === 'keystroke').length, typed, 'every keystroke crossed the RDP relay');
    const keysResult = detect(t, keys!);
    assertTimingFinding(keysResult.findings, 'keys', 'relayed typing through FreeRDP');
    const mouseResult = detect(t, mouse!);
    assertTimingFinding(mouseResult.findings, 'mouse', 'relayed pointing through FreeRDP');
    t.diagnostic(`FreeRDP typing: ${keysResult.findings[0]!.explanation}; pointing: ${mouseResult.findings[0]!.explanation}`);
  });

  // The device verdict end to end: the whole headless agent (every service, real /proc and socket
  // scans, real hook, real SQLite) on the target while user 3 is relayed through x11vnc at 110 ms /
  // 40 ms jitter. The agent must find the tool, its live session and the relayed typing on its own
  // and call the device high risk, with a chain that names both. It shares this file's process
  // with the two labs above because a lab started by a fresh test process right after them does
  // not come up reliably (focus window, viewer window).
  it('finds x11vnc in a live session and relayed typing, and calls the device high risk', async (t) => {
    if (!requireTools(t, LAB_TOOLS)) return;
    let lab: Lab | null = null;
    let agent: AgentProcess | null = null;
    t.after(async () => {
      // The hooked agent must exit before its X server does.
      await agent?.stop('SIGKILL');
      await lab?.stop();
    });
    lab = await startLab({ upstream: { delayMs: 110, jitterMs: 40 }, seed: 5, verbose: true });
    const dir = tempDir(t);
    const policy = path.join(dir, 'policy.json');
    // 10 s windows: the typing's last partial window is flushed (and scored) before the agent stops,
    // so the final decision pools all 40 s of it, not only the first 50 keystrokes.
    fs.writeFileSync(policy, JSON.stringify({ intervals: { scanSeconds: 5, windowSeconds: 10 } }));
    const dataDir = path.join(dir, 'data');
    agent = spawnAgent(['--policy', policy, '--data-dir', dataDir], lab.target.env, t);
    await agent.waitForLine((line) => line.message === 'Input timing capture started', 'capture to start');

    // User 3's held-out session 4, 40 s of it (the CI lab's typist; see lab-relay.test.ts).
    await lab.run(ciSchedule(3, 4).lines, 'remote');
    // Let the last window flush (10 s) and one more detection scan run, then stop the agent cleanly.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    assert.equal(await agent.stop('SIGTERM'), 0, 'the agent stops cleanly');

    const db = openDatabase(path.join(dataDir, 'telltale.db'));
    t.after(() => db.close());
    const open = listOpenFindings(db);
    const kinds = new Set(open.map((f) => f.kind));
    const windows = agent.lines.filter((line) => line.message === 'window');
    const seen = `${windows.length} windows, ${windows.reduce((n, line) => n + Number(line.keystrokes ?? 0), 0)} keystrokes, ${windows.reduce((n, line) => n + Number(line.coincidentEvents ?? 0), 0)} ties`;
    assert.ok(kinds.has('relayed-input-timing'), `relayed typing found; open: ${[...kinds].join(', ')}; the agent saw ${seen}`);
    // The lab's delay proxy speaks RFB too, so the protocol probe also reports a session to it;
    // the one asserted here is x11vnc's own, found by name.
    const sessions = open.filter((f) => f.kind === 'remote-session-active');
    const vncSession = sessions.find((f) => /x11vnc/.test(f.title));
    assert.ok(vncSession, `x11vnc's live session found; sessions: ${sessions.map((f) => f.title).join(' | ')}`);
    const verdict = open.find((f) => f.kind === 'device-verdict');
    assert.ok(verdict, 'a verdict is open');
    assert.equal(verdict.severity, 'high');
    const chain = (verdict.evidence as { chain?: string[] }).chain ?? [];
    assert.ok(chain.some((line) => /relayed/i.test(line)) && chain.some((line) => /x11vnc/.test(line)), `chain: ${chain.join(' | ')}`);
    t.diagnostic(`the agent saw ${seen}; verdict: ${verdict.explanation}`);
  });
});
