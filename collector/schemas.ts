/**
 * TypeBox schemas of the IT API's responses (the agent-facing wire shapes live in common/report.ts).
 * Used as Fastify response schemas (serialization) and as the types route handlers return.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AnyFindingKindSchema, EvidenceSchema, ReportFindingSchema, RiskLevelSchema, SeveritySchema } from '../common/findings';

const Nullable = <T extends ReturnType<typeof Type.Integer>>(schema: T) => Type.Union([schema, Type.Null()]);

export const DeviceViewSchema = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  platform: Type.String(),
  agentVersion: Type.String(),
  enrolledAt: Type.Integer(),
  lastSeenAt: Type.Integer(),
  headSeq: Type.Integer(),
  /** Max severity of open findings, 'none' without any. */
  risk: RiskLevelSchema,
  /** A device-silent finding is open. */
  silent: Type.Boolean(),
  openFindings: Type.Integer(),
  /** When IT retired the device (kept, out of the default list and the incident queue); null while active. */
  retiredAt: Type.Union([Type.Integer(), Type.Null()]),
  /** IT's tags (groups, owners such as `user:alice`). */
  tags: Type.Array(Type.String()),
});
export type DeviceView = Static<typeof DeviceViewSchema>;

export const DeviceListSchema = Type.Object({
  devices: Type.Array(DeviceViewSchema),
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  serverTime: Type.Integer(),
});

/** A device tag: what IT groups devices by (`site:lisbon`, `user:alice`). */
export const TagSchema = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$' });

/** A note IT wrote on a device or one of its findings. */
export const NoteViewSchema = Type.Object({ id: Type.Integer(), deviceId: Type.String(), findingId: Type.Union([Type.Integer(), Type.Null()]), at: Type.Integer(), author: Type.String(), text: Type.String() });
/** A suppression of a finding kind for a device or a tag, until a time. */
export const SuppressionViewSchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  tag: Type.Union([Type.String(), Type.Null()]),
  untilAt: Type.Integer(),
  reason: Type.String(),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
  liftedAt: Type.Union([Type.Integer(), Type.Null()]),
});
/** GET /v1/fleet/summary: active devices per shown risk, silent and retired counts. */
export const FleetSummarySchema = Type.Object({
  total: Type.Integer(),
  byRisk: Type.Record(Type.String(), Type.Integer()),
  silent: Type.Integer(),
  retired: Type.Integer(),
  serverTime: Type.Integer(),
});

/** A finding as IT sees it across the fleet: the reported finding with where it came from and when the collector stored it. */
export const FleetFindingSchema = Type.Object({
  /** The collector's id of the finding: what the triage routes take. */
  id: Type.Integer(),
  /** Global change cursor: stream consumers resume after the largest one they saw. */
  cursor: Type.Integer(),
  deviceId: Type.String(),
  /** 'agent' for findings a device reported, 'collector' for chain-gap and device-silent. */
  source: Type.Union([Type.Literal('agent'), Type.Literal('collector')]),
  // The finding's own fields as a report carries them, with the collector's kinds allowed too.
  key: ReportFindingSchema.properties.key,
  kind: AnyFindingKindSchema,
  severity: SeveritySchema,
  title: ReportFindingSchema.properties.title,
  explanation: ReportFindingSchema.properties.explanation,
  evidence: EvidenceSchema,
  firstSeenAt: ReportFindingSchema.properties.firstSeenAt,
  lastSeenAt: ReportFindingSchema.properties.lastSeenAt,
  closedAt: ReportFindingSchema.properties.closedAt,
  reportSeq: Nullable(Type.Integer()),
  /** Collector clock when the finding was first stored and when it last changed. */
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});
export type FleetFinding = Static<typeof FleetFindingSchema>;

export const FindingListSchema = Type.Object({
  findings: Type.Array(FleetFindingSchema),
  /** Pass as `before` for the next (older) page; null on the last one. */
  nextBefore: Type.Union([Type.Integer(), Type.Null()]),
});

/** IT's triage state of a finding; null while new. */
export const TriageStateSchema = Type.Union([
  Type.Object({
    status: Type.Union([Type.Literal('acknowledged'), Type.Literal('resolved')]),
    assignee: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    updatedAt: Type.Integer(),
    updatedBy: Type.String(),
  }),
  Type.Null(),
]);

/** An incident: an open finding with its device's name and IT's triage state. */
export const IncidentSchema = Type.Object({
  finding: FleetFindingSchema,
  hostname: Type.String(),
  triage: TriageStateSchema,
  /** An unexpired suppression covers it (listed only with triage=all). */
  suppressed: Type.Boolean(),
});
export type Incident = Static<typeof IncidentSchema>;

