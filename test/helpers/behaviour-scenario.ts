/**
 * One row of the evasion table, run as PID 1 of its own PID + network namespace (the integration
 * test starts it under `unshare --pid --fork --mount-proc --net`), so the scan sees only this row's
 * processes and sockets. The distant peer (a VNC viewer) runs in a second network namespace joined
 * by a veth pair, so its address is not loopback and its RTT is the kernel's, not made up.
 *
 *   node --import tsx test/helpers/behaviour-scenario.ts --row NAME [--scan-user USER]
 * Prints one JSON line: { row, caughtBefore, caughtAfter, timeToFindingMs, finding, scans }.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startXvfb, type XDisplay } from '../../lab/xvfb';

export const ROWS = ['renamed-x11vnc', 'renamed-xtigervnc', 'reverse-x11vnc', 'socat-forward', 'symlink-unprivileged', 'root-x11vnc-unprivileged'] as const;
export type Row = (typeof ROWS)[number];

interface Observation {
  readonly key: string;
  readonly kind: string;
  readonly severity: string;
  readonly evidence: Record<string, unknown>;
}
interface ScanLine {
  readonly at: number;
  readonly scanMs: number;
  readonly before: Observation[];
  readonly after: Observation[];
}

/** The result line the test reads. */
export interface RowResult {
  readonly row: Row;
  readonly scanUid: number | null;
  /** A session finding from the name-only scan (the agent before this work). */
  readonly caughtBefore: boolean;
  readonly caughtAfter: boolean;
  /** From the session's start to the first scan holding the session finding. */
  readonly timeToFindingMs: number | null;
  readonly finding: Observation | null;
  /** Kinds each scan saw at the end, for the report. */
  readonly beforeKinds: string[];
  /** Median duration of the full scan (tool + behaviour) once probes are cached, ms. */
  readonly medianScanMs: number | null;
  readonly afterKinds: string[];
  readonly error?: string;
  /** When nothing was caught: what the last scan saw, and the socket table. */
  readonly afterKeys?: string[];
  readonly sockets?: string;
}

const PEER_ADDRESS = '10.213.0.2';
const AGENT_ADDRESS = '10.213.0.1';
const children: ChildProcess[] = [];

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { env, stdio: 'ignore' });
  children.push(child);
  return child;
}

