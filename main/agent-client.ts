/**
 * Main's side of the agent host channel: sends bridge calls and matches answers by id, hands events
 * to listeners, starts the host with its init message and stops it gracefully.
 */
import type { EventChannel, RequestChannel, Status } from '../common/ipc-contract';
import { assertNever, fail, type CodedError, type Result } from '../common/result';
import type { FromHost, HostInit, HostPort, ToHost } from '../host/agent-host-protocol';

/** A call the host has not answered in this long is failed (the host may be wedged or restarting). */
const CALL_TIMEOUT_MS = 30_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

export class AgentClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: Result<unknown>) => void; timer: NodeJS.Timeout }>();
  private readonly eventListeners = new Set<(channel: EventChannel, payload: unknown) => void>();
  private ready: Promise<Result<Status>> | null = null;
  private resolveReady: ((result: Result<Status>) => void) | null = null;
  private resolveStopped: (() => void) | null = null;

  constructor(private readonly port: HostPort<ToHost, FromHost>) {
    port.onMessage((message) => this.receive(message));
  }

  /** Send the init message; resolves with the first status once the agent runs, or its coded failure. */
  start(init: HostInit): Promise<Result<Status>> {
    this.ready ??= new Promise((resolve) => {
      this.resolveReady = resolve;
      this.port.post({ type: 'init', init });
    });
    return this.ready;
  }

  call(channel: RequestChannel, request: unknown): Promise<Result<unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(fail('AGENT_UNAVAILABLE', 'The Telltale agent did not answer in time.'));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      this.port.post({ type: 'call', id, channel, request });
    });
  }

  onEvent(listener: (channel: EventChannel, payload: unknown) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Ask the host to stop its services (which flush SQLite) and wait for it to say so. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS);
      this.resolveStopped = () => {
        clearTimeout(timer);
        resolve();
      };
      this.port.post({ type: 'shutdown' });
    });
  }

  /** The host exited: fail everything in flight. */
  hostExited(error: CodedError): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.resolve({ ok: false, error });
      this.pending.delete(id);
    }
    this.resolveReady?.({ ok: false, error });
    this.resolveStopped?.();
  }

  private receive(message: FromHost): void {
    switch (message.type) {
      case 'ready':
        this.resolveReady?.({ ok: true, value: message.status });
        return;
      case 'fatal':
        this.resolveReady?.({ ok: false, error: message.error });
        return;
      case 'result': {
        const call = this.pending.get(message.id);
        if (!call) return;
        clearTimeout(call.timer);
        this.pending.delete(message.id);
        call.resolve(message.result);
        return;
      }
      case 'event':
        for (const listener of this.eventListeners) listener(message.channel, message.payload);
        return;
      case 'stopped':
        this.resolveStopped?.();
        return;
      default:
        assertNever(message, 'agent host message');
    }
  }
}
