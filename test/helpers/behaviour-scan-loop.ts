/**
 * The agent's detection, looped, for the behaviour integration test: runs inside the test's PID and
 * network namespace (possibly as an unprivileged user) and prints one JSON line per scan with the
 * findings of the name-only scan ("before": the catalog matched by process name) and of the full
 * scan ("after": names, binary identity, protocol probes, forwarder attribution) and how long the
 * full scan took.
 *
 *   node --import tsx test/helpers/behaviour-scan-loop.ts [--interval-ms N]
 * Stops when stdin closes.
 */
import type { FindingObservation } from '../../common/findings';
import { reportedByToolScan, scanBehaviour, type BehaviourProbes } from '../../agent/detect/behaviour-scanner';
import { loadCatalog, ProcessMatcher } from '../../agent/detect/catalog/catalog';
import { ExecutableIdentifier } from '../../agent/detect/identity/linux';
import { listProcessesLinux } from '../../agent/detect/processes/linux';
import { ProtocolProber } from '../../agent/detect/protocol-probe/prober';
import { readTcpRttLinux } from '../../agent/detect/rtt/linux';
import { tcpTableReaderFor } from '../../agent/detect/sockets/list-sockets';
import { listSocketsLinux } from '../../agent/detect/sockets/linux';
import { pathExists, scanTools, type ToolScanProbes } from '../../agent/detect/tool-scanner';

if (process.argv.includes('--help')) {
  process.stdout.write('Usage: behaviour-scan-loop [--interval-ms N]\nPrints one JSON line per scan: {at, scanMs, uid, before, after}; stops when stdin closes.\n');
  process.exit(0);
}
const intervalArg = process.argv.indexOf('--interval-ms');
const intervalMs = intervalArg > 0 ? Number(process.argv[intervalArg + 1]) : 300;

const catalog = loadCatalog();
const matcher = new ProcessMatcher(catalog, 'linux');
const identifier = new ExecutableIdentifier({ catalog });
const prober = new ProtocolProber();
const baseProbes: ToolScanProbes = {
  listProcesses: async () => listProcessesLinux(),
  listSockets: async (pids) => listSocketsLinux(pids),
  readRtt: readTcpRttLinux,
  pathExists,
};
const behaviourProbes: BehaviourProbes = { ...tcpTableReaderFor('linux'), readRtt: readTcpRttLinux };

let stopped = false;
process.stdin.on('end', () => (stopped = true));
process.stdin.on('close', () => (stopped = true));
process.stdin.resume();

const summary = (observation: FindingObservation) => ({ key: observation.key, kind: observation.kind, severity: observation.severity, evidence: observation.evidence });

while (!stopped) {
  const before = await scanTools({ matcher, probes: baseProbes, approvedTools: [], platform: 'linux' });
  const started = performance.now();
  const tools = await scanTools({
    matcher,
    probes: {
      ...baseProbes,
      identify: (info) => {
        const identity = identifier.identify(info.pid);
        return identity && { entry: identity.entry, evidence: { method: identity.method, reference: identity.reference, package: identity.package } };
      },
    },
    approvedTools: [],
    platform: 'linux',
  });
  const behaviour = await scanBehaviour({ probes: behaviourProbes, prober, processes: tools.processes, matcher, alreadyReported: reportedByToolScan(tools.tools) });
  const scanMs = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({ at: Date.now(), scanMs, uid: process.getuid?.() ?? null, before: before.observations.map(summary), after: [...tools.observations, ...behaviour.observations].map(summary) })}\n`,
  );
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
