/**
 * The location service: probes the network location at start and every `policy.location.probeSeconds`,
 * hashes it at once, and keeps only the latest block for the report builder. Without a fleet key in
 * the policy it probes nothing. Raw identifiers never leave `probeLocation`/`toLocationBlock`; the
 * log gets counts and reasons only.
 */
import type { LocationBlock } from '../../common/location';
import type { AgentContext, AgentService } from '../context';
import { toLocationBlock } from './fingerprint';
import { probeLocation, systemLocationSeams, type LocationSeams } from './probe';

export class LocationService implements AgentService {
  readonly name = 'location';
  private timer: NodeJS.Timeout | null = null;
  private latest: LocationBlock | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly ctx: AgentContext,
    private readonly seams: LocationSeams = systemLocationSeams,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  /** Called after a probe whose hashes or tunnel state differ from the previous block's (the first probe included). */
  onDidChange: (() => void) | null = null;

  start(): void {
    if (this.ctx.policy.location.fleetKey === null) return;
    void this.probeNow();
    this.timer = setInterval(() => void this.probeNow(), this.ctx.policy.location.probeSeconds * 1000);
    this.timer.unref();
  }

  stop(): Promise<void> | void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.running ?? undefined;
  }

  /** The latest location block, or undefined before the first probe or without a fleet key. */
  current(): LocationBlock | undefined {
    return this.latest;
  }

  /** Probe now (one at a time); resolves when the block is updated. */
  probeNow(): Promise<void> {
    const fleetKey = this.ctx.policy.location.fleetKey;
    if (fleetKey === null) return Promise.resolve();
    this.running ??= (async () => {
      try {
        const raw = await probeLocation(this.platform, this.seams);
        const previous = this.latest;
        this.latest = toLocationBlock(raw, fleetKey, new Date(this.ctx.clock.now()), Intl.DateTimeFormat().resolvedOptions().timeZone);
        this.ctx.logger.log('debug', 'Location probed', {
          gateway: this.latest.gatewayHash !== undefined,
          wifi: this.latest.bssidHash !== undefined,
          tunnel: this.latest.defaultRouteTunnel,
          unavailable: this.latest.unavailable.length,
        });
        if (previous === undefined || signature(previous) !== signature(this.latest)) this.onDidChange?.();
      } catch (error) {
        this.ctx.logger.log('warn', 'Location probe failed', { error: error instanceof Error ? error.message : String(error) });
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}

/** What makes two blocks the same place for the collector (the offset and reasons aside). */
function signature(block: LocationBlock): string {
  return [block.gatewayHash, block.bssidHash, block.ssidHash, block.subnetHash, block.defaultRouteTunnel, block.interfaceKind].join('|');
}