export const IncidentListSchema = Type.Object({
  incidents: Type.Array(IncidentSchema),
  nextBefore: Type.Union([Type.Integer(), Type.Null()]),
  serverTime: Type.Integer(),
});

export const ReportSummarySchema = Type.Object({
  seq: Type.Integer(),
  kind: Type.String(),
  hash: Type.String(),
  prevHash: Type.String(),
  createdAt: Type.Integer(),
  receivedAt: Type.Integer(),
  bytes: Type.Integer(),
});

export const ReportListSchema = Type.Object({
  reports: Type.Array(ReportSummarySchema),
  gaps: Type.Array(
    Type.Object({ fromSeq: Type.Integer(), toSeq: Type.Integer(), detectedAt: Type.Integer(), closedAt: Nullable(Type.Integer()) }),
  ),
});

/** A stored signed report with its verification re-done on read. */
export const StoredReportSchema = Type.Object({
  deviceId: Type.String(),
  seq: Type.Integer(),
  receivedAt: Type.Integer(),
  /** The canonical JSON exactly as signed and stored, byte for byte. */
  canonicalBody: Type.String(),
  sig: Type.String(),
  hash: Type.String(),
  verification: Type.Object({
    /** Ed25519 signature re-checked now against the enrolled key. */
    signatureValid: Type.Boolean(),
    /** sha256(canonicalBody) equals the stored hash. */
    hashMatches: Type.Boolean(),
    /** 'linked': prevHash equals the stored previous report's hash (or GENESIS at seq 1); 'missing-previous': that report is not stored; 'broken': it differs. */
    chain: Type.Union([Type.Literal('linked'), Type.Literal('missing-previous'), Type.Literal('broken')]),
  }),
});
export type StoredReport = Static<typeof StoredReportSchema>;

/** The answer to DELETE /v1/devices/:id: the device and how many of its rows went with it. */
export const DeletedDeviceSchema = Type.Object({
  deviceId: Type.String(),
  deleted: Type.Object({ reports: Type.Integer(), findings: Type.Integer(), gaps: Type.Integer() }),
});

/** GET /v1/health: 200 when ok, 503 when degraded, with the reasons. */
export const HealthSchema = Type.Object({
  ok: Type.Boolean(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  reasons: Type.Array(Type.String()),
  queueDepth: Type.Integer(),
  serverTime: Type.Integer(),
});

/** What links devices into a possible farm: a shared router, Wi-Fi access point or internet address. */
export const LINK_KINDS = ['gateway', 'bssid', 'egress-ip'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];
export const LinkKindSchema = Type.Union(LINK_KINDS.map((kind) => Type.Literal(kind)));

/** One open possible-farm cluster (GET /v1/farms). */
export const FarmSchema = Type.Object({
  clusterId: Type.Integer(),
  openedAt: Type.Integer(),
  updatedAt: Type.Integer(),
  deviceCount: Type.Integer(),
  devices: Type.Array(Type.Object({ deviceId: Type.String(), hostname: Type.String() })),
  sharedSignals: Type.Array(Type.Object({ kind: LinkKindSchema, value: Type.String(), deviceIds: Type.Array(Type.String()) })),
});
export type Farm = Static<typeof FarmSchema>;
export const FarmListSchema = Type.Object({ farms: Type.Array(FarmSchema), serverTime: Type.Integer() });

export const DeviceLocationSchema = Type.Object({
  deviceId: Type.String(),
  seenAt: Type.Union([Type.Integer(), Type.Null()]),
  gatewayHash: Type.Union([Type.String(), Type.Null()]),
  bssidHash: Type.Union([Type.String(), Type.Null()]),
  ssidHash: Type.Union([Type.String(), Type.Null()]),
  subnetHash: Type.Union([Type.String(), Type.Null()]),
  timezone: Type.Union([Type.String(), Type.Null()]),
  utcOffsetMinutes: Type.Union([Type.Integer(), Type.Null()]),
  defaultRouteTunnel: Type.Boolean(),
  interfaceKind: Type.Union([Type.String(), Type.Null()]),
  egress: Type.Union([
    Type.Object({
      ip: Type.String(),
      asn: Type.Union([Type.Integer(), Type.Null()]),
      organization: Type.Union([Type.String(), Type.Null()]),
      country: Type.Union([Type.String(), Type.Null()]),
      hostingOrVpn: Type.Boolean(),
    }),
    Type.Null(),
  ]),
  expectedCountry: Type.Union([Type.String(), Type.Null()]),
});
