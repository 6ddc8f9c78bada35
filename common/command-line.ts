/**
 * One way every Telltale command reads its flags and prints its help: a command declares its flags
 * (with default, environment variable and meaning), examples, expected duration and exit codes;
 * `parseCommandLine` turns argv into typed values, a help request or a usage error that names the
 * flag as typed, and `formatHelp` renders the same declaration as the `--help` text, so the help
 * cannot drift from what is parsed.
 *
 * Pure (no Node imports): the agent, the collector, bench, tools and scripts all use it. The caller
 * hands in the process-like object that `parseOrExit` writes to and exits through.
 */

export interface FlagSpec {
  /** `string`: one value; `strings`: repeatable; `boolean`: takes no value. */
  readonly type: 'string' | 'strings' | 'boolean';
  /** A one-letter alias, without the dash. */
  readonly short?: string;
  /** Placeholder for the value in the help (FILE, N, URL). */
  readonly value?: string;
  readonly description: string;
  /** The default as the help shows it. */
  readonly default?: string;
  /** The environment variable that sets the same thing (a flag wins over it). */
  readonly env?: string;
}

export interface CommandSpec<F extends Readonly<Record<string, FlagSpec>>> {
  /** How to run it, e.g. `npm run agent --`. */
  readonly usage: string;
  /** Prefix of error lines, e.g. `telltale-agent`. */
  readonly name: string;
  /** What it does, one paragraph. */
  readonly summary: string;
  readonly flags: F;
  /** Environment variables that have no flag. */
  readonly environment?: readonly (readonly [string, string])[];
  readonly examples: readonly (readonly [string, string])[];
  /** How long a run takes, for commands that take long. */
  readonly duration?: string;
  readonly exitCodes: readonly (readonly [number, string])[];
}

export type FlagValues<F extends Readonly<Record<string, FlagSpec>>> = {
  -readonly [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : F[K]['type'] extends 'strings' ? string[] : string;
};

export type ParsedCommandLine<F extends Readonly<Record<string, FlagSpec>>> =
  | { readonly kind: 'run'; readonly values: FlagValues<F> }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'usage-error'; readonly message: string };

/** The exit code of a usage error, the same for every command. */
export const USAGE_EXIT_CODE = 2;

/**
 * Parse `--flag value`, `--flag=value`, `-f value`, booleans without a value, `--` ending the flags.
 * `--help`/`-h` anywhere before `--` wins over everything else, so asking for help never runs anything.
 */
export function parseCommandLine<F extends Readonly<Record<string, FlagSpec>>>(spec: CommandSpec<F>, argv: readonly string[]): ParsedCommandLine<F> {
  const end = argv.indexOf('--');
  const flagArgs = end === -1 ? argv : argv.slice(0, end);
  if (flagArgs.some((arg) => arg === '--help' || arg === '-h')) return { kind: 'help', text: formatHelp(spec) };
  const byShort = new Map(Object.entries(spec.flags).flatMap(([name, flag]) => (flag.short ? [[flag.short, name] as const] : [])));
  const values: Record<string, string | boolean | string[]> = {};
  for (let index = 0; index < flagArgs.length; index++) {
    const arg = flagArgs[index]!;
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
      inline = equals === -1 ? undefined : arg.slice(equals + 1);
    } else if (arg.startsWith('-') && arg.length === 2) {
      name = byShort.get(arg.slice(1));
      if (name === undefined) return usageError(`unknown option ${arg}`);
    } else {
      return usageError(`unexpected argument ${JSON.stringify(arg)}`);
    }
    const flag = Object.hasOwn(spec.flags, name) ? spec.flags[name] : undefined;
    if (flag === undefined) return usageError(`unknown option ${arg.split('=')[0]}`);
    if (flag.type === 'boolean') {
      if (inline !== undefined) return usageError(`${arg.split('=')[0]} takes no value`);
      values[name] = true;
      continue;
    }
    const value = inline ?? flagArgs[++index];
    if (value === undefined || (inline === undefined && value.startsWith('-') && value.length > 1 && isFlag(spec, byShort, value))) {
      return usageError(`${arg} needs a value${flag.value ? ` (${flag.value})` : ''}`);
    }
    if (flag.type === 'strings') values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else if (values[name] !== undefined) return usageError(`${arg.split('=')[0]} given twice`);
    else values[name] = value;
  }
  if (end !== -1 && end < argv.length - 1) return usageError(`unexpected argument ${JSON.stringify(argv[end + 1])}`);
  return { kind: 'run', values: values as FlagValues<F> };
}

function isFlag(spec: CommandSpec<Readonly<Record<string, FlagSpec>>>, byShort: ReadonlyMap<string, string>, arg: string): boolean {
  if (arg.startsWith('--')) return Object.hasOwn(spec.flags, arg.slice(2).split('=')[0]!) || arg === '--help';
  return byShort.has(arg.slice(1)) || arg === '-h';
}

