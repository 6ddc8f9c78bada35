/**
 * Building and running workloads in child processes, and cleaning up everything the bench spawns.
 *
 * Workloads (bench/workloads/*.ts) are bundled with esbuild and run with plain `node`, so no
 * TypeScript loader inflates their RSS or CPU. Two flavours: 'esm' (npm packages left external;
 * the default) and 'app' (CommonJS with everything but the native modules bundled in, made the way
 * scripts/build.mjs makes dist/agent-cli/cli.js, which is what `npm run agent` runs). A workload
 * whose imports do not resolve (code not written yet) fails to build, and its rows print as
 * "n/a (missing: ...)".
 */
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { readProcCpu, readRssKb } from './proc';
import type { CpuSample } from '../workloads/protocol';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const OUTPUT_DIR = path.join(REPO_ROOT, 'test-output');
/** Bundles live inside the repo so `node_modules` resolves for the external packages. */
const BUILD_DIR = path.join(OUTPUT_DIR, 'bench-build');

// ---------------------------------------------------------------------------------------------
// Cleanup registry: every spawned process (or process group) is killed on exit, error or signal.

const liveProcesses = new Map<number, { group: boolean; child: ChildProcess }>();
const cleanups = new Set<() => void | Promise<void>>();

/** Remember a child so it is killed if the bench exits early. `group`: kill its whole process group. */
export function track(child: ChildProcess, group = false): void {
  if (child.pid === undefined) return;
  const pid = child.pid;
  liveProcesses.set(pid, { group, child });
  child.once('exit', () => liveProcesses.delete(pid));
}

/** Register an async cleanup (stop Xvfb, drop a database); returns a function that unregisters it. */
export function onCleanup(cleanup: () => void | Promise<void>): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/**
 * Stop everything: SIGTERM to every live child first (workloads then remove their own temporary
 * folders and schemas, and release database locks), up to `graceMs` to exit, then the registered
 * cleanups (drop leftover schemas...), then SIGKILL whatever is still alive. Safe to call twice.
 */
