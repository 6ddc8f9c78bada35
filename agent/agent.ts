/**
 * The Agent: opens the database, builds the context and the services, starts and stops them.
 *
 * The same Agent runs headless (agent/cli.ts) and inside Electron (main/). Every long-running part
 * is an AgentService built in one place, `createServices`, started in list order and stopped in
 * reverse. Expected failures at creation (bad policy, unusable database, unsupported OS) come back
 * as coded Results; bugs throw.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, ok, TelltaleError, type Result } from '../common/result';
import { systemClock, type AgentContext, type AgentService, type Clock, type Logger } from './context';
import { AgentEvents } from './events';
import { HookInputSource } from './input/hook-source';
import { InputCaptureService } from './input/input-capture-service';
import type { InputSource } from './input/input-source';
import type { AttributionSource } from './input/attribution/attribution-source';
import { attributionSourceFor } from './input/attribution/attribution-for-platform';
import { InjectedInputDetector } from './input/attribution/injected-input-detector';
import { processListerFor } from './detect/processes/list-processes';
import { createJsonLogger } from './log';
import { platformPaths } from './platform/paths';
import { loadPolicy } from './policy/load-policy';
import { acquireInstanceLock, prepareDataFolder, type InstanceLock } from './store/data-folder';
import { openDatabase } from './store/database';
import { storageFaultOf, storageHealth } from './store/storage-health';
import { DEFAULT_PRUNERS, RetentionService, type RetentionPruner } from './store/retention';
import { HeadlessViewService, type HeadlessViewOptions } from './headless/headless-view-service';
import { createReporting, type ReportingOptions } from './report/reporting';
import { LocationService } from './location/location-service';
import { outboxPruner } from './store/outbox';
import { DetectionService } from './detect/detection-service';
import { TimingDetectorService } from './timing-detector/timing-detector-service';
import { VerdictService } from './verdict/verdict-service';
import { CpuWatchdog } from './watchdog';

/** The database file's name inside the data folder. */
export const DATABASE_FILE_NAME = 'telltale.db';

export interface AgentOptions {
  /** An explicit policy file (`--policy`); it must exist. Default: the OS's managed policy, else defaults. */
  readonly policyPath?: string;
  /** Replaces the OS's managed policy location (tests; the real one is in agent/platform/). */
  readonly managedPolicyPath?: string;
  /** Folder for the database and keys. Default: the OS's per-user data folder. */
  readonly dataDir?: string;
  /** Where input timing comes from. Default: the real hook (uiohook-napi). `null`: no input capture. */
  readonly inputSource?: InputSource | null;
  /**
   * Where injected-vs-device attribution comes from. Default: the OS's source
   * (agent/input/attribution/) when `inputSource` is the default hook, none otherwise. `null`: none.
   */
  readonly attributionSource?: AttributionSource | null;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly agentVersion?: string;
  /** The OS to act as (default process.platform); with `env`, for path tests. */
  readonly platform?: NodeJS.Platform;
  readonly env?: NodeJS.ProcessEnv;
  /** Retention pruners for tables beyond timing_windows and findings (e.g. the outbox's). */
  readonly retentionPruners?: readonly RetentionPruner[];
  /** Signed reporting seams: key protector (the tray passes a safeStorage one), uploader, backoff. */
  readonly reporting?: ReportingOptions;
  /**
   * The loopback transparency view (agent/headless/). Default: served on a random 127.0.0.1 port,
   * URL logged at start. `null`: not served (the tray app's agent host: its window uses IPC).
   */
  readonly view?: HeadlessViewOptions | null;
}

/**
 * Build every service, in start order. Append new services here (detection, timing detector,
 * reporter/sync, view server...): construct them from `ctx` and their OS seam from `options`.
 */
