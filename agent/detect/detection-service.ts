/**
 * DetectionService: runs the remote-tool scan every policy.intervals.scanSeconds and the hardware
 * probe (displays, USB) at start, on change, and at most every hardwareScanSeconds (minimum 60),
 * reconciling findings of sources `tool`, `edid`, `usb` and `display`.
 *
 * OS seams are injectable through `DetectionProbes` so unit tests can drive it; by default the
 * per-platform modules are used (the chooser throws UNSUPPORTED_PLATFORM elsewhere).
 */
import type { AgentContext, AgentService } from '../context';
import { reconcileFindings } from '../store/findings';
import { loadCatalog, ProcessMatcher, type Catalog, type CatalogOs } from './catalog/catalog';
import { listDrmConnectors, parseXrandrProps, readXrandr } from './displays/linux';
import { DISPLAY_SOURCE, EDID_SOURCE, evaluateHardware, hardwareChangeToken, USB_SOURCE, type HardwareSnapshot } from './hardware-scanner';
import { processListerFor } from './processes/list-processes';
import { readTcpRttLinux } from './rtt/linux';
import { socketListerFor } from './sockets/list-sockets';
import { pathExists, scanTools, TOOL_SOURCE, type ToolScanProbes, type ToolScanResult } from './tool-scanner';
import { listUsbDevicesLinux } from './usb/linux';

export interface DetectionProbes extends ToolScanProbes {
  /** Full hardware snapshot (may spawn xrandr); called at most once a minute or on change. */
  readHardware(): Promise<HardwareSnapshot>;
  /** Cheap change token (a readdir or two), checked on every tool scan. */
  hardwareToken(): string;
}

export interface DetectionOptions {
  readonly platform?: NodeJS.Platform;
  readonly probes?: DetectionProbes;
  readonly catalog?: Catalog;
}

/** The real probes for Linux. Windows/macOS hardware probes are not implemented yet (tool scan is). */
export function defaultProbes(platform: NodeJS.Platform): DetectionProbes {
  const listProcesses = processListerFor(platform);
  const listSockets = socketListerFor(platform);
  const linux = platform === 'linux';
  return {
    listProcesses,
    listSockets,
    ...(linux ? { readRtt: readTcpRttLinux } : {}),
    pathExists,
    async readHardware() {
      if (!linux) return { connectors: [], usbDevices: [] };
      const xDisplay = process.env.DISPLAY;
      const xrandr = await readXrandr(xDisplay);
      return {
        connectors: listDrmConnectors(),
        ...(xrandr !== undefined ? { xOutputs: parseXrandrProps(xrandr) } : {}),
        ...(xDisplay ? { xDisplay } : {}),
        usbDevices: listUsbDevicesLinux(),
      };
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

export class DetectionService implements AgentService {
  readonly name = 'detection';
  private readonly platform: NodeJS.Platform;
  private readonly probes: DetectionProbes;
  private readonly matcher: ProcessMatcher;
  private toolTimer: NodeJS.Timeout | undefined;
  private lastHardwareScan = 0;
  private lastHardwareToken: string | undefined;
  private running: Promise<void> | undefined;
  /** The last tool scan, for the transparency view and benchmarks. */
  lastToolScan: ToolScanResult | undefined;

  constructor(
    private readonly ctx: AgentContext,
    options: DetectionOptions = {},
  ) {
    this.platform = options.platform ?? process.platform;
    this.probes = options.probes ?? defaultProbes(this.platform);
    const os: CatalogOs = this.platform === 'win32' ? 'win32' : this.platform === 'darwin' ? 'darwin' : 'linux';
    this.matcher = new ProcessMatcher(options.catalog ?? loadCatalog(), os);
  }

  start(): void {
    void this.tick();
    this.toolTimer = setInterval(() => void this.tick(), this.ctx.policy.intervals.scanSeconds * 1000);
    this.toolTimer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.toolTimer) clearInterval(this.toolTimer);
    this.toolTimer = undefined;
    await this.running;
  }

  /** One scan cycle; overlapping ticks are skipped (a slow probe must not pile up scans). */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Tool scan, then the hardware probe if it is due or the hardware changed. */
  async runOnce(): Promise<void> {
    const now = () => this.ctx.clock.now();
    try {
      this.lastToolScan = await scanTools({
        matcher: this.matcher,
        probes: this.probes,
        approvedTools: this.ctx.policy.approvedTools,
        platform: this.platform,
      });
      reconcileFindings(this.ctx.db, TOOL_SOURCE, this.lastToolScan.observations, now(), this.ctx.events);
    } catch (error) {
      this.ctx.logger.log('warn', 'tool scan failed', { error: error instanceof Error ? error.message : String(error) });
    }
    const token = this.probes.hardwareToken();
    const periodMs = Math.max(60, this.ctx.policy.intervals.hardwareScanSeconds) * 1000;
    const due = now() - this.lastHardwareScan >= periodMs;
    if (!due && token === this.lastHardwareToken) return;
    this.lastHardwareToken = token;
    this.lastHardwareScan = now();
    try {
      const observations = evaluateHardware(await this.probes.readHardware());
      reconcileFindings(this.ctx.db, EDID_SOURCE, observations.edid, now(), this.ctx.events);
      reconcileFindings(this.ctx.db, USB_SOURCE, observations.usb, now(), this.ctx.events);
      reconcileFindings(this.ctx.db, DISPLAY_SOURCE, observations.display, now(), this.ctx.events);
    } catch (error) {
      this.ctx.logger.log('warn', 'hardware scan failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
