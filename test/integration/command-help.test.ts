/**
 * Every command's `--help` and `-h`: exit 0, the help text (usage, each flag, exit codes), and no
 * side effect: nothing written in the working folder, the data folder, the catalog, the prior or
 * test-output/, and no collector or agent started.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AGENT_COMMAND } from '../../agent/cli-args';
import { BENCH_COMMAND } from '../../bench/lib/options';
import { COLLECTOR_COMMAND } from '../../collector/cli-config';
import { tempDir } from '../helpers/temp-dir';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TSX = import.meta.resolve('tsx');

const COMMANDS: readonly { entry: string; usage: string; flags: readonly string[] }[] = [
  { entry: 'agent/cli.ts', usage: 'npm run agent --', flags: Object.keys(AGENT_COMMAND.flags) },
  { entry: 'collector/server.ts', usage: 'npm run collector --', flags: Object.keys(COLLECTOR_COMMAND.flags) },
  { entry: 'scripts/demo.ts', usage: 'npm run demo --', flags: ['duration-seconds', 'keep-data'] },
  { entry: 'bench/run.ts', usage: 'npm run bench --', flags: Object.keys(BENCH_COMMAND.flags) },
  { entry: 'bench/detect.ts', usage: 'npm run bench:detect --', flags: ['quick', 'fresh'] },
  { entry: 'bench/loop.ts', usage: 'npm run bench:loop --', flags: ['quick', 'fresh', 'delays', 'variants', 'tune', 'test', 'targets', 'window'] },
  { entry: 'tools/catalog/generate.ts', usage: 'npm run catalog --', flags: ['import', 'check'] },
  { entry: 'tools/derive-prior.ts', usage: 'npm run prior --', flags: ['check'] },
  { entry: 'tools/profile-summary.ts', usage: 'npm run profile --', flags: ['file', 'top', 'per', 'from', 'to'] },
];

/** Files whose bytes and modification time must not change. */
const WATCHED = ['agent/detect/catalog/catalog.generated.json', 'agent/timing-detector/population-prior.json', 'tools/catalog/lolrmm/rmm_tools.trimmed.json'];

function snapshot(): string {
  const files = WATCHED.map((file) => {
    const full = path.join(ROOT, file);
    return `${file} ${fs.statSync(full).mtimeMs} ${fs.readFileSync(full, 'utf8').length}`;
  });
  const output = path.join(ROOT, 'test-output');
  const listing = fs.existsSync(output) ? fs.readdirSync(output, { recursive: true }).map(String).sort() : [];
  return JSON.stringify({ files, listing });
}

describe('every command answers --help and -h without side effects', () => {
  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      it(`${command.usage} ${flag}`, (t) => {
        const work = tempDir(t, 'telltale-help-');
        const home = path.join(work, 'home');
        fs.mkdirSync(home);
        const before = snapshot();
        const started = Date.now();
        const result = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, command.entry), flag], {
          cwd: work,
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, 'data'), TELLTALE_ENROLLMENT_SECRET: 'a-long-shared-secret' },
        });
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stderr, '', 'help goes to stdout, nothing to stderr');
        assert.ok(result.stdout.startsWith(`Usage: ${command.usage} [options]\n`), result.stdout.slice(0, 200));
        for (const name of [...command.flags, 'help']) assert.match(result.stdout, new RegExp(`^  (-\\w, )?--${name}\\b`, 'm'), `--${name} is listed`);
        assert.match(result.stdout, /^  -h, --help$/m);
        assert.match(result.stdout, /^Examples:$/m);
        assert.match(result.stdout, /^Exit codes:\n {3}0 {2}/m);
        assert.deepEqual(fs.readdirSync(work), ['home'], 'nothing written in the working folder');
        assert.deepEqual(fs.readdirSync(home), [], 'no data folder created');
        assert.equal(snapshot(), before, 'the catalog, the prior and test-output/ are untouched');
        assert.ok(Date.now() - started < 30_000, 'help starts nothing long');
      });
    }
  }

  it('a usage error names the flag and exits 2 on each command', () => {
    for (const command of COMMANDS) {
      const result = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, command.entry), '--no-such-flag'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(result.status, 2, `${command.entry}: ${result.stderr}`);
      assert.ok(result.stderr.endsWith(`: unknown option --no-such-flag (see \`${command.usage} --help\`)\n`), `${command.entry}: ${result.stderr}`);
      assert.equal(result.stderr.split('\n').length, 2, 'one line');
      assert.equal(result.stdout, '', command.entry);
    }
  });
});
