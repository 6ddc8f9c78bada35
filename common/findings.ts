/**
 * Findings: what a detector concluded, with its evidence.
 *
 * A finding is deduplicated by `key` across scans: the same condition seen again updates
 * `lastSeenAt`; a condition that ends closes its finding.
 */

export type Severity = 'info' | 'low' | 'medium' | 'high';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, medium: 2, high: 3 };

export type FindingKind =
  | 'remote-tool-installed'
  | 'remote-tool-running'
  | 'remote-tool-listening'
  | 'remote-session-active'
  | 'approved-tool'
  | 'kvm-usb-gadget'
  | 'kvm-edid'
  | 'virtual-display'
  | 'display-no-edid'
  | 'display-topology'
  | 'relayed-input-timing'
  | 'device-verdict';

/** JSON-safe evidence: plain values only, so it can be stored, signed and shown as-is. */
export type Evidence = { readonly [key: string]: EvidenceValue };
export type EvidenceValue = string | number | boolean | null | readonly EvidenceValue[] | { readonly [key: string]: EvidenceValue };

/** What a detector emits on each scan. */
export interface FindingObservation {
  /** Stable dedup key, e.g. `remote-session-active:x11vnc:127.0.0.1:5900`. */
  readonly key: string;
  readonly kind: FindingKind;
  readonly severity: Severity;
  /** Short plain-language title. */
  readonly title: string;
  /** One or two sentences a non-technical reader understands. */
  readonly explanation: string;
  readonly evidence: Evidence;
}

/** A stored finding. Times are wall-clock epoch ms. */
export interface Finding extends FindingObservation {
  readonly id: number;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  /** Null while the condition holds. */
  readonly closedAt: number | null;
}
