/**
 * Messages between Electron main and the agent host (the agent core in a utilityProcess), over the
 * utility process's MessagePort. Requests carry bridge calls already validated by main and are
 * validated again by the host's dispatcher; events are the bridge's events, forwarded as-is.
 */
import type { EventChannel, Status } from '../common/ipc-contract';
import type { CodedError, Result } from '../common/result';

/** Everything the host needs to build the Agent. */
export interface HostInit {
  readonly dataDir?: string;
  readonly policyPath?: string;
  readonly managedPolicyPath?: string;
  readonly agentVersion: string;
  /**
   * The device private key (PKCS8 PEM), opened by main with safeStorage (only main can call it).
   * Absent: the headless 0600-file protector is used.
   */
  readonly devicePrivateKeyPem?: string;
  /** Capture input in the host (default true); false for tests without a display. */
  readonly captureInput?: boolean;
}

export type ToHost =
  | { readonly type: 'init'; readonly init: HostInit }
  | { readonly type: 'call'; readonly id: number; readonly channel: string; readonly request: unknown }
  | { readonly type: 'shutdown' };

export type FromHost =
  | { readonly type: 'ready'; readonly status: Status }
  | { readonly type: 'fatal'; readonly error: CodedError }
  | { readonly type: 'result'; readonly id: number; readonly result: Result<unknown> }
  | { readonly type: 'event'; readonly channel: EventChannel; readonly payload: unknown }
  | { readonly type: 'stopped' };

/** One end of the channel, whatever carries it (Electron's parentPort, a Node MessagePort in tests). */
export interface HostPort<Out, In> {
  post(message: Out): void;
  onMessage(listener: (message: In) => void): void;
}
