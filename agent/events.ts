/**
 * The agent's in-process event bus: how services hear about each other's work without importing
 * each other. Every payload is privacy-safe by construction (timing features, findings, report
 * metadata), because the transparency view and logs subscribe to it.
 */
import type { Finding } from '../common/findings';
import type { TimingWindow } from '../common/timing';

export interface AgentEventMap {
  /** A timing window was aggregated and stored (id is its timing_windows row id). */
  windowFlushed: { readonly id: number; readonly window: TimingWindow };
  /**
   * The open (not yet due, not stored) window's features so far, every PROGRESS_MS while input
   * flows: lets the timing detector decide before a window is due. Never stored.
   */
  windowProgress: { readonly window: TimingWindow };
  /** A scan or detector changed the set of findings. */
  findingsChanged: { readonly opened: readonly Finding[]; readonly closed: readonly Finding[]; readonly updated: readonly Finding[] };
  /** A signed report was written to the outbox. */
  reportQueued: { readonly seq: number; readonly kind: 'report' | 'heartbeat' };
  /** The collector acknowledged a report. */
  reportDelivered: { readonly seq: number; readonly duplicate: boolean };
  /** Verified audit entries about this device (what IT looked at and did) were stored. */
  auditChanged: { readonly added: number; readonly newestSeq: number };
  /** Sync reachability changed: drives the tray's ok / offline state. */
  syncStateChanged: { readonly state: 'ok' | 'offline' | 'disabled'; readonly detail: string };
}

export type AgentEventName = keyof AgentEventMap;
type Listener<K extends AgentEventName> = (payload: AgentEventMap[K]) => void;

export class AgentEvents {
  private readonly listeners = new Map<AgentEventName, Set<Listener<AgentEventName>>>();

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends AgentEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<AgentEventName>);
    return () => set.delete(listener as Listener<AgentEventName>);
  }

  /**
   * Deliver synchronously. A throwing listener is a bug in that listener; it is reported on the
   * next tick so the emitter (often the input path) is never unwound by it.
   */
  emit<K extends AgentEventName>(name: K, payload: AgentEventMap[K]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