export function createServices(ctx: AgentContext, options: AgentOptions): AgentService[] {
  const services: AgentService[] = [];
  const inputSource = options.inputSource === undefined ? new HookInputSource(options.env ?? process.env) : options.inputSource;
  const attribution = options.attributionSource !== undefined ? options.attributionSource : options.inputSource === undefined ? defaultAttribution(ctx, options) : null;
  const capture = inputSource === null ? null : new InputCaptureService(ctx, inputSource, attribution);
  if (capture !== null) services.push(capture);
  services.push(
    new RetentionService(ctx, path.join(ctx.dataDir, DATABASE_FILE_NAME), [
      ...DEFAULT_PRUNERS,
      outboxPruner,
      ...(options.retentionPruners ?? []),
    ]),
  );
  const detection = new DetectionService(ctx);
  services.push(detection);
  // Relay scoring and injected-input judging of each flushed timing window, then one device-level
  // verdict over all findings.
  const platform = options.platform ?? process.platform;
  services.push(new TimingDetectorService(ctx), new InjectedInputDetector(ctx, () => processListerFor(platform)()), new VerdictService(ctx));
  // Signed reports: device identity, the report service ('report') and the sync loop ('sync').
  // Location first, so the first report can carry a block; it probes only with a fleet key in the policy.
  const location = new LocationService(ctx);
  services.push(location);
  const reporting = createReporting(ctx, { location: () => location.current(), ...options.reporting });
  location.onDidChange = () => reporting.reportService.reportLocationChange();
  services.push(...reporting.services);
  if (options.view !== null) {
    services.push(
      new HeadlessViewService(ctx, {
        publicKey: () => reporting.identity.publicKey,
        ...(capture !== null ? { capture: () => capture.status() } : {}),
        syncNow: async () => {
          reporting.syncService.syncNow();
          void reporting.auditService.fetchNow();
          return ok({ started: true, detail: 'Sending any waiting reports and fetching what IT looked at and did now.' });
        },
        ...options.view,
      }),
    );
  }
  // Last to start, first to stop: keeps the agent under 10% of a core sustained over 12 s by
  // stretching the scans; input capture is never throttled.
  services.push(new CpuWatchdog(ctx, { throttleables: [detection] }));
  return services;
}

/** The OS's attribution source, or null where none exists (an unsupported platform). */
function defaultAttribution(ctx: AgentContext, options: AgentOptions): AttributionSource | null {
  try {
    return attributionSourceFor(options.platform ?? process.platform, options.env ?? process.env, { pointerMotion: ctx.policy.injectedInput.pointerMotion });
  } catch (error) {
    if (error instanceof TelltaleError) return null;
    throw error;
  }
}

export class Agent {
  private started: AgentService[] = [];
  private state: 'created' | 'running' | 'stopped' = 'created';

  private constructor(
    readonly context: AgentContext,
    readonly services: readonly AgentService[],
    /** Absolute path of the database file. */
    readonly databasePath: string,
    /** Where the policy came from: a file path or "defaults". */
    readonly policySource: string,
    private readonly lock: InstanceLock,
  ) {}

