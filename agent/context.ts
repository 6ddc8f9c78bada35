/**
 * What every agent service is handed: the open database, the resolved policy, a clock and a logger.
 *
 * Services are constructed with an AgentContext and started/stopped by the Agent in order. OS seams
 * (input source, system probes, uploader) are constructor parameters of the services themselves so
 * unit tests can pass fakes with driver methods while integration tests use the real thing.
 */
import type { ResolvedPolicy } from '../common/policy';
import type { AgentEvents } from './events';
import type { Db } from './store/database';

export interface Clock {
  /** Wall clock, epoch ms. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Structured log lines. Fields must never carry key identity, text or coordinates: the privacy
 * canary test reads every log line the agent writes.
 */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, string | number | boolean | null>): void;
}

export interface AgentContext {
  readonly db: Db;
  readonly policy: ResolvedPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Folder for the agent's files (database, keys). */
  readonly dataDir: string;
  readonly agentVersion: string;
  readonly events: AgentEvents;
}

/** A long-running part of the agent (input capture, scanner, reporter, sync, view server...). */
export interface AgentService {
  readonly name: string;
  start(): void | Promise<void>;
  /**
   * Stop taking in new work and hand over what is pending while every other service still runs
   * (input capture's last window reaches the timing detector this way). Called in start order,
   * before any `stop`.
   */
  drain?(): void | Promise<void>;
  /** Stop timers and flush pending state; called in reverse start order on shutdown. */
  stop(): void | Promise<void>;
}
