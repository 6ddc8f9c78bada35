/**
 * DetectionService: runs the remote-tool scan every policy.intervals.scanSeconds (skipped while the
 * platform's change digests, change/scan-change.ts, say nothing it looks at changed, and narrowed to
 * the new processes when only those changed), followed by the
 * behaviour scan (protocol probes of listening sockets, forwarder attribution) and, on Windows, the
 * RDP host scan; and the hardware probe (displays, USB) at start, on change, and at most every
 * hardwareScanSeconds (minimum 60). Findings of sources `tool`, `behaviour`, `rdp-host`, `edid`,
 * `usb` and `display` are reconciled separately.
 *
 * OS seams are injectable through `DetectionProbes` so unit tests can drive it; by default the
 * per-platform modules are used (the chooser throws UNSUPPORTED_PLATFORM elsewhere).
 */
import type { FindingObservation } from '../../common/findings';
import type { AgentContext, AgentService } from '../context';
import { reconcileFindings } from '../store/findings';
import { storageHealth } from '../store/storage-health';
import { loadCatalog, ProcessMatcher, type Catalog, type CatalogOs } from './catalog/catalog';
import { execFileRunner, type CommandRunner } from './command-runner';
import { listDrmConnectors } from './displays/linux';
import { displayReaderFor } from './displays/read-displays';
import { DISPLAY_SOURCE, EDID_SOURCE, evaluateHardware, hardwareChangeToken, USB_SOURCE, type HardwareSnapshot } from './hardware-scanner';
import { listProcessesLinux } from './processes/linux';
import { processListerFor } from './processes/list-processes';
import type { ProcessInfo } from './processes/process-info';
import { socketListerFor } from './sockets/list-sockets';
import { shareProcNetTcp } from './sockets/linux';
import { readTcpRttLinux, shareTcpRtt } from './rtt/linux';
import { signerReaderFor } from './signers/read-signer';
import { BEHAVIOUR_SOURCE, reportedByObservations, reportedByToolScan, scanBehaviour, type BehaviourProbes, type BehaviourScanResult } from './behaviour-scanner';
import { ExecutableIdentifier } from './identity/linux';
import { SignerIdentifier } from './identity/signer';
import { ProtocolProber } from './protocol-probe/prober';
import { RDP_HOST_SOURCE, rdpHostObservations, readRdpHostWin32, type RdpHostState } from './rdp-host/win32';
import { tcpTableReaderFor } from './sockets/list-sockets';
import { pathExists, scanTools, TOOL_SOURCE, toolOf, type ToolScanProbes, type ToolScanResult } from './tool-scanner';
import { listUsbDevicesLinux } from './usb/linux';
import { usbListerFor } from './usb/list-usb';
import { scanChangeReaderFor, type ScanChange, type ScanChangeReader } from './change/scan-change';

export interface DetectionProbes extends ToolScanProbes {
  /** The machine's TCP table for the behaviour scan; absent: no behaviour scan. */
  behaviour?: BehaviourProbes;
  /** Windows' own RDP host through TermService (rdp-host/win32.ts); absent elsewhere. */
  readRdpHost?: () => Promise<RdpHostState>;
  /** Full hardware snapshot (may spawn xrandr); called at most once a minute or on change. */
  readHardware(): Promise<HardwareSnapshot>;
  /** Cheap change token (a readdir or two), checked on every tool scan. */
  hardwareToken(): string;
  /**
   * Cheap digests of what the tool and behaviour scans see (change/scan-change.ts): a scheduled scan
   * is skipped while they are unchanged and the last scan found nothing. Absent: every period scans.
   */
  readScanChange?: ScanChangeReader;
  /** The processes of these pids only, for checking the ones started since the last scan. Absent: a full scan instead. */
  listProcessesOf?: (pids: readonly number[]) => Promise<ProcessInfo[]>;
  /** Runs one scan with the reads it repeats shared (Linux: /proc/net/tcp{,6} and `ss`); absent: no sharing. */
  shareReads?: <T>(work: () => Promise<T>) => Promise<T>;
}

export interface DetectionOptions {
  readonly platform?: NodeJS.Platform;
  readonly probes?: DetectionProbes;
  readonly catalog?: Catalog;
  /** The protocol prober (tests inject one whose network exchange is replayed). */
  readonly prober?: ProtocolProber;
}

/**
 * The real probes for this platform (Linux, macOS, Windows). `run` is the command seam of the macOS
 * and Windows hardware and signer probes. Off Linux there is no cheap change token (each read spawns
 * PowerShell or system_profiler), so hardware is probed on the periodic schedule only.
 */
