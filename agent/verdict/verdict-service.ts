/**
 * VerdictService: keeps one 'device-verdict' finding (`verdict:device`) in step with every other
 * open finding. Recomputed whenever findings change; the finding is closed when the level is none.
 */
import type { FindingObservation, Severity } from '../../common/findings';
import type { AgentContext, AgentService } from '../context';
import { listOpenFindings, reconcileFindings } from '../store/findings';
import { storageHealth } from '../store/storage-health';
import type { VerdictLevel } from '../../common/verdict';
import { deviceVerdict, type Verdict } from './verdict';

export const VERDICT_SOURCE = 'verdict';
export const VERDICT_KEY = `${VERDICT_SOURCE}:device`;

const SEVERITY: Readonly<Record<Exclude<VerdictLevel, 'none'>, Severity>> = { low: 'low', medium: 'medium', high: 'high' };

/** The finding a verdict becomes, or null for level none. */
export function verdictObservation(verdict: Verdict): FindingObservation | null {
  if (verdict.level === 'none') return null;
  return {
    key: VERDICT_KEY,
    kind: 'device-verdict',
    severity: SEVERITY[verdict.level],
    title: `Overall risk of remote control: ${verdict.level}`,
    explanation: `Based on ${verdict.reason}. Evidence: ${verdict.chain.join('; ')}.`,
    evidence: { ...verdict },
  };
}

export class VerdictService implements AgentService {
  readonly name = 'verdict';
  private unsubscribe: (() => void) | null = null;
  private updating = false;
  /** The latest verdict, for the transparency view and tests. */
  current: Verdict = deviceVerdict([]);

  constructor(private readonly ctx: AgentContext) {}

  start(): void {
    this.unsubscribe = this.ctx.events.on('findingsChanged', () => this.update());
    this.update();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Recompute from the open findings and reconcile the verdict finding. */
  update(): void {
    // Our own reconcile emits findingsChanged; the recursion would reach the same verdict anyway.
    if (this.updating) return;
    this.updating = true;
    try {
      const findings = listOpenFindings(this.ctx.db).filter((f) => !f.key.startsWith(`${VERDICT_SOURCE}:`));
      this.current = deviceVerdict(findings);
      const observation = verdictObservation(this.current);
      // Refused by the disk: the next change of findings recomputes and writes it.
      storageHealth(this.ctx).write('storing the device verdict', () =>
        reconcileFindings(this.ctx.db, VERDICT_SOURCE, observation ? [observation] : [], this.ctx.clock.now(), this.ctx.events),
      );
    } finally {
      this.updating = false;
    }
  }
}