function usageError(message: string): { kind: 'usage-error'; message: string } {
  return { kind: 'usage-error', message };
}

/** The `--help` text. */
export function formatHelp(spec: CommandSpec<Readonly<Record<string, FlagSpec>>>): string {
  const lines = [`Usage: ${spec.usage} [options]`, '', ...wrap(spec.summary, 0), ''];
  if (spec.duration) lines.push(`Takes: ${spec.duration}`, '');
  lines.push('Options:');
  const entries: [string, FlagSpec | null][] = [...Object.entries(spec.flags), ['help', null]];
  for (const [name, flag] of entries) {
    if (flag === null) {
      lines.push('  -h, --help', '      Print this help and exit without doing anything else.');
      continue;
    }
    const short = flag.short ? `-${flag.short}, ` : '';
    const value = flag.type === 'boolean' ? '' : ` ${flag.value ?? 'VALUE'}`;
    lines.push(`  ${short}--${name}${value}${flag.type === 'strings' ? '  (repeatable)' : ''}`);
    const extra = [flag.default !== undefined ? `Default: ${flag.default}.` : '', flag.env ? `Environment: ${flag.env}.` : ''].filter(Boolean).join(' ');
    lines.push(...wrap(`${flag.description}${extra ? ` ${extra}` : ''}`, 6));
  }
  if (spec.environment && spec.environment.length > 0) {
    lines.push('', 'Environment:');
    for (const [variable, meaning] of spec.environment) lines.push(`  ${variable}`, ...wrap(meaning, 6));
  }
  lines.push('', 'Examples:');
  for (const [command, meaning] of spec.examples) lines.push(`  ${command}`, ...wrap(meaning, 6));
  lines.push('', 'Exit codes:');
  for (const [code, meaning] of spec.exitCodes) lines.push(`  ${String(code).padStart(2)}  ${meaning}`);
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, indent: number, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(' '.repeat(indent) + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(' '.repeat(indent) + line);
  return lines;
}

/** The parts of `process` that `parseOrExit` uses. */
export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  exit(code: number): never;
}

/** Parse argv; print the help and exit 0, or print the usage error and exit 2; else the values. */
export function parseOrExit<F extends Readonly<Record<string, FlagSpec>>>(spec: CommandSpec<F>, argv: readonly string[], io: CommandIo): FlagValues<F> {
  const parsed = parseCommandLine(spec, argv);
  if (parsed.kind === 'run') return parsed.values;
  if (parsed.kind === 'help') {
    io.stdout.write(parsed.text);
    return io.exit(0);
  }
  return usageExit(spec, parsed.message, io);
}

/**
 * A usage error, also one found after parsing (a bad value): ONE line naming the flag (a service
 * manager's log shows one line per failure), and exit 2.
 */
export function usageExit(spec: { readonly name: string; readonly usage: string }, message: string, io: CommandIo): never {
  io.stderr.write(`${spec.name}: ${message} (see \`${spec.usage} --help\`)\n`);
  return io.exit(USAGE_EXIT_CODE);
}

/** How log lines look: `json` one object per line (for machines), `text` a readable line, `auto` text on a TTY. */
export type LogFormat = 'json' | 'text';

/** The `--log-format` flag every long-running command shares (agent, collector), so their help says the same. */
export const LOG_FORMAT_FLAG = {
  type: 'string',
  value: 'FORMAT',
  description: 'auto, json or text: json is one object per line (for log shippers), text a readable line; auto is text on a terminal, json otherwise.',
  default: 'auto',
  env: 'TELLTALE_LOG_FORMAT',
} as const satisfies FlagSpec;

/**
 * The log format for a `--log-format` value (or its environment variable): `auto` (or nothing)
 * resolves by whether the output is a terminal. Null for any other value, for a usage error.
 */
export function resolveLogFormat(value: string | undefined, outputIsTerminal: boolean): LogFormat | null {
  switch (value ?? 'auto') {
    case 'auto':
      return outputIsTerminal ? 'text' : 'json';
    case 'json':
      return 'json';
    case 'text':
      return 'text';
    default:
      return null;
  }
}

/**
 * One log record as a readable line: `12:34:56.789 WARN  message key=value ...`. Values with spaces
 * or quotes are JSON-quoted so the line still splits unambiguously.
 */
export function formatLogText(time: number, level: string, message: string, fields: Readonly<Record<string, unknown>>): string {
  const clock = new Date(time).toISOString().slice(11, 23);
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)}`);
  return [clock, level.toUpperCase().padEnd(5), message, ...rest].join(' ');
}
