#!/usr/bin/env node
// Bundles every runtime piece with esbuild into dist/:
//   dist/main/main.js              Electron main (CJS; electron and native modules external)
//   dist/preload/preload.js        the preload (CJS, self-contained: a sandboxed preload may only require 'electron')
//   dist/agent-host/agent-host.js  the agent core, run by main in a utilityProcess (CJS; native modules external)
//   dist/agent-cli/cli.js          the headless agent (`npm run agent`): bundled so no TypeScript
//                                  compiler runs in the agent process (about 40 MB less memory than tsx)
//   dist/renderer/                 the transparency view: renderer.js (IIFE), index.html, styles.css
//   dist/dashboard/                the collector's IT dashboard: dashboard.js (IIFE), index.html, dashboard.css
//   dist/main/icons/               tray and window icons, copied from build/icons
//   dist/native/telltale-xi2       Linux only, in every mode but --dashboard-only: the X11 input-attribution helper
//                                  (agent/input/attribution/native/), built with the system cc and
//                                  libXi. Optional: without cc or libxi-dev one line says so and the
//                                  agent runs without attribution. The agent run from sources uses it too.
// Usage: node scripts/build.mjs [--renderer-only | --agent-only | --dashboard-only] [--minify]
// Every mode builds the dashboard too (it is small), so tests and `npm run collector` always serve a current one.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'dist');
const args = new Set(process.argv.slice(2));
const minify = args.has('--minify');

/** Native modules stay outside the bundles: electron-builder ships (and asarUnpacks) them. */
const NATIVE = ['better-sqlite3', 'uiohook-napi'];

async function buildRenderer() {
  const dir = path.join(out, 'renderer');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'renderer', 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    outfile: path.join(dir, 'renderer.js'),
    minify,
    sourcemap: false,
    logLevel: 'warning',
  });
  for (const name of ['index.html', 'styles.css']) fs.copyFileSync(path.join(root, 'renderer', name), path.join(dir, name));
}

async function buildDashboard() {
  const dir = path.join(out, 'dashboard');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(root, 'collector', 'dashboard', 'main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    outfile: path.join(dir, 'dashboard.js'),
    minify,
    sourcemap: false,
    logLevel: 'warning',
  });
  for (const name of ['index.html', 'dashboard.css']) fs.copyFileSync(path.join(root, 'collector', 'dashboard', name), path.join(dir, name));
}

/** CJS bundles for Node-side entries; `import.meta.dirname` becomes `__dirname` so path lookups keep working. */
function nodeBundle(entry, outfile, external) {
  return esbuild.build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outfile: path.join(out, outfile),
    external,
    define: { 'import.meta.dirname': '__dirname', 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    minify,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

function markCommonJs(dir) {
  // package.json says "type": "module"; these bundles are CommonJS.
  fs.mkdirSync(path.join(out, dir), { recursive: true });
  fs.writeFileSync(path.join(out, dir, 'package.json'), '{ "type": "commonjs" }\n');
}

async function buildElectron() {
  for (const dir of ['main', 'preload', 'agent-host']) markCommonJs(dir);
  await Promise.all([
    nodeBundle('main/main.ts', 'main/main.js', ['electron', ...NATIVE]),
    // Sandboxed preloads get a restricted require: bundle everything except electron itself.
    esbuild.build({
      entryPoints: [path.join(root, 'preload', 'preload.ts')],
      bundle: true,
      format: 'cjs',
      platform: 'browser',
      target: 'chrome120',
      outfile: path.join(out, 'preload', 'preload.js'),
      external: ['electron'],
      minify,
      logLevel: 'warning',
    }),
    // The host talks to main through process.parentPort, a global: it never requires electron.
    nodeBundle('host/agent-host.ts', 'agent-host/agent-host.js', NATIVE),
  ]);
  const icons = path.join(root, 'build', 'icons');
  if (fs.existsSync(icons)) fs.cpSync(icons, path.join(out, 'main', 'icons'), { recursive: true });
}

async function buildAgentCli() {
  markCommonJs('agent-cli');
  await nodeBundle('agent/cli.ts', 'agent-cli/cli.js', NATIVE);
}

/** Compile the X11 attribution helper when its source is newer than the binary; never fails the build. */
function buildNative() {
  if (process.platform !== 'linux') return;
  const source = path.join(root, 'agent', 'input', 'attribution', 'native', 'x11-source-devices.c');
  const binary = path.join(out, 'native', 'telltale-xi2');
  if (fs.existsSync(binary) && fs.statSync(binary).mtimeMs >= fs.statSync(source).mtimeMs) return;
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  // Built under a private name and renamed, so a concurrent build never leaves a half-written helper.
  const partial = `${binary}.${process.pid}.tmp`;
  const result = spawnSync('cc', ['-O2', '-Wall', source, '-o', partial, '-lXi', '-lX11'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    fs.rmSync(partial, { force: true });
    const reason = (result.error?.message ?? result.stderr ?? '').trim().split('\n')[0];
    console.error(`build: input attribution helper not built (needs cc and libxi-dev); the agent runs without it: ${reason}`);
    return;
  }
  fs.renameSync(partial, binary);
}

if (!args.has('--dashboard-only')) buildNative();
await buildDashboard();
if (args.has('--dashboard-only')) {
  // The collector needs nothing else built.
} else if (args.has('--agent-only')) {
  await buildRenderer();
  await buildAgentCli();
} else {
  await buildRenderer();
  if (!args.has('--renderer-only')) await Promise.all([buildElectron(), buildAgentCli()]);
}
if (!args.has('--quiet')) {
  const what = args.has('--dashboard-only') ? 'the dashboard' : args.has('--renderer-only') ? 'the renderer and dashboard' : args.has('--agent-only') ? 'the headless agent and renderer' : 'main, preload, agent host, headless agent and renderer';
  console.error(`Built ${what} into ${path.relative(process.cwd(), out) || out}`);
}