function freeDisplayNumber(): number {
  for (let n = 600 + Math.floor(Math.random() * 300); n < 1000; n++) {
    if (!fs.existsSync(`/tmp/.X${n}-lock`) && !fs.existsSync(`/tmp/.X11-unix/X${n}`)) return n;
  }
  throw new Error('No free X display number');
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function listening(port: number): boolean {
  const text = ['tcp', 'tcp6'].map((file) => fs.readFileSync(`/proc/net/${file}`, 'utf8')).join('\n');
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return new RegExp(`:${hex} [0-9A-F:]+ 0A `).test(text);
}

/**
 * Start `command` in a new network namespace joined to ours by a veth pair: the peer at
 * PEER_ADDRESS, this namespace at AGENT_ADDRESS. The command waits until its address is up.
 */
async function startPeer(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const script = `while ! ip -o addr show dev tt1 2>/dev/null | grep -q ${PEER_ADDRESS}; do sleep 0.05; done; exec "$@"`;
  const peer = start('unshare', ['--net', '--', 'sh', '-c', script, 'sh', command, ...args], env);
  // unshare execs sh after creating the namespace; give it that moment before moving the link.
  await waitFor('peer namespace', 5000, () => {
    try {
      return fs.readlinkSync(`/proc/${peer.pid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net');
    } catch {
      return false;
    }
  });
  run('ip', ['link', 'add', 'tt0', 'type', 'veth', 'peer', 'name', 'tt1']);
  run('ip', ['link', 'set', 'tt1', 'netns', String(peer.pid)]);
  run('ip', ['addr', 'add', `${AGENT_ADDRESS}/24`, 'dev', 'tt0']);
  run('ip', ['link', 'set', 'tt0', 'up']);
  run('nsenter', [`--net=/proc/${peer.pid}/ns/net`, 'ip', 'link', 'set', 'lo', 'up']);
  run('nsenter', [`--net=/proc/${peer.pid}/ns/net`, 'ip', 'link', 'set', 'tt1', 'up']);
  run('nsenter', [`--net=/proc/${peer.pid}/ns/net`, 'ip', 'addr', 'add', `${PEER_ADDRESS}/24`, 'dev', 'tt1']);
  return peer;
}

function isSession(observation: Observation): boolean {
  return observation.kind === 'remote-session-active' && String(observation.evidence.peerAddress).replace(/^::ffff:/, '') === PEER_ADDRESS;
}

async function main(): Promise<void> {
  const rowIndex = process.argv.indexOf('--row');
  const row = process.argv[rowIndex + 1] as Row;
  if (process.argv.includes('--help') || !ROWS.includes(row)) {
    process.stdout.write(`Usage: behaviour-scenario --row ${ROWS.join('|')} [--scan-user USER]\n`);
    process.exit(process.argv.includes('--help') ? 0 : 2);
  }
  const userIndex = process.argv.indexOf('--scan-user');
  const scanUser = userIndex > 0 ? process.argv[userIndex + 1] : undefined;
  run('ip', ['link', 'set', 'lo', 'up']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-behaviour-'));
  fs.chmodSync(dir, 0o755);
  const displays: XDisplay[] = [];
  let result: RowResult = { row, scanUid: null, caughtBefore: false, caughtAfter: false, timeToFindingMs: null, finding: null, beforeKinds: [], afterKinds: [], medianScanMs: null };
  try {
    const viewing = await startXvfb({ focusWindow: false });
    displays.push(viewing);
    const loop = path.join(import.meta.dirname, 'behaviour-scan-loop.ts');
    const nodeArgs = ['--import', 'tsx', loop, '--interval-ms', '250'];
    const scanner = scanUser
      ? spawn('runuser', ['-u', scanUser, '--', process.execPath, ...nodeArgs], { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(process.execPath, nodeArgs, { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(scanner);
    let latest: ScanLine | undefined;
    const lines: ScanLine[] = [];
    readline.createInterface({ input: scanner.stdout! }).on('line', (line) => {
      latest = JSON.parse(line) as ScanLine & { uid: number };
      lines.push(latest);
      result = { ...result, scanUid: (latest as ScanLine & { uid: number }).uid };
    });
    await waitFor('first scan', 60_000, () => latest !== undefined);

    const port = 5900 + Math.floor(Math.random() * 90);
    const viewerArgs = (target: string) => ['-SecurityTypes', 'None', '-Shared', target];
    let sessionStart = 0;
    switch (row) {
      case 'renamed-x11vnc':
      case 'symlink-unprivileged':
      case 'root-x11vnc-unprivileged': {
        const served = await startXvfb({ focusWindow: false });
        displays.push(served);
        let program = '/usr/bin/x11vnc';
        if (row === 'renamed-x11vnc') fs.copyFileSync(program, (program = path.join(dir, 'updater')));
        if (row === 'symlink-unprivileged') fs.symlinkSync(program, (program = path.join(dir, 'updater')));
        start(program, ['-display', served.display, '-rfbport', String(port), '-forever', '-shared', '-nopw', '-quiet'], served.env);
        await waitFor('VNC server listening', 30_000, () => listening(port));
        sessionStart = Date.now();
        await startPeer('vncviewer', viewerArgs(`${AGENT_ADDRESS}::${port}`), viewing.env);
        break;
      }
      case 'renamed-xtigervnc': {
        const program = path.join(dir, 'Xorg-helper');
        fs.copyFileSync('/usr/bin/Xtigervnc', program);
        fs.chmodSync(program, 0o755);
        const display = `:${freeDisplayNumber()}`;
        start(program, [display, '-rfbport', String(port), '-SecurityTypes', 'None', '-geometry', '800x600', '-nolisten', 'tcp']);
        await waitFor('VNC server listening', 30_000, () => listening(port));
        sessionStart = Date.now();
        await startPeer('vncviewer', viewerArgs(`${AGENT_ADDRESS}::${port}`), viewing.env);
        break;
      }
      case 'reverse-x11vnc': {
        const served = await startXvfb({ focusWindow: false });
        displays.push(served);
        const program = path.join(dir, 'updater');
        fs.copyFileSync('/usr/bin/x11vnc', program);
        // The viewer listens in the peer namespace; the renamed server connects out to it.
        const peer = await startPeer('vncviewer', ['-listen', String(port)], viewing.env);
        await waitFor('listening viewer', 30_000, () => spawnSync('nsenter', [`--net=/proc/${peer.pid}/ns/net`, 'ss', '-tlnH', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim() !== '');
        sessionStart = Date.now();
        start(program, ['-display', served.display, '-connect', `${PEER_ADDRESS}:${port}`, '-forever', '-shared', '-nopw', '-quiet', '-rfbport', '0'], served.env);
        break;
      }
      case 'socat-forward': {
        const served = await startXvfb({ focusWindow: false });
        displays.push(served);
        const program = path.join(dir, 'updater');
        fs.copyFileSync('/usr/bin/x11vnc', program);
        start(program, ['-display', served.display, '-rfbport', String(port), '-localhost', '-forever', '-shared', '-nopw', '-quiet'], served.env);
        const forwarded = port + 100;
        start('socat', [`TCP-LISTEN:${forwarded},fork,reuseaddr`, `TCP:127.0.0.1:${port}`]);
        await waitFor('server and forwarder listening', 30_000, () => listening(port) && listening(forwarded));
        sessionStart = Date.now();
        await startPeer('vncviewer', viewerArgs(`${AGENT_ADDRESS}::${forwarded}`), viewing.env);
        break;
      }
    }
    // The forward row counts only a session attributed through the forwarder to the real peer.
    const forwardedThroughSocat = (observation: Observation) => (observation.evidence.via as { name?: string } | null | undefined)?.name === 'socat';
    const caught = (observations: Observation[]) => observations.find((item) => isSession(item) && (row !== 'socat-forward' || forwardedThroughSocat(item)));
    // Counted from the start of the session; the scan line is the first that shows it.
    await waitFor('a session finding', 90_000, () => latest !== undefined && latest.at > sessionStart && caught(latest.after) !== undefined).catch(() => undefined);
    const first = lines.find((line) => line.at > sessionStart && caught(line.after));
    const last = latest!;
    const durations = lines.slice(-10).map((line) => line.scanMs).sort((a, b) => a - b);
    result = {
      ...result,
      medianScanMs: durations.length > 0 ? Math.round(durations[Math.floor(durations.length / 2)]! * 10) / 10 : null,
      caughtBefore: lines.some((line) => line.at > sessionStart && caught(line.before)),
      caughtAfter: first !== undefined,
      timeToFindingMs: first ? first.at - sessionStart : null,
      finding: first ? caught(first.after)! : null,
      beforeKinds: [...new Set(last.before.filter((item) => !item.kind.endsWith('installed')).map((item) => item.kind))],
      afterKinds: [...new Set(last.after.filter((item) => !item.kind.endsWith('installed')).map((item) => item.kind))],
      ...(first ? {} : { afterKeys: last.after.map((item) => item.key), sockets: spawnSync('ss', ['-tanpH'], { encoding: 'utf8' }).stdout }),
    };
    scanner.stdin!.end();
  } catch (error) {
    result = { ...result, error: error instanceof Error ? error.message : String(error) };
  } finally {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    for (const child of children.reverse()) child.kill('SIGKILL');
    for (const display of displays) await display.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) void main();
