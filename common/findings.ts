/**
 * Findings: what a detector concluded, with its evidence. The one schema of a finding's shape,
 * from a detector's observation to the stored row, the report, the collector and both views.
 *
 * A finding is deduplicated by `key` across scans: the same condition seen again updates
 * `lastSeenAt`; a condition that ends closes its finding.
 */
import { Type, type Static } from '@sinclair/typebox';

export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export const SeveritySchema = Type.Union(SEVERITIES.map((severity) => Type.Literal(severity)));
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, medium: 2, high: 3 };

/** A device's risk: the highest severity among its open findings, 'none' without any. */
export const RISK_LEVELS = ['none', ...SEVERITIES] as const;
export const RiskLevelSchema = Type.Union(RISK_LEVELS.map((level) => Type.Literal(level)));
export type RiskLevel = (typeof RISK_LEVELS)[number];
export const RISK_RANK: Readonly<Record<RiskLevel, number>> = { none: -1, ...SEVERITY_RANK };

/** Kinds an agent's detectors report. */
export const AGENT_FINDING_KINDS = [
  'remote-tool-installed',
  'remote-tool-running',
  'remote-tool-listening',
  'remote-session-active',
  'approved-tool',
  'kvm-usb-gadget',
  'kvm-edid',
  'virtual-display',
  'display-no-edid',
  'display-topology',
  'relayed-input-timing',
  'injected-input',
  'device-verdict',
] as const;
/** Kinds only the collector opens (a report claiming one is refused). */
export const COLLECTOR_FINDING_KINDS = ['chain-gap', 'device-silent', 'possible-laptop-farm', 'unexpected-egress'] as const;

export const FindingKindSchema = Type.Union(AGENT_FINDING_KINDS.map((kind) => Type.Literal(kind)));
export type FindingKind = (typeof AGENT_FINDING_KINDS)[number];
export type CollectorFindingKind = (typeof COLLECTOR_FINDING_KINDS)[number];
export const AnyFindingKindSchema = Type.Union([...AGENT_FINDING_KINDS, ...COLLECTOR_FINDING_KINDS].map((kind) => Type.Literal(kind)));
export type AnyFindingKind = FindingKind | CollectorFindingKind;

/** JSON-safe evidence: plain values only, so it can be stored, signed and shown as-is. */
export type EvidenceValue = string | number | boolean | null | readonly EvidenceValue[] | { readonly [key: string]: EvidenceValue };
export type Evidence = { readonly [key: string]: EvidenceValue };
/** Evidence on the wire: a record of JSON values, its size held by the report's byte limit and its shape by evidenceProblem. */
export const EvidenceSchema = Type.Unsafe<Evidence>(Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), { maxProperties: 64 }));

/** Deepest nesting of arrays and objects evidence may have (the record itself is level 1). */
export const MAX_EVIDENCE_DEPTH = 16;

/**
 * What makes `evidence` unfit to store and sign, or null. A schema cannot bound the depth of an
 * open record, and a parsed JSON number can be infinite (`1e400`): both are refused with the path.
 */
export function evidenceProblem(evidence: unknown, path = 'evidence'): string | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: evidence, path, depth: 1 }];
  while (stack.length > 0) {
    const { value, path: at, depth } = stack.pop()!;
    if (typeof value === 'number' && !Number.isFinite(value)) return `${at} is not a finite number`;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_EVIDENCE_DEPTH) return `${at} nests deeper than ${MAX_EVIDENCE_DEPTH} levels`;
    for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: `${at}/${key}`, depth: depth + 1 });
  }
  return null;
}

/** Epoch milliseconds within what a JavaScript number holds exactly. */
export const EpochMsSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const observationFields = {
  /** Stable dedup key, e.g. `remote-session-active:x11vnc:127.0.0.1:5900`. */
  key: Type.String({ minLength: 1, maxLength: 512 }),
  kind: FindingKindSchema,
  severity: SeveritySchema,
  /** Short plain-language title. */
  title: Type.String({ maxLength: 512 }),
  /** One or two sentences a non-technical reader understands. */
  explanation: Type.String({ maxLength: 4096 }),
  evidence: EvidenceSchema,
};

const lifetimeFields = {
  firstSeenAt: EpochMsSchema,
  lastSeenAt: EpochMsSchema,
  /** Null while the condition holds. */
  closedAt: Type.Union([EpochMsSchema, Type.Null()]),
};

/** What a detector emits on each scan. */
export const FindingObservationSchema = Type.Object(observationFields, { additionalProperties: false });
export type FindingObservation = Static<typeof FindingObservationSchema>;

/** A finding as a report carries it: the observation and its lifetime (wall-clock epoch ms). */
export const ReportFindingSchema = Type.Object({ ...observationFields, ...lifetimeFields }, { additionalProperties: false });
export type ReportFinding = Static<typeof ReportFindingSchema>;

/** A finding stored on the device, with its row id: what the transparency view shows. */
export const FindingSchema = Type.Object({ id: Type.Integer({ minimum: 1 }), ...observationFields, ...lifetimeFields }, { additionalProperties: false });
export type Finding = Static<typeof FindingSchema>;
