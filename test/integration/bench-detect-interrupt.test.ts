/**
 * `npm run bench:detect` stopped with SIGTERM while its lab runs leaves no child behind (Xvfb,
 * x11vnc or xfreerdp servers, viewers, injector, capture child). It runs in its own PID namespace,
 * whose first process (a shell) inherits every orphan, so `ps` there lists exactly what is left,
 * and other helpers' processes on the machine are out of sight.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/temp-dir';
import { requireCondition, requireTools } from '../helpers/tools';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

// The shell is PID 1 of the namespace: it starts the bench, waits for the lab's first replay, lists
// the processes, sends SIGTERM, waits, and lists them again.
const SCRIPT = `
err="$CAPTURES/stderr.log"
node --import tsx bench/detect.ts --quick 2>"$err" >/dev/null &
pid=$!
i=0
while [ $i -lt 1800 ]; do
  grep -q '^lab: replaying' "$err" && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1; i=$((i+1))
done
grep -q '^lab: replaying' "$err" && echo LAB-UP || { echo LAB-NOT-UP; tail -5 "$err"; }
echo BEFORE; ps -e -o pid=,comm=
kill -TERM $pid; wait $pid; echo "EXIT $?"
sleep 1
echo AFTER; ps -e -o pid=,comm=
`;

test('SIGTERM to bench:detect while the lab runs stops every child it started', { timeout: 300_000 }, async (t) => {
  if (!requireCondition(t, process.getuid?.() === 0, 'a PID namespace with its own /proc needs root')) return;
  if (!requireTools(t, ['unshare', 'ps', 'Xvfb', 'x11vnc', 'gcc'])) return;
  const captures = tempDir(t, 'telltale-detect-interrupt-');
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, CAPTURES: captures, TELLTALE_LAB_CAPTURES: captures },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /^LAB-UP$/m, output);
  const [, before = '', after = ''] = /BEFORE\n([\s\S]*?)EXIT[\s\S]*?AFTER\n([\s\S]*)$/.exec(output) ?? [];
  const names = (listing: string): string[] => listing.trim().split('\n').map((line) => line.trim().split(/\s+/)[1] ?? '').filter(Boolean);
  assert.ok(names(before).includes('Xvfb'), `the lab was running: ${before}`);
  assert.match(output, /^EXIT 143$/m, output);
  assert.deepEqual(names(after).filter((name) => name !== 'sh' && name !== 'ps'), [], `left behind:\n${after}`);
});
