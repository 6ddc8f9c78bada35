/**
 * The X-protocol screen reader against real X servers (Xvfb, Xtigervnc): it sees what `xrandr
 * --props` prints for them (compared directly when xrandr happens to be installed), so the
 * virtual-display check works without the xrandr program.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { isVirtualXScreen, parseXrandrProps } from '../../agent/detect/displays/linux';
import { findCookie, localDisplayNumber, readRandrOutputs } from '../../agent/detect/displays/x11-randr';
import { startXvfb } from '../../lab/xvfb';
import { missingCommands } from '../../lab/commands';
import { requireTools } from '../helpers/tools';

const summary = (outputs: { name: string; connected: boolean; enabled: boolean | null; widthMm?: number; heightMm?: number; edid: Uint8Array }[]) =>
  outputs.map((output) => ({ name: output.name, connected: output.connected, enabled: output.enabled, widthMm: output.widthMm, heightMm: output.heightMm, edid: output.edid.length }));

describe('X screen outputs through the X protocol (no xrandr program)', () => {
  it('reads Xvfb and Xtigervnc screens as xrandr does, and both are virtual', async (t) => {
    if (!requireTools(t, ['Xvfb', 'Xtigervnc'])) return;
    const xvfb = await startXvfb({ focusWindow: false });
    t.after(() => xvfb.stop());
    const direct = await readRandrOutputs(xvfb.display);
    // Xvfb's one RandR output, as `xrandr --props` prints it: "screen connected primary 1024x768+0+0 0mm x 0mm".
    assert.deepEqual(summary(direct), [{ name: 'screen', connected: true, enabled: true, widthMm: 0, heightMm: 0, edid: 0 }]);
    if (missingCommands(['xrandr']).length === 0) {
      const viaProgram = parseXrandrProps(spawnSync('xrandr', ['--props'], { env: xvfb.env, encoding: 'utf8' }).stdout);
      assert.deepEqual(summary(direct), summary(viaProgram));
    }
    assert.equal(isVirtualXScreen(direct), true);

    let number = 700 + Math.floor(Math.random() * 200);
    while (fs.existsSync(`/tmp/.X11-unix/X${number}`)) number++;
    const vnc = spawn('Xtigervnc', [`:${number}`, '-SecurityTypes', 'None', '-rfbport', '-1', '-geometry', '800x600', '-nolisten', 'tcp'], { stdio: 'ignore' });
    t.after(() => vnc.kill('SIGKILL'));
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(`/tmp/.X11-unix/X${number}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const vncOutputs = await readRandrOutputs(`:${number}`);
    assert.ok(vncOutputs.some((output) => /^VNC-\d+$/.test(output.name)), JSON.stringify(summary(vncOutputs)));
    assert.equal(isVirtualXScreen(vncOutputs), true);
  });

  it('parses display names and Xauthority cookies, and fails in one line without a server', async () => {
    assert.equal(localDisplayNumber(':7'), 7);
    assert.equal(localDisplayNumber(':7.0'), 7);
    assert.equal(localDisplayNumber('unix:3'), 3);
    assert.equal(localDisplayNumber('remote:0'), undefined);
    const entry = (family: number, address: string, number: string, cookie: Buffer) => {
      const field = (value: Buffer) => Buffer.concat([Buffer.from([value.length >> 8, value.length & 0xff]), value]);
      return Buffer.concat([Buffer.from([family >> 8, family & 0xff]), field(Buffer.from(address)), field(Buffer.from(number)), field(Buffer.from('MIT-MAGIC-COOKIE-1')), field(cookie)]);
    };
    const file = Buffer.concat([entry(256, 'otherhost', '5', Buffer.alloc(16, 1)), entry(256, 'thishost', '5', Buffer.alloc(16, 2))]);
    assert.deepEqual(findCookie(file, 5, 'thishost'), Buffer.alloc(16, 2));
    assert.equal(findCookie(file, 6, 'thishost'), undefined);
    await assert.rejects(readRandrOutputs(':999'), /ENOENT|ECONNREFUSED/);
  });
});