export function defaultProbes(platform: NodeJS.Platform, run: CommandRunner = execFileRunner, catalog: Catalog = loadCatalog()): DetectionProbes {
  const listProcesses = processListerFor(platform);
  const listSockets = socketListerFor(platform);
  const linux = platform === 'linux';
  // Binary identity: by content on Linux, by code signer on Windows and macOS.
  const identifier = linux ? new ExecutableIdentifier({ catalog }) : undefined;
  // --- per-OS hardware and signer probes (displays/read-displays.ts, usb/list-usb.ts, signers/read-signer.ts) ---
  const readDisplays = displayReaderFor(platform, run);
  const listUsb = usbListerFor(platform, run);
  const readSigner = signerReaderFor(platform, run);
  // --- end per-OS hardware and signer probes ---
  const signerIdentifier = new SignerIdentifier(catalog, readSigner);
  const readScanChange = scanChangeReaderFor(platform);
  return {
    ...(readScanChange ? { readScanChange } : {}),
    ...(linux ? { listProcessesOf: async (pids: readonly number[]) => listProcessesLinux('/proc', pids) } : {}),
    ...(linux ? { shareReads: <T>(work: () => Promise<T>) => shareProcNetTcp(() => shareTcpRtt(work)) } : {}),
    listProcesses,
    listSockets,
    ...(linux ? { readRtt: readTcpRttLinux } : {}),
    ...(identifier
      ? {
          identify: (process) => {
            const identity = identifier.identify(process.pid);
            return identity && { entry: identity.entry, evidence: { method: identity.method, reference: identity.reference, package: identity.package, sha256: identity.sha256 } };
          },
        }
      : {
          identify: async (process) => {
            const identity = await signerIdentifier.identify(process.exe);
            return identity && { entry: identity.entry, evidence: { method: 'signer', signer: identity.signer } };
          },
        }),
    ...(platform === 'win32' ? { readRdpHost: () => readRdpHostWin32(run) } : {}),
    behaviour: { ...tcpTableReaderFor(platform, run), ...(linux ? { readRtt: readTcpRttLinux } : {}) },
    pathExists,
    readSigner,
    async readHardware() {
      const displays = await readDisplays();
      return { ...displays, usbDevices: await listUsb() };
    },
    hardwareToken() {
      if (!linux) return '';
      const usb = (() => {
        try {
          return listUsbDevicesLinux().map((device) => device.path);
        } catch {
          return [];
        }
      })();
      return hardwareChangeToken(listDrmConnectors(), usb);
    },
  };
}

/** While throttled, one scan per this many scan periods. */
export const THROTTLED_SCAN_EVERY = 4;
/**
 * A full scan at least once per this many scan periods however quiet the change token is (5 minutes
 * at the default 30 s): it bounds what the token cannot see (a process that execs in place).
 */
export const FULL_SCAN_EVERY = 10;

export class DetectionService implements AgentService {
  readonly name = 'detection';
  private readonly platform: NodeJS.Platform;
  private readonly probes: DetectionProbes;
  private readonly matcher: ProcessMatcher;
  private readonly prober: ProtocolProber;
  private toolTimer: NodeJS.Timeout | undefined;
  private lastHardwareScan = 0;
  private lastHardwareToken: string | undefined;
  private running: Promise<void> | undefined;
  /** The last tool scan, for the transparency view and benchmarks. */
  lastToolScan: ToolScanResult | undefined;
  /** The last behaviour scan (protocol probes, forwarder attribution). */
  lastBehaviourScan: BehaviourScanResult | undefined;

  constructor(
    private readonly ctx: AgentContext,
    options: DetectionOptions = {},
  ) {
    this.platform = options.platform ?? process.platform;
    const catalog = options.catalog ?? loadCatalog();
    this.probes = options.probes ?? defaultProbes(this.platform, execFileRunner, catalog);
    const os: CatalogOs = this.platform === 'win32' ? 'win32' : this.platform === 'darwin' ? 'darwin' : 'linux';
    this.matcher = new ProcessMatcher(catalog, os);
    this.prober = options.prober ?? new ProtocolProber();
  }

