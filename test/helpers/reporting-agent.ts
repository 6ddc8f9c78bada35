/**
 * A minimal agent process for sync fault-injection tests: the real identity, report builder,
 * outbox and sync loop (agent/report/reporting.ts) on a given data dir, with fast backoff and no
 * input hook. Run with tsx:
 *
 *   node --import tsx test/helpers/reporting-agent.ts --data-dir D --collector URL --secret S
 *        [--burst N] [--exit-when-drained] [--seed K]
 *
 * It waits for enrollment, then queues N reports (each after storing one synthetic timing window)
 * while the sync loop drains the outbox. stdout JSON lines: {"event":"started"}, {"event":"queued",
 * "seq":...}, {"event":"delivered","seq":...}, and with --exit-when-drained a final
 * {"event":"drained","headSeq":...} before a clean exit. Tests SIGKILL it at random moments.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolvePolicy } from '../../common/policy';
import { systemClock, type AgentContext } from '../../agent/context';
import { AgentEvents } from '../../agent/events';
import { getDeviceId } from '../../agent/identity/enrollment';
import { createJsonLogger } from '../../agent/log';
import { getChainHead } from '../../agent/report/report-builder';
import { createReporting } from '../../agent/report/reporting';
import { openDatabase } from '../../agent/store/database';
import { countPending } from '../../agent/store/outbox';
import { insertTimingWindows } from '../../agent/store/timing-windows';
import { seededRandom } from '../../agent/sync/backoff';
import { sampleWindow } from './sample-window';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    collector: { type: 'string' },
    secret: { type: 'string' },
    burst: { type: 'string', default: '0' },
    'exit-when-drained': { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
  },
  strict: true,
});
const dataDir = values['data-dir']!;
const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const db = openDatabase(path.join(dataDir, 'telltale.db'));
const ctx: AgentContext = {
  db,
  // Long periods: this process queues its reports explicitly, so timers never interfere.
  policy: resolvePolicy({ collectorUrl: values.collector!, enrollmentSecret: values.secret!, intervals: { reportSeconds: 86400, heartbeatSeconds: 86400 } }),
  clock: systemClock,
  logger: createJsonLogger({ minLevel: 'warn', write: (line) => process.stderr.write(line) }),
  dataDir,
  agentVersion: 'fault-injection',
  events: new AgentEvents(),
};
const reporting = createReporting(ctx, { backoffBaseMs: 20, backoffCapMs: 500, random: seededRandom(Number(values.seed)) });
ctx.events.on('reportDelivered', ({ seq }) => emit({ event: 'delivered', seq }));
for (const service of reporting.services) await service.start();
emit({ event: 'started' });

while (getDeviceId(db) === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
for (let index = 0; index < Number(values.burst); index++) {
  insertTimingWindows(db, [sampleWindow(Date.now() - 1000, 5 + (index % 20))]);
  const outcome = reporting.reportService.reportNow('burst');
  for (const entry of outcome?.queued ?? []) emit({ event: 'queued', seq: entry.seq });
  // Yield so the sync loop interleaves with queueing, as in a live agent.
  await new Promise((resolve) => setImmediate(resolve));
}

if (values['exit-when-drained']) {
  while (countPending(db) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  emit({ event: 'drained', headSeq: getChainHead(db)?.seq ?? 0 });
  for (const service of [...reporting.services].reverse()) await service.stop();
  db.close();
  process.exit(0);
}
