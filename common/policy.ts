/**
 * The policy: the JSON file IT deploys to configure Telltale on a device.
 *
 * Every field is optional; `resolvePolicy` fills defaults. The schema is the single source of truth
 * for validation, for the TypeScript type, and for the README's configuration reference.
 */
import { Type, type Static } from '@sinclair/typebox';

export const ApprovedToolSchema = Type.Object(
  {
    catalogId: Type.Optional(Type.String({ minLength: 1, description: 'Remote-tool catalog id, e.g. "teamviewer".' })),
    signer: Type.Optional(Type.String({ minLength: 1, description: 'Code-signing subject (Windows/macOS).' })),
    path: Type.Optional(Type.String({ minLength: 1, description: 'Absolute executable path.' })),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false, description: 'An approved remote tool: reported as "approved", not as an alarm.' },
);

export const PolicySchema = Type.Object(
  {
    collectorUrl: Type.Optional(
      Type.String({ description: 'Collector base URL. HTTPS, or plain HTTP to loopback only.' }),
    ),
    enrollmentSecret: Type.Optional(Type.String({ minLength: 8, description: 'Shared secret used once to enroll.' })),
    approvedTools: Type.Optional(Type.Array(ApprovedToolSchema, { description: "The company's own remote tools." })),
    allowQuit: Type.Optional(Type.Boolean({ description: 'Whether the tray menu offers Quit.' })),
    injectedInput: Type.Optional(
      Type.Object(
        {
          allowedPrograms: Type.Optional(
            Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
              maxItems: 256,
              description:
                'Programs allowed to inject input (on-screen keyboards, dictation, other accessibility software), by executable name, e.g. "onboard" or "osk.exe": while one runs, injected input opens no finding.',
            }),
          ),
          approvedToolsMayInject: Type.Optional(
            Type.Boolean({
              description: 'Whether injected input is expected while an approved remote tool runs and no unapproved one is seen.',
            }),
          ),
          pointerMotion: Type.Optional(
            Type.Boolean({
              description:
                'Linux/X11: whether injected pointer motion is counted too (XInput2 raw motion). Off, injected pointer input is counted from clicks and wheel notches only; on, every program reading input on the display pays about five times its CPU per pointer update.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    intervals: Type.Optional(
      Type.Object(
        {
          windowSeconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 600, description: 'Timing window length.' })),
          windowKeystrokes: Type.Optional(
            Type.Integer({ minimum: 10, maximum: 1000, description: 'Flush a window early after this many keystrokes.' }),
          ),
          scanSeconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 3600, description: 'Process/socket scan.' })),
          hardwareScanSeconds: Type.Optional(
            Type.Integer({ minimum: 60, maximum: 86400, description: 'Display and USB probe (also run on change).' }),
          ),
          reportSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86400, description: 'Report period.' })),
          heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86400, description: 'Heartbeat period.' })),
        },
        { additionalProperties: false },
      ),
    ),
    retention: Type.Optional(
      Type.Object(
        {
          maxDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'Delete local data older than this.' })),
          maxMegabytes: Type.Optional(Type.Number({ minimum: 1, maximum: 10000, description: 'Cap on the database file.' })),
        },
        { additionalProperties: false },
      ),
    ),
    support: Type.Optional(
      Type.Object(
        {
          contact: Type.Optional(
            Type.String({ minLength: 1, maxLength: 200, description: 'How the employee reaches IT about a finding, e.g. "helpdesk@example.com, ext. 4242".' }),
          ),
          advice: Type.Optional(
            Type.String({ minLength: 1, maxLength: 500, description: 'One sentence IT wants a flagged employee to read first.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    outbox: Type.Optional(
      Type.Object(
        {
          maxReports: Type.Optional(
            Type.Integer({ minimum: 10, maximum: 1000000, description: 'Undelivered reports kept when offline.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    location: Type.Optional(
      Type.Object(
        {
          fleetKey: Type.Optional(
            Type.String({
              minLength: 32,
              maxLength: 256,
              description:
                'Secret key (at least 32 characters, the same on every laptop of the fleet) for the location fingerprints: ' +
                'gateway, Wi-Fi and subnet identities are sent only as HMAC-SHA-256 under it. Without it no location block is sent.',
            }),
          ),
          probeSeconds: Type.Optional(Type.Integer({ minimum: 30, maximum: 86400, description: 'How often the network location is probed.' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Policy = Static<typeof PolicySchema>;
export type ApprovedTool = Static<typeof ApprovedToolSchema>;

/** A policy with every default filled in. */
export interface ResolvedPolicy {
  readonly collectorUrl: string | null;
  readonly enrollmentSecret: string | null;
  readonly approvedTools: readonly ApprovedTool[];
  readonly allowQuit: boolean;
  readonly injectedInput: { readonly allowedPrograms: readonly string[]; readonly approvedToolsMayInject: boolean; readonly pointerMotion: boolean };
  readonly intervals: {
    readonly windowSeconds: number;
    readonly windowKeystrokes: number;
    readonly scanSeconds: number;
    readonly hardwareScanSeconds: number;
    readonly reportSeconds: number;
    readonly heartbeatSeconds: number;
  };
  readonly retention: { readonly maxDays: number; readonly maxMegabytes: number };
  readonly outbox: { readonly maxReports: number };
  readonly location: { readonly fleetKey: string | null; readonly probeSeconds: number };
  /** Shown in the transparency view's top line when the laptop is flagged. */
  readonly support: { readonly contact: string | null; readonly advice: string | null };
}

export const DEFAULT_POLICY: ResolvedPolicy = {
  collectorUrl: null,
  enrollmentSecret: null,
  approvedTools: [],
  allowQuit: false,
  injectedInput: { allowedPrograms: [], approvedToolsMayInject: true, pointerMotion: false },
  intervals: {
    windowSeconds: 30,
    windowKeystrokes: 50,
    scanSeconds: 30,
    hardwareScanSeconds: 60,
    reportSeconds: 300,
    heartbeatSeconds: 300,
  },
  retention: { maxDays: 30, maxMegabytes: 50 },
  outbox: { maxReports: 10000 },
  location: { fleetKey: null, probeSeconds: 300 },
  support: { contact: null, advice: null },
};

export function resolvePolicy(policy: Policy): ResolvedPolicy {
  return {
    collectorUrl: policy.collectorUrl ?? DEFAULT_POLICY.collectorUrl,
    enrollmentSecret: policy.enrollmentSecret ?? DEFAULT_POLICY.enrollmentSecret,
    approvedTools: policy.approvedTools ?? DEFAULT_POLICY.approvedTools,
    allowQuit: policy.allowQuit ?? DEFAULT_POLICY.allowQuit,
    injectedInput: { ...DEFAULT_POLICY.injectedInput, ...policy.injectedInput },
    intervals: { ...DEFAULT_POLICY.intervals, ...policy.intervals },
    retention: { ...DEFAULT_POLICY.retention, ...policy.retention },
    outbox: { ...DEFAULT_POLICY.outbox, ...policy.outbox },
    location: { ...DEFAULT_POLICY.location, ...policy.location },
    support: { contact: policy.support?.contact ?? null, advice: policy.support?.advice ?? null },
  };
}
