/**
 * A real remote-control tool end to end: x11vnc serving a real Xvfb display, a real VNC viewer
 * connecting from a second display, the real /proc + ss scanner, a real SQLite file.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Finding } from '../../common/findings';
import { loadCatalog, ProcessMatcher } from '../../agent/detect/catalog/catalog';
import { listProcessesLinux } from '../../agent/detect/processes/linux';
import { readTcpRttLinux } from '../../agent/detect/rtt/linux';
import { listSocketsLinux } from '../../agent/detect/sockets/linux';
import { pathExists, scanTools, TOOL_SOURCE } from '../../agent/detect/tool-scanner';
import { openDatabase } from '../../agent/store/database';
import { listOpenFindingsBySource, reconcileFindings } from '../../agent/store/findings';
import { requireCondition, requireTools } from '../helpers/tools';
import { startXvfb, type XDisplay } from '../../lab/xvfb';
import { freePort } from '../../lab/free-port';


async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

describe('x11vnc detection (real Xvfb, x11vnc, VNC viewer, SQLite)', () => {
  it('finds x11vnc running, listening, in a session with RTT, and closes the findings when it stops', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool', 'x11vnc', 'ss'])) return;
    const viewer = ['vncviewer', 'xtightvncviewer'].find((command) => requireQuiet(command));
    if (!requireCondition(t, viewer !== undefined, 'no VNC viewer (vncviewer or xtightvncviewer)')) return;

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-x11vnc-'));
    const db = openDatabase(path.join(dir, 'agent.db'));
    let served: XDisplay | undefined = undefined;
    let viewing: XDisplay | undefined = undefined;
    let server: ChildProcess | undefined = undefined;
    let client: ChildProcess | undefined;
    t.after(async () => {
      await stopChild(client);
      await stopChild(server);
      await viewing?.stop();
      await served?.stop();
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    served = await startXvfb({ focusWindow: false });
    viewing = await startXvfb({ focusWindow: false });
    const port = await freePort();
    server = spawn('x11vnc', ['-display', served.display, '-rfbport', String(port), '-localhost', '-forever', '-shared', '-nopw', '-quiet'], {
      env: served.env,
      stdio: 'ignore',
    });

    const matcher = new ProcessMatcher(loadCatalog(), 'linux');
    const scan = async () => {
      const result = await scanTools({
        matcher,
        probes: {
          listProcesses: async () => listProcessesLinux(),
          listSockets: async (pids) => listSocketsLinux(pids),
          readRtt: readTcpRttLinux,
          pathExists,
        },
        approvedTools: [],
        platform: 'linux',
      });
      reconcileFindings(db, TOOL_SOURCE, result.observations, Date.now());
      // Other engineers' tests may run their own x11vnc on this machine: keep to ours (by pid and port).
      return listOpenFindingsBySource(db, TOOL_SOURCE).filter(
        (finding) =>
          finding.evidence.catalogId === 'x11vnc' &&
          (finding.kind === 'remote-tool-running'
            ? JSON.stringify(finding.evidence.processes).includes(`"pid":${server?.pid}`)
            : finding.evidence.pid === server?.pid),
      );
    };
    const ofKind = (findings: Finding[], kind: Finding['kind']) => findings.filter((finding) => finding.kind === kind);

    const listening = await pollUntil('x11vnc running and listening', 60_000, async () => {
      const findings = await scan();
      const listen = ofKind(findings, 'remote-tool-listening').find((finding) => finding.evidence.port === port);
      return ofKind(findings, 'remote-tool-running').length === 1 && listen ? findings : undefined;
    });
    const running = ofKind(listening, 'remote-tool-running')[0]!;
    assert.equal(running.severity, 'medium');
    assert.match(JSON.stringify(running.evidence.processes), /x11vnc/);
    const listen = ofKind(listening, 'remote-tool-listening').find((finding) => finding.evidence.port === port)!;
    assert.equal(listen.evidence.loopbackOnly, true);
    assert.equal(ofKind(listening, 'remote-session-active').length, 0, JSON.stringify(ofKind(listening, 'remote-session-active')));

    // A real VNC viewer on a second display connects over loopback.
    const viewerArgs = viewer === 'vncviewer' ? ['-SecurityTypes', 'None', '-Shared', `127.0.0.1::${port}`] : ['-shared', `127.0.0.1::${port}`];
    client = spawn(viewer!, viewerArgs, { env: viewing.env, stdio: 'ignore' });
    const session = await pollUntil('remote-session-active with RTT', 60_000, async () => {
      const found = ofKind(await scan(), 'remote-session-active')[0];
      return found && typeof found.evidence.rttMs === 'number' ? found : undefined;
    });
    assert.equal(session.severity, 'high');
    assert.equal(session.evidence.direction, 'inbound');
    assert.equal(session.evidence.localPort, port);
    assert.match(String(session.evidence.peerAddress), /^(::ffff:)?127\.0\.0\.1$|^::1$/);
    assert.ok((session.evidence.rttMs as number) >= 0);
    const firstSessionId = session.id;

    // Re-scanning while the session holds keeps the same row (dedup), moving last-seen.
    const again = ofKind(await scan(), 'remote-session-active').find((finding) => finding.id === firstSessionId);
    assert.ok(again, 'the session finding stays the same row across scans');

    // Disconnect: the session finding closes, x11vnc still runs (-forever).
    await stopChild(client);
    client = undefined;
    await pollUntil('session closed', 60_000, async () => {
      const findings = await scan();
      return ofKind(findings, 'remote-session-active').length === 0 && ofKind(findings, 'remote-tool-running').length === 1 ? true : undefined;
    });

    // Stop x11vnc: everything closes, with closed_at set in the database.
    const serverPid = server.pid;
    await stopChild(server);
    await pollUntil('all findings of our x11vnc closed', 60_000, async () => ((await scan()).length === 0 ? true : undefined));
    const rows = db.prepare("SELECT key, kind, evidence, closed_at FROM findings WHERE key LIKE 'tool:x11vnc:%'").all() as {
      key: string;
      kind: string;
      evidence: string;
      closed_at: number | null;
    }[];
    const ours = rows.filter((row) => row.key.includes(`:${port}`));
    assert.deepEqual(new Set(ours.map((row) => row.kind)), new Set(['remote-tool-listening', 'remote-session-active']));
    assert.ok(ours.every((row) => row.closed_at !== null), 'listening and session findings closed');
    const foreignX11vnc = listProcessesLinux().some((process) => process.name === 'x11vnc' && process.pid !== serverPid);
    const runningRows = rows.filter((row) => row.kind === 'remote-tool-running');
    if (foreignX11vnc) {
      // Another x11vnc keeps the tool "running": the open row must no longer name our pid.
      assert.ok(runningRows.filter((row) => row.closed_at === null).every((row) => !row.evidence.includes(`"pid":${serverPid},`)));
    } else {
      assert.ok(runningRows.length >= 1 && runningRows.every((row) => row.closed_at !== null), 'running finding closed');
    }
  });
});

function requireQuiet(command: string): boolean {
  return fs.existsSync(`/usr/bin/${command}`) || fs.existsSync(`/usr/local/bin/${command}`);
}
