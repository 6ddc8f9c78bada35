/** common/command-line.ts: what argv becomes, and the help text it renders from the same spec. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHelp, parseCommandLine, parseOrExit, type CommandSpec, type FlagSpec } from '../../common/command-line';

const SPEC = {
  usage: 'npm run thing --',
  name: 'thing',
  summary: 'Does a thing.',
  duration: 'about a minute',
  flags: {
    port: { type: 'string', value: 'N', description: 'The port.', default: '8443', env: 'THING_PORT' },
    token: { type: 'strings', value: 'T', description: 'A token.' },
    quick: { type: 'boolean', short: 'q', description: 'Quickly.' },
  },
  environment: [['THING_HOME', 'Where it lives.']],
  examples: [['npm run thing -- -q', 'Quickly.']],
  exitCodes: [
    [0, 'done'],
    [2, 'usage'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

describe('command line', () => {
  it('reads --flag value, --flag=value, repeatable flags, short booleans and stops at --', () => {
    assert.deepEqual(parseCommandLine(SPEC, ['--port', '80', '--token=a', '--token', 'b', '-q']), { kind: 'run', values: { port: '80', token: ['a', 'b'], quick: true } });
    assert.deepEqual(parseCommandLine(SPEC, ['--port=--odd']), { kind: 'run', values: { port: '--odd' } });
    assert.deepEqual(parseCommandLine(SPEC, ['--', '--help']).kind, 'usage-error', 'nothing may follow --');
    assert.deepEqual(parseCommandLine(SPEC, []), { kind: 'run', values: {} });
  });

  it('names the flag as typed in every usage error', () => {
    const message = (argv: string[]) => {
      const parsed = parseCommandLine(SPEC, argv);
      return parsed.kind === 'usage-error' ? parsed.message : `not an error: ${parsed.kind}`;
    };
    assert.equal(message(['--prot', '80']), 'unknown option --prot');
    assert.equal(message(['--prot=80']), 'unknown option --prot');
    assert.equal(message(['-x']), 'unknown option -x');
    assert.equal(message(['--port']), '--port needs a value (N)');
    assert.equal(message(['--port', '--quick']), '--port needs a value (N)');
    assert.equal(message(['--quick=yes']), '--quick takes no value');
    assert.equal(message(['--port', '1', '--port', '2']), '--port given twice');
    assert.equal(message(['extra']), 'unexpected argument "extra"');
    assert.equal(message(['--constructor']), 'unknown option --constructor');
  });

  it('--help and -h win over everything before --, and the help lists flags, defaults, environment, examples, duration and exit codes', () => {
    for (const argv of [['--help'], ['-h'], ['--prot', '-h'], ['--port', '80', '--help']]) assert.equal(parseCommandLine(SPEC, argv).kind, 'help', argv.join(' '));
    const text = formatHelp(SPEC);
    assert.ok(text.startsWith('Usage: npm run thing -- [options]\n\nDoes a thing.\n\nTakes: about a minute\n'));
    assert.match(text, /^ {2}--port N\n {6}The port\. Default: 8443\. Environment: THING_PORT\.$/m);
    assert.match(text, /^ {2}--token T {2}\(repeatable\)$/m);
    assert.match(text, /^ {2}-q, --quick$/m);
    assert.match(text, /^ {2}-h, --help$/m);
    assert.match(text, /^Environment:\n {2}THING_HOME\n {6}Where it lives\.$/m);
    assert.match(text, /^Examples:\n {2}npm run thing -- -q\n/m);
    assert.match(text, /^Exit codes:\n {3}0 {2}done\n {3}2 {2}usage\n$/m);
  });

  it('parseOrExit prints the help to stdout and exits 0, or one error line to stderr and exits 2', () => {
    const run = (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      try {
        parseOrExit(SPEC, argv, { stdout: { write: (text) => out.push(text) }, stderr: { write: (text) => err.push(text) }, exit: (code) => { throw Object.assign(new Error('exit'), { code }); } });
        return { code: null, out, err };
      } catch (error) {
        return { code: (error as { code: number }).code, out, err };
      }
    };
    assert.deepEqual(run(['-h']), { code: 0, out: [formatHelp(SPEC)], err: [] });
    assert.deepEqual(run(['--nope']), { code: 2, out: [], err: ['thing: unknown option --nope (see `npm run thing -- --help`)\n'] });
    assert.deepEqual(run(['-q']), { code: null, out: [], err: [] });
  });
});
