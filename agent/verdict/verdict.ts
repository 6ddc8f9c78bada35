/**
 * The device verdict: one risk level for the whole device, with the chain of evidence behind it.
 *
 * Each open finding is sorted into a signal class; the level follows from which classes are present
 * together, because independent kinds of evidence corroborate each other far more than repeats of
 * one kind:
 *  - relay input: relayed-looking input timing (the behaviour itself);
 *  - injected input: input produced by a program rather than a keyboard or mouse (the OS's own
 *                 attribution: XTEST device, injected hook flag, posting process). It does not
 *                 depend on network jitter, so with a live channel it makes high even when a
 *                 zero-jitter relay leaves the timing clean;
 *  - session:     an unapproved remote-control tool has a live connection (the channel);
 *  - hardware:    an IP-KVM (USB gadget or KVM EDID): a channel no software scan sees;
 *  - tool:        an unapproved remote-control tool is running or listening;
 *  - display:     virtual display, missing EDID, odd topology (headless / farm setups);
 *  - installed:   a remote-control tool is installed but idle.
 * Levels:
 *  high   = relay or injected input together with a channel (session, hardware or running tool), or a session
 *           with a peer at least FAR_PEER_RTT_MS away together with hardware or display evidence;
 *  medium = relay or injected input alone, a session alone, hardware alone, or a running tool with a display anomaly;
 *  low    = a running/listening or installed tool, or display anomalies, alone;
 *  none   = nothing, or only approved tools.
 * Pure: findings in, verdict out.
 */
import type { Evidence, FindingKind, FindingObservation } from '../../common/findings';
import { assertNever } from '../../common/result';
import type { Verdict, VerdictLevel } from '../../common/verdict';

export type { Verdict } from '../../common/verdict';

export type SignalClass = 'relay-input' | 'injected-input' | 'session' | 'hardware' | 'tool' | 'display' | 'installed' | 'approved';

/** A peer this far away (round trip, ms) is on another continent, not down the hall. */
export const FAR_PEER_RTT_MS = 100;

/** Which class a finding kind belongs to (null: not evidence for the verdict). */
export function signalClassOf(kind: FindingKind): SignalClass | null {
  switch (kind) {
    case 'relayed-input-timing':
      return 'relay-input';
    case 'injected-input':
      return 'injected-input';
    case 'remote-session-active':
      return 'session';
    case 'kvm-usb-gadget':
    case 'kvm-edid':
      return 'hardware';
    case 'remote-tool-running':
    case 'remote-tool-listening':
      return 'tool';
    case 'virtual-display':
    case 'display-no-edid':
    case 'display-topology':
      return 'display';
    case 'remote-tool-installed':
      return 'installed';
    case 'approved-tool':
      return 'approved';
    case 'device-verdict':
      return null;
    default:
      return assertNever(kind, 'finding kind');
  }
}

const CLASS_ORDER: readonly SignalClass[] = ['relay-input', 'injected-input', 'session', 'hardware', 'tool', 'display', 'installed', 'approved'];

function numberField(evidence: Evidence, field: string): number | null {
  const value = evidence[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function stringField(evidence: Evidence, field: string): string | null {
  const value = evidence[field];
  return typeof value === 'string' ? value : null;
}

function isLoopbackAddress(address: string): boolean {
  const host = address.toLowerCase().replace(/^\[|\]$/g, '').replace(/^::ffff:/, '');
  return host === '::1' || /^127\./.test(host);
}

/** One finding as a link in the chain: its title, plus the peer distance for sessions. */
function describe(finding: FindingObservation): string {
  if (finding.kind === 'remote-session-active') {
    const rtt = numberField(finding.evidence, 'rttMs');
    const peer = stringField(finding.evidence, 'peerAddress');
    const tool = stringField(finding.evidence, 'tool') ?? 'A remote-control tool';
    // A loopback peer is this computer: "a peer 0 ms away" would describe it as a distant machine.
    if (peer !== null && isLoopbackAddress(peer)) return `${tool} session from a program on this computer (${peer})`;
    const where = peer ? ` from ${peer}` : '';
    return rtt !== null && rtt >= 1 ? `${tool} session${where}, a peer ${Math.round(rtt)} ms away (round trip)` : `${tool} session${where}`;
  }
  if (finding.kind === 'relayed-input-timing' || finding.kind === 'injected-input') return `${finding.title}: ${finding.explanation}`;
  return finding.title;
}

/** Combine open findings into the device verdict. Findings of kind 'device-verdict' are ignored. */
export function deviceVerdict(findings: readonly FindingObservation[]): Verdict {
  const byClass = new Map<SignalClass, FindingObservation[]>();
  for (const finding of findings) {
    const signal = signalClassOf(finding.kind);
    if (signal === null) continue;
    const list = byClass.get(signal) ?? [];
    list.push(finding);
    byClass.set(signal, list);
  }
  const has = (signal: SignalClass): boolean => (byClass.get(signal)?.length ?? 0) > 0;
  const farSession = (byClass.get('session') ?? []).some((f) => (numberField(f.evidence, 'rttMs') ?? 0) >= FAR_PEER_RTT_MS);

  let level: VerdictLevel;
  let reason: string;
  let used: SignalClass[];
  const behaviour = (['relay-input', 'injected-input'] as const).filter(has);
  if (behaviour.length > 0 && (has('session') || has('hardware') || has('tool'))) {
    level = 'high';
    const channel = (['session', 'hardware', 'tool'] as const).filter(has);
    used = [...behaviour, ...channel, ...(['display'] as const).filter(has)];
    const what = behaviour.length === 2 ? 'input produced by a program, with relayed-looking timing,' : has('injected-input') ? 'input produced by a program' : 'relayed-looking input';
    reason = `${what} while a remote-control channel is present (${channel.join(', ')})`;
  } else if (farSession && (has('hardware') || has('display'))) {
    level = 'high';
    used = (['session', 'hardware', 'display'] as const).filter(has);
    reason = `a remote session from a distant peer (>= ${FAR_PEER_RTT_MS} ms) on a device with ${has('hardware') ? 'KVM hardware' : 'display anomalies'}`;
  } else if (behaviour.length > 0 || has('session') || has('hardware') || (has('tool') && has('display'))) {
    level = 'medium';
    used = (['relay-input', 'injected-input', 'session', 'hardware', 'tool', 'display'] as const).filter(has);
    reason = has('injected-input')
      ? 'input injected by a program, no remote-control channel seen'
      : has('relay-input')
        ? 'relayed-looking input, no remote-control channel seen'
        : has('session')
        ? 'a live remote-control session'
        : has('hardware')
          ? 'IP-KVM hardware attached'
          : 'a running remote-control tool on a device with display anomalies';
  } else if (has('tool') || has('installed') || has('display')) {
    level = 'low';
    used = (['tool', 'installed', 'display'] as const).filter(has);
    reason = 'remote-control software or display anomalies, with no sign of use';
  } else {
    level = 'none';
    used = [];
    reason = has('approved') ? 'only tools your company approves' : 'nothing found';
  }
  const basisFindings = CLASS_ORDER.filter((c) => used.includes(c)).flatMap((c) => byClass.get(c) ?? []);
  return {
    level,
    chain: basisFindings.map(describe),
    basis: basisFindings.map((f) => f.key),
    reason,
  };
}
