#!/usr/bin/env node
// `npm start`: build the Electron bundles and launch the tray app on this repo.
// Where Electron's binary was never downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD, CI, containers) this
// says so in one line and points at the headless agent, instead of Electron's own stack trace.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(path.join(root, 'package.json'));

function fatal(line) {
  process.stderr.write(`telltale: ${line}\n`);
  process.exit(1);
}

let electronPath = null;
try {
  // The electron package exports the binary's path, and throws when the binary is missing.
  electronPath = require('electron');
} catch {
  electronPath = null;
}
if (typeof electronPath !== 'string' || !fs.existsSync(electronPath)) {
  fatal("Electron's binary is not installed here (ELECTRON_SKIP_BINARY_DOWNLOAD). Run the same agent headless with: npm run agent");
}

const buildScript = path.join(root, 'scripts', 'build.mjs');
if (!fs.existsSync(buildScript)) fatal('scripts/build.mjs is missing, so the app cannot be built. Run the agent headless with: npm run agent');
const build = spawnSync(process.execPath, [buildScript], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fatal(`the build failed (node scripts/build.mjs exited with ${build.status ?? build.signal})`);

const child = spawn(electronPath, [root, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
