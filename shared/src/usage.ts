import { z } from "zod";

const spent = {
  tokens: z.number().int(),
  calls: z.number().int(),
  /** With OPENAI_USD_PER_MILLION_TOKENS set. */
  usd: z.number().optional(),
};

/** `GET /api/admin/usage?days=N`: model tokens spent since the start of the UTC day N−1 days back. */
export const modelUsageSchema = z.object({
  since: z.string(),
  total: z.number().int(),
  usd: z.number().optional(),
  usdPerMillionTokens: z.number().optional(),
  /** Follow-up revisions count under their card's agent; the model-backed agents under their own name. */
  byAgent: z.array(z.object({ agent: z.string(), via: z.enum(["follow-ups", "agent"]), ...spent })),
  /** The costliest cards. */
  byCard: z.array(
    z.object({ cardId: z.string(), title: z.string().nullable(), agent: z.string(), ...spent }),
  ),
  /** The model that answers; null when none is configured (the built-in rules answer). */
  model: z.string().nullable(),
  /** Tokens each user of the model may spend per UTC day; null: no limit. */
  dailyLimits: z.object({
    followUps: z.number().nullable(),
    fixer: z.number().nullable(),
    summarizer: z.number().nullable(),
  }),
});
export type ModelUsage = z.infer<typeof modelUsageSchema>;
