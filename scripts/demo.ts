/**
 * `npm run demo`: a collector and a headless agent on this machine, wired together.
 *
 * Starts the collector in-process on embedded SQLite (temporary folder) at 127.0.0.1 on a random
 * port with a generated enrollment secret and IT token; writes a temporary policy pointing at it
 * with short intervals; starts the headless agent (the same Agent as `npm run agent`); prints the
 * dashboard URL, the IT token and the agent's transparency view URL. Runs until Ctrl-C (or
 * `--duration-seconds N`), then stops both and deletes the temporary folder. Without an X display
 * the agent just warns that input timing capture is unavailable.
 *
 * stdout: the agent's JSON log lines, plus one `{"demo":{...}}` line with the URLs for scripts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseOrExit, usageExit, type CommandSpec, type FlagSpec } from '../common/command-line';
import { buildCollector } from '../collector/app';
import { IT_SCOPES } from '../collector/config';
import { Agent } from '../agent/agent';
import { logActivity } from '../agent/activity-log';
import { simulateFarm } from './demo-farm';

const DEMO_COMMAND = {
  usage: 'npm run demo --',
  name: 'demo',
  summary:
    'Starts a collector (SQLite in a temporary folder, 127.0.0.1, a random port, a generated enrollment secret and IT ' +
    'token) and a headless agent enrolled to it with short intervals, on this machine, and prints the IT dashboard URL, ' +
    "the IT token and the transparency view URL (about 5 seconds). Then the agent's JSON log lines. Ctrl-C stops both and " +
    'deletes the temporary folder. Without an X display the agent runs without input timing capture.',
  flags: {
    'duration-seconds': { type: 'string', value: 'N', description: 'Stop after N seconds.', default: 'run until Ctrl-C' },
    'keep-data': { type: 'boolean', description: 'Keep the temporary folder (databases, policy, device key) after stopping.' },
    farm: {
      type: 'boolean',
      description:
        'Also simulate a laptop farm: six simulated laptops report location fingerprints, four of them from one house (one router, ' +
        'one Wi-Fi access point, one internet address). The dashboard and GET /v1/farms then show one cluster of the four.',
    },
  },
  examples: [
    ['npm run demo', 'Run until Ctrl-C.'],
    ['npm run demo -- --duration-seconds 60 --keep-data', 'One minute, then inspect the databases.'],
    ['npm run demo -- --farm', 'With a simulated farm of four laptops in one house.'],
  ],
  exitCodes: [
    [0, 'stopped'],
    [1, 'the agent could not start'],
    [2, 'usage: an unknown flag or a bad value'],
  ],
} as const satisfies CommandSpec<Record<string, FlagSpec>>;

const values = parseOrExit(DEMO_COMMAND, process.argv.slice(2), process);
const durationSeconds = values['duration-seconds'] === undefined ? null : Number(values['duration-seconds']);
if (durationSeconds !== null && !(durationSeconds > 0)) usageExit(DEMO_COMMAND, `--duration-seconds must be a positive number, got "${values['duration-seconds']}"`, process);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'telltale-demo-'));
const enrollmentSecret = crypto.randomBytes(18).toString('base64url');
const itToken = crypto.randomBytes(24).toString('base64url');
const fleetKey = crypto.randomBytes(32).toString('base64url');

const collector = await buildCollector({
  storage: { kind: 'sqlite', file: path.join(dir, 'collector.db') },
  enrollmentSecret,
  itTokens: [{ token: itToken, scopes: [...IT_SCOPES] }],
  logLevel: 'warn',
  // The simulated laptops' reports come through inject from 127.0.0.1 with X-Forwarded-For.
  ...(values.farm ? { location: { trustedProxies: ['127.0.0.1'] } } : {}),
} as never);
await collector.listen({ port: 0, host: '127.0.0.1' });
const address = collector.server.address();
const collectorUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

const policyPath = path.join(dir, 'policy.json');
fs.writeFileSync(
  policyPath,
  JSON.stringify(
    {
      collectorUrl,
      enrollmentSecret,
      // Short periods so something visibly happens within a minute.
      intervals: { windowSeconds: 10, scanSeconds: 10, reportSeconds: 15, heartbeatSeconds: 15 },
      location: { fleetKey },
    },
    null,
    2,
  ),
);

const created = await Agent.create({ policyPath, dataDir: path.join(dir, 'agent') });
if (!created.ok) {
  console.error(`demo: the agent could not start: ${created.error.code}: ${created.error.message}`);
  await collector.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
const agent = created.value;
logActivity(agent.context);
await agent.start();
const view = agent.services.find((service) => service.name === 'headless-view') as { url?: string | null } | undefined;
const viewUrl = view?.url ?? null;

const farms = values.farm ? await simulateFarm(collector, enrollmentSecret, fleetKey, itToken) : null;
process.stdout.write(`${JSON.stringify({ demo: { dashboardUrl: `${collectorUrl}/`, collectorUrl, itToken, viewUrl, dataDir: dir, ...(farms ? { farms } : {}) } })}\n`);
process.stderr.write(
  [
    '',
    'Telltale demo running.',
    `  IT dashboard:       ${collectorUrl}/`,
    `  IT token:           ${itToken}`,
    `  Transparency view:  ${viewUrl ?? '(not available in this build)'}`,
    `  Temporary data:     ${dir}`,
    ...(values.farm ? [`  Simulated farm:     curl -H 'authorization: Bearer ${itToken}' ${collectorUrl}/v1/farms`] : []),
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await agent.stop();
  await collector.close();
  if (!values['keep-data']) fs.rmSync(dir, { recursive: true, force: true });
  process.stderr.write('Telltale demo stopped.\n');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
if (durationSeconds !== null) setTimeout(() => void shutdown(), durationSeconds * 1000);