  private throttled = false;
  /** What the scan looked at when last read (before the last full scan, or by a new-process check). */
  private lastScanChange: ScanChange | null = null;
  /** Scheduled periods since the last full scan that skipped it (unchanged, or only new processes checked). */
  private unchangedSkips = 0;
  /** Scheduled scans skipped because nothing had changed (for tests and the bench). */
  skippedScans = 0;
  /** Scheduled scans narrowed to the processes started since the last read, which were no tool. */
  newProcessChecks = 0;
  /** The unavailable X screen probe is logged once per run. */
  private loggedNoXScreen = false;
  private skippedTicks = 0;

  start(): void {
    void this.tick();
    this.toolTimer = setInterval(() => {
      // While the CPU watchdog throttles the agent, scan only every THROTTLED_SCAN_EVERY-th period.
      if (this.throttled && ++this.skippedTicks % THROTTLED_SCAN_EVERY !== 0) return;
      void this.scheduledTick();
    }, this.ctx.policy.intervals.scanSeconds * 1000);
    this.toolTimer.unref?.();
  }

  /** CpuWatchdog hook: stretch the scan period while the agent is over its CPU budget. */
  throttle(): void {
    this.throttled = true;
  }

  resume(): void {
    this.throttled = false;
    this.skippedTicks = 0;
  }

  get isThrottled(): boolean {
    return this.throttled;
  }

  async stop(): Promise<void> {
    if (this.toolTimer) clearInterval(this.toolTimer);
    this.toolTimer = undefined;
    await this.running;
  }

