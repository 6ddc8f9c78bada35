/**
 * Entry point of the agent host: the agent core (input hook, SQLite, detectors, reports, sync)
 * running in an Electron utilityProcess, off main's UI thread. Bundled to dist/agent-host/.
 * Talks to main only through `process.parentPort` (see agent-host-protocol.ts).
 */
import type { FromHost, ToHost } from './agent-host-protocol';
import { runAgentHost } from './agent-host-core';

const parentPort = process.parentPort;
runAgentHost(
  {
    post: (message: FromHost) => parentPort.postMessage(message),
    onMessage: (listener) => parentPort.on('message', (event) => listener(event.data as ToHost)),
  },
  (code) => process.exit(code),
);
