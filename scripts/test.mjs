#!/usr/bin/env node
// Runs the test suites with Node's own test runner (TypeScript through tsx).
//   node scripts/test.mjs            every suite: unit, integration (Xvfb), browser (Chromium), electron
//   node scripts/test.mjs unit       one or more suites by folder name under test/
//   node scripts/test.mjs path.ts    particular files
// Node 20's --test takes no globs, so the files are found here. The renderer is built first: every
// agent the tests start serves the transparency view from dist/renderer.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SUITES = ['unit', 'integration', 'browser', 'electron'];
const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const selected = args.length === 0 ? SUITES : args;

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

const files = selected.flatMap((item) =>
  SUITES.includes(item) ? findTests(path.join(root, 'test', item)) : [path.resolve(item)],
);
if (files.length === 0) {
  console.error(`No test files for: ${selected.join(' ')}`);
  process.exit(1);
}
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--renderer-only', '--quiet'], { stdio: 'inherit', cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);
// A hung test fails after 10 minutes. The bound applies to a whole file too, and lab-relay's file runs
// three real remote-control labs in one process: about 5 minutes on a busy 2-core machine.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=600000', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, TELLTALE_TEST: '1' } },
);
process.exit(result.status ?? 1);
