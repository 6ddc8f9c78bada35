/**
 * Privacy canary: type a secret into a real X session while the real agent runs, then prove no
 * output of the agent holds the secret or its key identity, while proving the keystrokes WERE
 * captured (so the test cannot pass by capturing nothing).
 *
 * Outputs scanned: the database, -wal and -shm files (copied while the agent runs, right after the
 * secret's window is committed, and again after exit), stdout and stderr. To scan more outputs
 * (reports, HTTP bodies, IPC), add haystacks and call assertNoSecret from test/helpers/privacy.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { spawnAgent, type AgentProcess } from '../helpers/agent-process';
import { assertNoSecret, secretNeedles, uiohookKeycodesOf, type Haystack } from '../helpers/privacy';
import { tempDir } from '../helpers/temp-dir';
import { requireTools } from '../helpers/tools';
import { startXvfb } from '../helpers/xvfb';

const SECRET = 'quokka-zebra-7731';

function fileHaystacks(databasePath: string, label: string): Haystack[] {
  return ['', '-wal', '-shm']
    .map((suffix) => `${databasePath}${suffix}`)
    .filter((file) => fs.existsSync(file))
    .map((file) => ({ name: `${path.basename(file)} (${label})`, data: fs.readFileSync(file) }));
}

describe('privacy canary', () => {
  it('keeps no trace of a typed secret in the database, WAL, shm, stdout or stderr', async (t) => {
    if (!requireTools(t, ['Xvfb', 'xterm', 'xdotool'])) return;
    const keycodes = uiohookKeycodesOf(SECRET);
    assert.equal(keycodes.length, SECRET.length);
    const x = await startXvfb();
    let agent: AgentProcess | null = null;
    t.after(async () => {
      await agent?.stop('SIGKILL');
      await x.stop();
    });
    const dir = tempDir(t);
    const policy = path.join(dir, 'policy.json');
    // A window closes at exactly the secret's keystroke count, so its window proves capture.
    fs.writeFileSync(policy, JSON.stringify({ intervals: { windowSeconds: 600, windowKeystrokes: SECRET.length } }));
    const dataDir = path.join(dir, 'data');
    const databasePath = path.join(dataDir, 'telltale.db');
    agent = spawnAgent(['--policy', policy, '--data-dir', dataDir], x.env);
    await agent.waitForLine((line) => line.message === 'Input timing capture started', 'capture to start');

    // Probe window (17 harmless keystrokes) so the hook is live before the secret is typed.
    const probe = spawnSync('xdotool', ['type', '--delay', '40', 'x'.repeat(SECRET.length)], { env: x.env });
    assert.equal(probe.status, 0);
    await agent.waitForLine((line) => line.message === 'window' && line.id === 1, 'the probe window');

    const typed = spawnSync('xdotool', ['type', '--delay', '60', SECRET], { env: x.env });
    assert.equal(typed.status, 0, typed.stderr.toString());
    const window = await agent.waitForLine((line) => line.message === 'window' && line.id === 2, "the secret's window");
    assert.equal(window.keystrokes, SECRET.length, 'every keystroke of the secret was captured');
    assert.equal(window.keyDowns, SECRET.length);
    const whileRunning = fileHaystacks(databasePath, 'while running');
    assert.ok(whileRunning.length >= 2, 'database and WAL captured while running');

    assert.equal(await agent.stop('SIGTERM'), 0);
    const haystacks: Haystack[] = [
      ...whileRunning,
      ...fileHaystacks(databasePath, 'after exit'),
      { name: 'stdout', data: agent.stdout() },
      { name: 'stderr', data: agent.stderr() },
    ];
    assertNoSecret(haystacks, SECRET, keycodes);

    // The scanner itself must be able to see a leak: every needle finds the secret in a planted copy.
    const planted = Buffer.concat([
      Buffer.from(`${SECRET} ${keycodes.join(',')} ${keycodes.join(', ')} ${keycodes.join(' ')} ${JSON.stringify(keycodes)} `),
      Buffer.from(keycodes),
    ]);
    const le = Buffer.alloc(keycodes.length * 2);
    const be = Buffer.alloc(keycodes.length * 2);
    keycodes.forEach((code, index) => (le.writeUInt16LE(code, index * 2), be.writeUInt16BE(code, index * 2)));
    for (const needle of secretNeedles(SECRET, keycodes)) {
      assert.ok(needle.found(Buffer.concat([planted, le, be])), `scanner finds ${needle.label}`);
    }
    assert.throws(() => assertNoSecret([{ name: 'planted', data: planted }], SECRET, keycodes), /planted contains the phrase/);
  });
});
