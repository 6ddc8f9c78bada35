/**
 * Findings as OCSF Detection Finding events (class_uid 2004, category Findings, OCSF 1.3.0), for
 * SIEMs that ingest OCSF. Our own evidence goes into `evidences[].data`; fields OCSF has no place
 * for (finding kind and key, source, report seq) go into `unmapped`.
 */
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
  readonly message: string;
  readonly finding_info: {
    readonly uid: string;
    readonly title: string;
    readonly desc: string;
    readonly types: readonly string[];
    readonly created_time: number;
    readonly first_seen_time: number;
    readonly last_seen_time: number;
    readonly modified_time: number;
  };
  readonly metadata: { readonly version: string; readonly product: { readonly name: string; readonly vendor_name: string; readonly version: string }; readonly uid: string };
  readonly device: { readonly uid: string; readonly hostname: string; readonly type_id: number };
  readonly evidences: readonly { readonly data: Record<string, unknown> }[];
  readonly unmapped: Record<string, unknown>;
}

/** One finding (its latest state) as an OCSF Detection Finding. */
export function toOcsf(finding: FleetFinding, hostname: string, productVersion: string): OcsfDetectionFinding {
  const severity = SEVERITY_IDS[finding.severity] ?? { id: 0, name: 'Unknown' };
  const closed = finding.closedAt !== null;
  // Close once closed; Create while the stored finding has never changed; otherwise Update.
  const activity = closed
    ? { id: 3, name: 'Close' }
    : finding.updatedAt === finding.createdAt
      ? { id: 1, name: 'Create' }
      : { id: 2, name: 'Update' };
  const uid = `${finding.deviceId}:${finding.key}:${finding.firstSeenAt}`;
  return {
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: CLASS_UID * 100 + activity.id,
    time: finding.updatedAt,
    severity_id: severity.id,
    severity: severity.name,
    status_id: closed ? 4 : 1,
    status: closed ? 'Resolved' : 'New',
    message: finding.title,
    finding_info: {
      uid,
      title: finding.title,
      desc: finding.explanation,
      types: [finding.kind],
      created_time: finding.firstSeenAt,
      first_seen_time: finding.firstSeenAt,
      last_seen_time: finding.lastSeenAt,
      modified_time: finding.updatedAt,
    },
    metadata: { version: OCSF_VERSION, product: { name: 'Telltale', vendor_name: 'Telltale', version: productVersion }, uid: `${uid}:${finding.cursor}` },
    device: { uid: finding.deviceId, hostname, type_id: 3 },
    evidences: [{ data: finding.evidence }],
    unmapped: { telltale: { kind: finding.kind, key: finding.key, source: finding.source, reportSeq: finding.reportSeq, cursor: finding.cursor, closedAt: finding.closedAt } },
  };
}
