/**
 * Findings as OCSF Detection Finding events (class_uid 2004, category Findings, OCSF 1.3.0), for
 * SIEMs that ingest OCSF. Our own evidence goes into `evidences[].data`; fields OCSF has no place
 * for (finding kind and key, source, report seq) go into `unmapped`.
 */
import type { AnyFindingKind } from '../common/findings';
import type { FleetFinding } from './schemas';

export const OCSF_VERSION = '1.3.0';
const CLASS_UID = 2004;
const CATEGORY_UID = 2;

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High; 0 Unknown for anything else. */
const SEVERITY_IDS: Readonly<Record<string, { id: number; name: string }>> = {
  info: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
};

/** OCSF confidence_id: 3 High for conditions the detector observed directly, 2 Medium for inferences from patterns. */
const CONFIDENCE: Readonly<Record<AnyFindingKind, { id: number; name: string }>> = {
  'remote-tool-installed': { id: 3, name: 'High' },
  'remote-tool-running': { id: 3, name: 'High' },
  'remote-tool-listening': { id: 3, name: 'High' },
  'remote-session-active': { id: 3, name: 'High' },
  'approved-tool': { id: 3, name: 'High' },
  'kvm-usb-gadget': { id: 3, name: 'High' },
  'kvm-edid': { id: 3, name: 'High' },
  'virtual-display': { id: 3, name: 'High' },
  'display-no-edid': { id: 3, name: 'High' },
  'display-topology': { id: 3, name: 'High' },
  'relayed-input-timing': { id: 2, name: 'Medium' },
  'injected-input': { id: 2, name: 'Medium' },
  'device-verdict': { id: 2, name: 'Medium' },
  'chain-gap': { id: 3, name: 'High' },
  'device-silent': { id: 3, name: 'High' },
  'possible-laptop-farm': { id: 2, name: 'Medium' },
  'unexpected-egress': { id: 2, name: 'Medium' },
};

/** What IT did about a finding, for status_detail. */
export interface OcsfTriage {
  readonly status: 'acknowledged' | 'resolved';
  readonly assignee: string | null;
  readonly reason: string | null;
  readonly updatedBy: string;
}

/** Which state change a pushed event reports (SIEM push); pull exports derive it from the row. */
export type OcsfActivity = 'create' | 'update' | 'close';

/** OCSF metadata.log_name of every event. */
export const OCSF_LOG_NAME = 'telltale-findings';

export interface OcsfDetectionFinding {
  readonly class_uid: number;
  readonly class_name: string;
  readonly category_uid: number;
  readonly category_name: string;
  readonly activity_id: number;
  readonly activity_name: string;
  readonly type_uid: number;
  readonly time: number;
  readonly severity_id: number;
  readonly severity: string;
  readonly status_id: number;
  readonly status: string;
  readonly status_detail: string;
  readonly confidence_id: number;
  readonly confidence: string;
  /** Minutes east of UTC of `time`: epoch times are UTC. */
  readonly timezone_offset: number;
  readonly message: string;
  readonly finding_info: {
    readonly uid: string;
    readonly title: string;
    readonly desc: string;
    readonly types: readonly string[];
    readonly analytic: { readonly name: string; readonly uid: string; readonly type_id: number; readonly type: string };
    readonly created_time: number;
    readonly first_seen_time: number;
    readonly last_seen_time: number;
    readonly modified_time: number;
  };
  readonly metadata: {
    readonly version: string;
    readonly product: { readonly name: string; readonly vendor_name: string; readonly version: string };
    readonly uid: string;
    readonly log_name: string;
    /** When the condition was last seen, as the device's report says (ISO 8601, UTC). */
    readonly original_time: string;
  };
  readonly device: { readonly uid: string; readonly hostname: string; readonly type_id: number };
  readonly observables: readonly { readonly name: string; readonly type_id: number; readonly type: string; readonly value: string }[];
  readonly evidences: readonly { readonly data: Record<string, unknown> }[];
  readonly unmapped: Record<string, unknown>;
}

/**
 * One finding (its latest state) as an OCSF Detection Finding. `activity` is given by the SIEM push,
 * which knows which change it reports; pull exports derive it from the row.
 */
export function toOcsf(finding: FleetFinding, hostname: string, productVersion: string, triage: OcsfTriage | null = null, activity?: OcsfActivity): OcsfDetectionFinding {
  const severity = SEVERITY_IDS[finding.severity] ?? { id: 0, name: 'Unknown' };
  const closed = finding.closedAt !== null;
  // Close once closed; Create while the stored finding has never changed; otherwise Update.
  const derived: OcsfActivity = closed ? 'close' : finding.updatedAt === finding.createdAt ? 'create' : 'update';
  const activityId = { create: 1, update: 2, close: 3 }[activity ?? derived];
  const activityName = { 1: 'Create', 2: 'Update', 3: 'Close' }[activityId] ?? 'Unknown';
  // OCSF status: 1 New, 2 In Progress (IT acknowledged), 4 Resolved (closed on the device or by IT).
  const status = closed || triage?.status === 'resolved' ? { id: 4, name: 'Resolved' } : triage ? { id: 2, name: 'In Progress' } : { id: 1, name: 'New' };
  const confidence = CONFIDENCE[finding.kind] ?? { id: 0, name: 'Unknown' };
  const uid = `${finding.deviceId}:${finding.key}:${finding.firstSeenAt}`;
  return {
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    activity_id: activityId,
    activity_name: activityName,
    type_uid: CLASS_UID * 100 + activityId,
    time: finding.updatedAt,
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    status_detail: statusDetail(finding, triage),
    confidence_id: confidence.id,
    confidence: confidence.name,
    timezone_offset: 0,
    message: finding.title,
    finding_info: {
      uid,
      title: finding.title,
      desc: finding.explanation,
      types: [finding.kind],
      analytic: { name: finding.kind, uid: finding.kind, type_id: 1, type: 'Rule' },
      created_time: finding.firstSeenAt,
      first_seen_time: finding.firstSeenAt,
      last_seen_time: finding.lastSeenAt,
      modified_time: finding.updatedAt,
    },
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'Telltale', vendor_name: 'Telltale', version: productVersion },
      uid: `${uid}:${finding.cursor}`,
      log_name: OCSF_LOG_NAME,
      original_time: new Date(finding.lastSeenAt).toISOString(),
    },
    device: { uid: finding.deviceId, hostname, type_id: 3 },
    // OCSF observable type_id 1 Hostname, 10 Resource UID.
    observables: [
      { name: 'device.hostname', type_id: 1, type: 'Hostname', value: hostname },
      { name: 'device.uid', type_id: 10, type: 'Resource UID', value: finding.deviceId },
    ],
    evidences: [{ data: finding.evidence }],
    unmapped: { telltale: { kind: finding.kind, key: finding.key, source: finding.source, reportSeq: finding.reportSeq, cursor: finding.cursor, closedAt: finding.closedAt } },
  };
}

function statusDetail(finding: FleetFinding, triage: OcsfTriage | null): string {
  const origin = finding.source === 'collector' ? 'the collector' : 'the device';
  const state = finding.closedAt === null ? `Open: reported by ${origin}` : `Closed: the condition ended (${origin})`;
  if (triage === null) return state;
  if (triage.status === 'resolved') return `${state}; resolved by ${triage.updatedBy}: ${triage.reason ?? ''}`.trim();
  return `${state}; acknowledged by ${triage.updatedBy}${triage.assignee === null ? '' : `, assigned to ${triage.assignee}`}`;
}