  /**
   * One scan cycle; overlapping ticks are skipped (a slow probe must not pile up scans). `change`:
   * what the caller just read, so the scan does not read it again.
   */
  tick(change?: ScanChange | null): Promise<void> {
    if (this.running) return this.running;
    this.running = this.shared(() => this.runOnce(change)).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * A period's scan, when the last full scan found no running tool and no behaviour finding and the
   * fallback period has not come round:
   * - nothing changed: skipped (the hardware check still runs); a full scan would reconcile the same
   *   findings, and only the last-seen time of an installed-tool finding waits for the next one;
   * - only processes started or exited: the new ones alone are matched and identified, as the full
   *   scan would, and only one that is a tool starts a full scan. Sockets unchanged, no new process
   *   can have made a behaviour finding: those come from listening sockets and inbound connections.
   * Otherwise it scans in full.
   */
  scheduledTick(): Promise<void> {
    if (this.running) return this.running;
    // The digests and the scan they may start read the same /proc/net/tcp{,6} once.
    return this.shared(() => this.scheduledTickShared());
  }

  private shared(work: () => Promise<void>): Promise<void> {
    return this.probes.shareReads ? this.probes.shareReads(work) : work();
  }

  private scheduledTickShared(): Promise<void> {
    if (this.running) return this.running;
    const change = this.probes.readScanChange?.() ?? null;
    const last = this.lastScanChange;
    // Only installed-but-not-running tools may stand: nothing whose sessions or sockets move on their own.
    const nothingRunning =
      this.lastToolScan !== undefined &&
      this.lastToolScan.tools.every((tool) => tool.processes.length === 0) &&
      (this.lastBehaviourScan?.observations.length ?? 0) === 0;
    const listProcessesOf = this.probes.listProcessesOf;
    const gated =
      change !== null &&
      last !== null &&
      nothingRunning &&
      this.unchangedSkips < FULL_SCAN_EVERY - 1 &&
      change.sockets === last.sockets &&
      (change.processes === last.processes || listProcessesOf !== undefined);
    if (!gated) {
      this.unchangedSkips = 0;
      return this.tick(change);
    }
    this.running = (async () => {
      if (change.processes === last.processes) {
        this.skippedScans++;
      } else if (await this.anyNewTool(last, change, listProcessesOf!)) {
        this.unchangedSkips = 0;
        await this.runOnce(change);
        return;
      } else {
        this.newProcessChecks++;
        this.lastScanChange = change;
      }
      this.unchangedSkips++;
      await this.runHardwareCheck();
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Whether a process started since `last` is a catalog tool, by name or by binary identity. */
  private async anyNewTool(last: ScanChange, change: ScanChange, listProcessesOf: (pids: readonly number[]) => Promise<ProcessInfo[]>): Promise<boolean> {
    const known = new Set(last.pids);
    const started = change.pids.filter((pid) => !known.has(pid));
    if (started.length === 0) return false;
    try {
      for (const process of await listProcessesOf(started)) {
        if (await toolOf(process, this.matcher, this.probes)) return true;
      }
      return false;
    } catch (error) {
      // Unsure is a full scan, never a skip.
      this.ctx.logger.log('warn', 'new-process check failed; scanning in full', { error: error instanceof Error ? error.message : String(error) });
      return true;
    }
  }

  /** Protocol probes of listening sockets and forwarder attribution, after the tool scan it dedupes against. */
  private async runBehaviourScan(otherFindings: readonly FindingObservation[]): Promise<void> {
    const probes = this.probes.behaviour;
    const toolScan = this.lastToolScan;
    if (!probes || !toolScan) return;
    const alreadyReported = reportedByToolScan(toolScan.tools);
    for (const key of reportedByObservations(otherFindings)) alreadyReported.add(key);
    try {
      this.lastBehaviourScan = await scanBehaviour({ probes, prober: this.prober, processes: toolScan.processes, matcher: this.matcher, alreadyReported });
      const observations = this.lastBehaviourScan.observations;
      storageHealth(this.ctx).write('storing behaviour findings', () => reconcileFindings(this.ctx.db, BEHAVIOUR_SOURCE, observations, this.ctx.clock.now(), this.ctx.events));
    } catch (error) {
      this.ctx.logger.log('warn', 'behaviour scan failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * Tool scan, then the hardware probe if it is due or the hardware changed. `change`: the digests
   * read just before (a scheduled scan's), else they are read here; they read /proc/net/tcp{,6},
   * which costs the kernel a walk of its socket tables.
   */
  async runOnce(change?: ScanChange | null): Promise<void> {
    const now = () => this.ctx.clock.now();
    // Read before the scan, so a change while it runs shows at the next period.
    this.lastScanChange = change !== undefined ? change : (this.probes.readScanChange?.() ?? null);
    try {
      this.lastToolScan = await scanTools({
        matcher: this.matcher,
        probes: this.probes,
        approvedTools: this.ctx.policy.approvedTools,
        platform: this.platform,
      });
      const observations = this.lastToolScan.observations;
      // A refused write is logged once by the storage health; the next scan writes the findings.
      storageHealth(this.ctx).write('storing tool findings', () => reconcileFindings(this.ctx.db, TOOL_SOURCE, observations, now(), this.ctx.events));
    } catch (error) {
      this.ctx.logger.log('warn', 'tool scan failed', { error: error instanceof Error ? error.message : String(error) });
    }
    // The RDP host first: the behaviour scan skips the sockets it already reported.
    let rdpHost: FindingObservation[] = [];
    if (this.probes.readRdpHost) {
      try {
        const observations = rdpHostObservations(await this.probes.readRdpHost());
        rdpHost = observations;
        storageHealth(this.ctx).write('storing RDP host findings', () => reconcileFindings(this.ctx.db, RDP_HOST_SOURCE, observations, now(), this.ctx.events));
      } catch (error) {
        this.ctx.logger.log('warn', 'RDP host scan failed', { error: error instanceof Error ? error.message : String(error) });
      }
    }
    await this.runBehaviourScan(rdpHost);
    await this.runHardwareCheck();
  }

  /** The hardware probe, if it is due or the hardware change token moved. */
  private async runHardwareCheck(): Promise<void> {
    const now = () => this.ctx.clock.now();
    const token = this.probes.hardwareToken();
    const periodMs = Math.max(60, this.ctx.policy.intervals.hardwareScanSeconds) * 1000;
    const due = now() - this.lastHardwareScan >= periodMs;
    if (!due && token === this.lastHardwareToken) return;
    this.lastHardwareToken = token;
    this.lastHardwareScan = now();
    try {
      const snapshot = await this.probes.readHardware();
      // Never fail silently: an X session whose screens cannot be read hides virtual displays.
      if (snapshot.xDisplay && !snapshot.xOutputs && !this.loggedNoXScreen) {
        this.loggedNoXScreen = true;
        this.ctx.logger.log('warn', 'X screen probe unavailable: virtual-display detection for this X session is off', { display: snapshot.xDisplay, tried: 'xrandr, then the X protocol (RandR)' });
      }
      const observations = evaluateHardware(snapshot);
      storageHealth(this.ctx).write('storing hardware findings', () => {
        reconcileFindings(this.ctx.db, EDID_SOURCE, observations.edid, now(), this.ctx.events);
        reconcileFindings(this.ctx.db, USB_SOURCE, observations.usb, now(), this.ctx.events);
        reconcileFindings(this.ctx.db, DISPLAY_SOURCE, observations.display, now(), this.ctx.events);
      });
    } catch (error) {
      this.ctx.logger.log('warn', 'hardware scan failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
