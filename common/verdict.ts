/**
 * The device verdict: one risk level for the whole device, with the chain of evidence behind it.
 * The agent computes it (agent/verdict/) and reports it as the evidence of its `device-verdict`
 * finding, which the transparency view and the collector read with this schema.
 */
import { Type, type Static } from '@sinclair/typebox';

/** The levels a verdict takes: a device is never judged 'info'. */
export const VERDICT_LEVELS = ['none', 'low', 'medium', 'high'] as const;
export const VerdictLevelSchema = Type.Union(VERDICT_LEVELS.map((level) => Type.Literal(level)));
export type VerdictLevel = (typeof VERDICT_LEVELS)[number];

export const VerdictSchema = Type.Object(
  {
    level: VerdictLevelSchema,
    /** Why this level: which rule fired. */
    reason: Type.String({ maxLength: 1024 }),
    /** One sentence per piece of evidence, strongest first. */
    chain: Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64 }),
    /** The keys of the findings the verdict rests on. */
    basis: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 64 }),
  },
  { additionalProperties: false },
);
export type Verdict = Static<typeof VerdictSchema>;
