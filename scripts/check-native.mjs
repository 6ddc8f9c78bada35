// postinstall: check that the native modules load (better-sqlite3, uiohook-napi). npm fetches a
// prebuilt binary for each when one matches this Node and platform; otherwise it compiles from
// source, which needs g++, make and python3. When a module does not load, print one line naming
// what is missing and the apt line, instead of leaving the first test run to fail with a stack.
// better-sqlite3 is required (exit 1); uiohook-napi only for input capture (a warning, exit 0).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const TOOLCHAIN = ['g++', 'make', 'python3'];

function missingTools() {
  return TOOLCHAIN.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0);
}

function firstLine(error) {
  return String(error instanceof Error ? error.message : error).split('\n')[0].slice(0, 160);
}

/** Null when `name` loads (and `probe` passes), else why not. */
function loadProblem(name, probe) {
  try {
    probe(require(name));
    return null;
  } catch (error) {
    return firstLine(error);
  }
}

/**
 * uiohook-napi is loaded in a child: without an X display its unload destructor ends the process
 * with status 1 and "Couldn't find per display information" (see agent/input/hook-source.ts), so
 * only "did it load" counts, not how the child exited.
 */
function uiohookProblem() {
  const probe = "const m = require('uiohook-napi'); if (typeof m.uIOhook?.start !== 'function') throw new Error('no uIOhook export'); process.stdout.write('loaded\\n');";
  const child = spawnSync(process.execPath, ['-e', probe], { cwd: process.cwd(), encoding: 'utf8', env: { ...process.env, DISPLAY: '' } });
  if (child.stdout.includes('loaded')) return null;
  return firstLine(child.stderr.split('\n').find((line) => /Error/.test(line)) ?? child.stderr ?? `exit ${child.status}`);
}

function advice(name, problem) {
  const missing = missingTools();
  if (/Cannot find module '/.test(problem) && problem.includes(`'${name}'`)) return `${name} is not installed: run \`npm ci\``;
  if (/NODE_MODULE_VERSION|different Node\.js version/.test(problem)) {
    return `${name} was built for another Node.js version (${process.version} now): run \`npm rebuild ${name}\``;
  }
  if (missing.length > 0) {
    return `${name} has no prebuilt binary for this machine and building it needs ${missing.join(', ')} (missing): sudo apt-get install -y g++ make python3 && npm rebuild ${name}`;
  }
  return `${name} does not load (${problem}): run \`npm rebuild ${name}\``;
}

const sqlite = loadProblem('better-sqlite3', (Database) => new Database(':memory:').close());
const uiohook = uiohookProblem();
if (sqlite !== null) console.error(`telltale: ${advice('better-sqlite3', sqlite)}`);
if (uiohook !== null) console.error(`telltale: ${advice('uiohook-napi', uiohook)} (only input capture needs it)`);
process.exitCode = sqlite === null ? 0 : 1;
