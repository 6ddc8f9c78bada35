/** The headless agent's command line: flags, help text and exit codes (parsed by common/command-line). */
import { LOG_FORMAT_FLAG, type CommandSpec, type FlagSpec } from '../common/command-line';

export const AGENT_COMMAND = {
  usage: 'npm run agent --',
  name: 'telltale-agent',
  summary:
    'Runs the Telltale agent headless under Node: input timing capture, remote-tool and display scans, signed reports to the ' +
    "policy's collector, and the transparency view on 127.0.0.1 (its URL and a fresh token are logged at start). Logs JSON " +
    'lines to stdout (a readable line per event when stdout is a terminal). Runs until SIGINT/SIGTERM or --duration-seconds.',
  flags: {
    policy: {
      type: 'string',
      value: 'FILE',
      description: 'The JSON policy to use instead of the managed one.',
      default: '/etc/telltale/policy.json on Linux, or built-in defaults when that file does not exist',
    },
    'data-dir': {
      type: 'string',
      value: 'DIR',
      description: 'Folder for the database and the device key; created if missing.',
      default: '$XDG_DATA_HOME/telltale or ~/.local/share/telltale on Linux',
    },
    'duration-seconds': { type: 'string', value: 'N', description: 'Stop cleanly after N seconds.', default: 'run until stopped' },
    'no-input': { type: 'boolean', description: 'Do not capture input timing (scans, reports and the view still run).' },
    'log-level': { type: 'string', value: 'LEVEL', description: 'Least severe level logged: debug, info, warn or error.', default: 'info', env: 'TELLTALE_LOG_LEVEL' },
    'log-format': LOG_FORMAT_FLAG,
  },
  environment: [
    ['DISPLAY', 'The X display whose input timing is captured; without one, capture is unavailable and the rest runs.'],
    ['XDG_DATA_HOME', 'Where the default data folder lives.'],
  ],
  examples: [
    ['npm run agent', 'The managed policy and the default data folder.'],
    ['npm run agent -- --policy ./policy.json --data-dir /tmp/telltale', 'A test policy and a throwaway data folder.'],
    ['npm run agent -- --no-input --duration-seconds 60', 'One minute without input capture.'],
  ],
  exitCodes: [
    [0, 'stopped by SIGINT/SIGTERM or --duration-seconds'],
    [1, 'a bug (one line on stderr, the stack in the JSON log)'],
    [2, 'usage: an unknown flag or a bad value'],
    [3, 'POLICY_INVALID'],
    [4, 'POLICY_UNREADABLE'],
    [5, 'DATABASE_CORRUPT'],
    [6, 'DATABASE_TOO_NEW'],
    [7, 'DATABASE_UNWRITABLE: the data folder cannot hold files, the disk is full or read-only'],
    [8, 'UNSUPPORTED_PLATFORM'],
    [10, 'AGENT_ALREADY_RUNNING: another agent holds this data folder'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;
