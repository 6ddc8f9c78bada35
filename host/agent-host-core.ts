/**
 * The agent host's logic, independent of how it is connected: build the Agent from main's init
 * message, answer bridge calls through the shared dispatcher, forward view events, and stop cleanly
 * (services flush, the WAL is checkpointed) on shutdown.
 *
 * host/agent-host.ts connects it to Electron's `process.parentPort`; tests connect it to a Node
 * MessageChannel and run it under plain Node with a real Agent and a real SQLite file.
 */
import crypto from 'node:crypto';
import { Agent } from '../agent/agent';
import { dispatchBridgeRequest } from '../agent/view/bridge-dispatch';
import { createOutboxReportReader } from '../agent/view/report-reader';
import { ViewModel } from '../agent/view/view-model';
import type { SyncService } from '../agent/sync/sync-service';
import type { AuditFetchService } from '../agent/audit/audit-fetch-service';
import type { InputCaptureService } from '../agent/input/input-capture-service';
import { assertNever, ok } from '../common/result';
import type { FromHost, HostInit, HostPort, ToHost } from './agent-host-protocol';
import { preopenedKeyProtector } from './preopened-key-protector';

export function runAgentHost(port: HostPort<FromHost, ToHost>, exit: (code: number) => void): void {
  let agent: Agent | null = null;
  let viewModel: ViewModel | null = null;
  let stopping = false;

  const start = async (init: HostInit) => {
    const created = await Agent.create({
      dataDir: init.dataDir,
      policyPath: init.policyPath,
      managedPolicyPath: init.managedPolicyPath,
      agentVersion: init.agentVersion,
      view: null,
      ...(init.captureInput === false ? { inputSource: null } : {}),
      ...(init.devicePrivateKeyPem ? { reporting: { keyProtector: preopenedKeyProtector(init.devicePrivateKeyPem) } } : {}),
    });
    if (!created.ok) {
      port.post({ type: 'fatal', error: created.error });
      return;
    }
    agent = created.value;
    const sync = agent.service<SyncService>('sync');
    const audit = agent.service<AuditFetchService>('audit-fetch');
    const capture = agent.service<InputCaptureService>('input-capture');
    const publicKey = init.devicePrivateKeyPem ? crypto.createPublicKey(init.devicePrivateKeyPem) : null;
    viewModel = new ViewModel(agent.context, {
      mode: 'electron',
      reports: createOutboxReportReader(() => publicKey),
      ...(capture ? { capture: () => capture.status() } : {}),
      ...(sync
        ? {
            syncNow: async () => {
              sync.syncNow();
              void audit?.fetchNow();
              return ok({ started: true, detail: 'Sending any waiting reports and fetching what IT looked at and did now.' });
            },
          }
        : {}),
    });
    viewModel.subscribe((channel, payload) => port.post({ type: 'event', channel, payload }));
    await agent.start();
    port.post({ type: 'ready', status: viewModel.status() });
  };

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    viewModel?.dispose();
    await agent?.stop();
    port.post({ type: 'stopped' });
    exit(0);
  };

  port.onMessage((message) => {
    switch (message.type) {
      case 'init':
        start(message.init).catch((error: unknown) => {
          port.post({ type: 'fatal', error: { code: 'DATABASE_UNWRITABLE', message: error instanceof Error ? error.message : String(error) } });
        });
        return;
      case 'call': {
        const model = viewModel;
        if (model === null) {
          port.post({ type: 'result', id: message.id, result: { ok: false, error: { code: 'AGENT_STARTING', message: 'The agent is still starting.' } } });
          return;
        }
        Promise.resolve(dispatchBridgeRequest(model, message.channel, message.request)).then(
          (result) => port.post({ type: 'result', id: message.id, result }),
          (error: unknown) => {
            agent?.context.logger.log('error', 'Bridge handler failed', { reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
            port.post({ type: 'result', id: message.id, result: { ok: false, error: { code: 'INTERNAL', message: 'The agent could not answer; see its log.' } } });
          },
        );
        return;
      }
      case 'shutdown':
        void stop();
        return;
      default:
        assertNever(message, 'agent host message');
    }
  });
}