export async function cleanupAll(graceMs = 5000): Promise<void> {
  const live = [...liveProcesses.values()];
  for (const { group, child } of live) {
    try {
      process.kill(group ? -child.pid! : child.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await Promise.race([Promise.all(live.map(({ child }) => exited(child))), sleep(graceMs)]);
  for (const cleanup of [...cleanups].reverse()) {
    cleanups.delete(cleanup);
    try {
      await cleanup();
    } catch (error) {
      console.error(`bench: cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  killAllSync();
}

function killAllSync(): void {
  for (const [pid, { group }] of liveProcesses) {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    liveProcesses.delete(pid);
  }
}

let handlersInstalled = false;

/** Kill children on exit and on SIGINT/SIGTERM; call once at start. */
export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`bench: ${signal}, cleaning up`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}

/** spawn() plus tracking. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, options);
  track(child, options.detached === true);
  return child;
}

/** Wait for a child to exit (resolves immediately if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

// ---------------------------------------------------------------------------------------------
// Building workloads.

export type BuildResult = { readonly ok: true; readonly file: string } | { readonly ok: false; readonly missing: string };
export type BuildFlavor = 'esm' | 'app';

/** Kept outside 'app' bundles, as scripts/build.mjs does. */
const APP_EXTERNAL = ['better-sqlite3', 'uiohook-napi'];

const builds = new Map<string, Promise<BuildResult>>();

/**
 * Bundle bench/workloads/<name>.ts once per run and flavour. A failure to resolve an import
 * becomes `{ ok: false, missing }` naming the files that are not there.
 */
export function buildWorkload(name: string, flavor: BuildFlavor = 'esm'): Promise<BuildResult> {
  let result = builds.get(`${name}.${flavor}`);
  if (!result) {
    result = doBuild(name, flavor);
    builds.set(`${name}.${flavor}`, result);
  }
  return result;
}

async function doBuild(name: string, flavor: BuildFlavor): Promise<BuildResult> {
  const entry = path.join(REPO_ROOT, 'bench', 'workloads', `${name}.ts`);
  const outfile = path.join(BUILD_DIR, flavor === 'esm' ? `${name}.mjs` : `${name}.app.cjs`);
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const common: BuildOptions = { entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', logLevel: 'silent' };
  try {
    if (flavor === 'esm') {
      await build({ ...common, format: 'esm', packages: 'external', sourcemap: 'inline' });
    } else {
      await build({
        ...common,
        format: 'cjs',
        external: APP_EXTERNAL,
        // As scripts/build.mjs: path lookups relative to the module keep working in CommonJS.
        define: { 'import.meta.dirname': '__dirname', 'import.meta.url': '__importMetaUrl' },
        banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
        sourcemap: 'linked',
      });
    }
    return { ok: true, file: outfile };
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string } | null }[] }).errors ?? [];
    const unresolved = errors
      .map((item) => /Could not resolve "([^"]+)"/.exec(item.text)?.[1] ?? null)
      .filter((item): item is string => item !== null)
      .map((spec) => spec.replace(/^(\.\.\/)+/, ''));
    if (unresolved.length > 0) return { ok: false, missing: [...new Set(unresolved)].join(', ') };
    const first = errors[0];
    return { ok: false, missing: `build error in ${first?.location?.file ?? name}: ${first?.text ?? String(error)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Running workloads.

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
  readonly ready?: boolean;
}

export interface WorkloadSample extends CpuSample {
  /** /proc/<pid>/stat utime+stime, ms (10 ms ticks): a cross-check of cpuUs. */
  readonly procCpuMs: number;
  /** /proc/<pid>/status VmRSS, KiB. */
  readonly vmRssKb: number;
}

export interface WorkloadOptions {
  readonly args?: readonly string[];
  /** Merged over process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly readyTimeoutMs?: number;
  /** The child exits by itself after this long (default 10 minutes). */
  readonly maxLifetimeMs?: number;
  readonly stdout?: 'inherit' | 'ignore';
  /**
   * 'bundle' (default): run the esbuild bundle with plain node. 'tsx': run the TypeScript source
   * through tsx, as `npm run collector` does, for code that finds files relative to its own source
   * folder (the collector's dashboard assets), which a single bundle file would move.
   */
  readonly runner?: 'bundle' | 'tsx';
  /** Bundle flavour for runner 'bundle' (default 'esm'). */
  readonly flavor?: BuildFlavor;
}

/**
 * With BENCH_CPU_PROF set to a folder, every workload child writes V8 CPU profiles (one per thread)
 * into a folder of its own there when it exits (open it in Chrome DevTools or summarize it with tools/profile-summary.ts).
 */
function profileArgs(name: string): string[] {
  const folder = process.env.BENCH_CPU_PROF;
  if (folder === undefined || folder === '') return [];
  // A folder per child: Node names each thread's profile itself (tsx's loader runs on its own thread).
  return ['--cpu-prof', `--cpu-prof-dir=${path.join(path.resolve(folder), `${name}-${Date.now()}`)}`];
}

/** A running workload child with a request/response channel. */
export class Workload {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private stderrTail = '';

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly info: unknown,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Build and start `name`, resolving once it reports ready (or rejecting if it exits first).
   * `env` is merged over process.env.
   */
  static async start(
    name: string,
    options: WorkloadOptions = {},
  ): Promise<Workload> {
    // Built in both modes: a failed build is how missing code is detected before anything runs.
    const built = await buildWorkload(name, options.flavor ?? 'esm');
    if (!built.ok) throw new MissingCodeError(built.missing);
    const tsx = options.runner === 'tsx';
    const entry = tsx ? path.join(REPO_ROOT, 'bench', 'workloads', `${name}.ts`) : built.file;
    const child = fork(entry, [...(options.args ?? [])], {
      cwd: REPO_ROOT,
      execArgv: [...(tsx ? ['--import', 'tsx'] : ['--enable-source-maps']), ...profileArgs(name)],
      env: { ...process.env, ...options.env, BENCH_MAX_LIFETIME_MS: String(options.maxLifetimeMs ?? 600_000) },
      // stdout 'ignore' sends a workload's logging to /dev/null: the writes still cost what they cost.
      stdio: ['ignore', options.stdout ?? 'inherit', 'pipe', 'ipc'],
    });
    track(child);
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    });
    const info = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`workload ${name} not ready after ${options.readyTimeoutMs ?? 30_000} ms\n${tail}`));
      }, options.readyTimeoutMs ?? 30_000);
      child.once('message', (message: Reply) => {
        clearTimeout(timer);
        if (message.ready) resolve(message.value);
        else reject(new Error(`workload ${name} sent ${JSON.stringify(message)} before ready`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`workload ${name} exited (${code ?? signal}) before ready\n${tail}`));
      });
    });
    const workload = new Workload(name, child, info);
    workload.stderrTail = tail;
    // Keep only the end of stderr: enough to explain a crash in the error message.
    child.stderr?.removeAllListeners('data');
    child.stderr?.on('data', (chunk: Buffer) => {
      workload.stderrTail = (workload.stderrTail + chunk.toString()).slice(-4000);
    });
    child.on('message', (message: Reply) => workload.onReply(message));
    child.once('exit', (code, signal) => {
      for (const { reject } of workload.pending.values()) {
        reject(new Error(`workload ${name} exited (${code ?? signal})\n${workload.stderrTail}`));
      }
      workload.pending.clear();
    });
    return workload;
  }

  private onReply(message: Reply): void {
    const waiter = this.pending.get(message.id);
    if (!waiter) return;
    this.pending.delete(message.id);
    if (message.ok) waiter.resolve(message.value);
    else waiter.reject(new Error(`workload ${this.name}: ${message.error ?? 'failed'}`));
  }

  /** Send one request and wait for its answer. */
  request<T>(op: string, args?: unknown, timeoutMs = 300_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`workload ${this.name}: ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ id, op, args });
    });
  }

  /** CPU (both ways) and RSS of the child right now. */
  async sample(): Promise<WorkloadSample> {
    const inside = await this.request<CpuSample>('sample');
    const cpu = readProcCpu(this.pid);
    return { ...inside, procCpuMs: cpu?.selfMs ?? Number.NaN, vmRssKb: readRssKb(this.pid) ?? Number.NaN };
  }

  /** Ask the child to stop, then make sure it has (SIGKILL after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = exited(this.child);
    this.request('stop', undefined, graceMs).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(timer);
  }
}

/** A row's code is not in the tree yet; the message names what is missing. */
export class MissingCodeError extends Error {
  constructor(readonly missing: string) {
    super(`missing: ${missing}`);
  }
}

/** Start several workloads; stop them all after `work`, even when it throws. */
export async function withWorkloads<T>(
  specs: readonly ({ name: string } & WorkloadOptions)[],
  work: (workloads: Workload[]) => Promise<T>,
): Promise<T> {
  const started: Workload[] = [];
  try {
    for (const spec of specs) started.push(await Workload.start(spec.name, spec));
    return await work(started);
  } finally {
    await Promise.all(started.map((workload) => workload.stop()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
