/**
 * scripts/check-native.mjs (postinstall): silent when the native modules load; when one does not,
 * one line naming the missing compiler toolchain and the apt line. The failing modules are
 * stand-ins that throw what a module without its binary throws; the missing toolchain is real (a
 * PATH without g++, make or python3).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/temp-dir';

const SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'check-native.mjs');

test('native modules that load: nothing printed, exit 0', () => {
  const run = spawnSync(process.execPath, [SCRIPT], { cwd: path.dirname(path.dirname(SCRIPT)), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
});

test('a module without its binary on a machine without a compiler: one line each, naming the missing tools and the apt line', (t) => {
  const project = tempDir(t, 'telltale-check-native-');
  fs.writeFileSync(path.join(project, 'package.json'), '{"type":"module"}');
  for (const name of ['better-sqlite3', 'uiohook-napi']) {
    const folder = path.join(project, 'node_modules', name);
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
    fs.writeFileSync(path.join(folder, 'index.js'), `throw new Error('Could not locate the bindings file. Tried:\\n → build/Release/${name}.node');\n`);
  }
  fs.copyFileSync(SCRIPT, path.join(project, 'check-native.mjs'));
  // A PATH with a shell but none of the toolchain.
  const bin = path.join(project, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const run = spawnSync(process.execPath, ['check-native.mjs'], { cwd: project, encoding: 'utf8', env: { PATH: bin } });
  assert.equal(run.status, 1);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 2, run.stderr);
  assert.match(lines[0]!, /^telltale: better-sqlite3 has no prebuilt binary for this machine and building it needs g\+\+, make, python3 \(missing\): sudo apt-get install -y g\+\+ make python3 && npm rebuild better-sqlite3$/);
  assert.match(lines[1]!, /^telltale: uiohook-napi .*needs g\+\+, make, python3.*\(only input capture needs it\)$/);
});