  /**
   * Load the policy, open (and migrate) the database and build the services; does not start them.
   * Fails with POLICY_INVALID, POLICY_UNREADABLE, DATABASE_CORRUPT, DATABASE_TOO_NEW,
   * DATABASE_UNWRITABLE, AGENT_ALREADY_RUNNING or UNSUPPORTED_PLATFORM. The data folder's lock is
   * taken before the database is opened, so a second agent never touches (or migrates) it.
   */
  static async create(options: AgentOptions = {}): Promise<Result<Agent>> {
    const logger = options.logger ?? createJsonLogger();
    const clock = options.clock ?? systemClock;
    let managedFile = options.managedPolicyPath;
    let dataDir = options.dataDir;
    if (managedFile === undefined || dataDir === undefined) {
      try {
        const paths = platformPaths(options.platform, options.env ? { env: options.env, homedir: options.env.HOME ?? os.homedir() } : undefined);
        managedFile ??= paths.managedPolicyFile;
        dataDir ??= paths.dataDir;
      } catch (error) {
        if (error instanceof TelltaleError) return fail(error.code, error.message);
        throw error;
      }
    }
    const loaded = loadPolicy({ explicitFile: options.policyPath, managedFile });
    if (!loaded.ok) return loaded;

    const databasePath = path.resolve(dataDir, DATABASE_FILE_NAME);
    let lock: InstanceLock;
    let db;
    try {
      prepareDataFolder(path.resolve(dataDir));
      lock = acquireInstanceLock(path.resolve(dataDir));
    } catch (error) {
      if (error instanceof TelltaleError) return fail(error.code, error.message);
      throw error;
    }
    try {
      db = openDatabase(databasePath);
    } catch (error) {
      lock.release();
      if (error instanceof TelltaleError) return fail(error.code, error.message);
      throw error;
    }
    const context: AgentContext = {
      db,
      policy: loaded.value.policy,
      clock,
      logger,
      dataDir: path.resolve(dataDir),
      agentVersion: options.agentVersion ?? packageVersion(),
      events: new AgentEvents(),
    };
    try {
      return ok(new Agent(context, createServices(context, options), databasePath, loaded.value.source, lock));
    } catch (error) {
      db.close();
      lock.release();
      // The key file is written here too (identity): a disk that fills up between the database's
      // checks and that write is the same condition, not a bug.
      if (storageFaultOf(error) !== null) {
        return fail('DATABASE_UNWRITABLE', `Cannot write to ${path.resolve(dataDir)} (${error instanceof Error ? error.message : String(error)}).`);
      }
      throw error;
    }
  }

  /** The first service with this name, typed by the caller (e.g. `agent.service<InputCaptureService>('input-capture')`). */
  service<T extends AgentService>(name: string): T | undefined {
    return this.services.find((service) => service.name === name) as T | undefined;
  }

  /** Start every service in order. If one throws, the ones already started are stopped and it rethrows. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new Error(`Agent.start() called when ${this.state}`);
    this.state = 'running';
    for (const service of this.services) {
      try {
        await service.start();
      } catch (error) {
        this.context.logger.log('error', 'A service failed to start; stopping the agent', { service: service.name });
        await this.stop();
        throw error;
      }
      this.started.push(service);
    }
  }

  /**
   * Drain started services in start order (input capture's last window is stored and scored while
   * the detectors still listen), stop them in reverse order (each flushes its pending state),
   * checkpoint the WAL into the database file, close it and release the data folder's lock. Safe
   * to call more than once.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const service of this.started) {
      try {
        await service.drain?.();
      } catch (error) {
        this.context.logger.log('error', 'A service failed to drain cleanly', {
          service: service.name,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    for (const service of this.started.reverse()) {
      try {
        await service.stop();
      } catch (error) {
        // Keep stopping the rest: a failed flush in one service must not strand the others.
        this.context.logger.log('error', 'A service failed to stop cleanly', {
          service: service.name,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    this.started = [];
    if (this.context.db.open) {
      // On a full disk the checkpoint cannot run; the WAL keeps every commit and the next start
      // checkpoints it.
      storageHealth(this.context).write('checkpoint at stop', () => this.context.db.pragma('wal_checkpoint(TRUNCATE)'));
      this.context.db.close();
    }
    this.lock.release();
  }
}

/**
 * The version in Telltale's package.json, read at run time so tsx and the bundles (dist/<entry>/,
 * which have their own small package.json) all report the same value: walk up to the first
 * package.json that is Telltale's.
 */
function packageVersion(): string {
  let dir = path.resolve(import.meta.dirname ?? '.');
  for (let depth = 0; depth < 4; depth++, dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'telltale' && manifest.version) return manifest.version;
    } catch {
      // No package.json here; keep walking up.
    }
  }
  return 'unknown';
}
