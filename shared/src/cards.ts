import { z } from "zod";

export const cardKinds = ["patch", "action", "issue", "reply", "insight"] as const;
export const cardStatuses = [
  "pending",
  "accepted",
  "rejected",
  "snoozed",
  "applying",
  "applied",
  "failed",
  "superseded",
  "expired",
] as const;
export type CardKind = (typeof cardKinds)[number];
export type CardStatus = (typeof cardStatuses)[number];

/**
 * A point series for a sparkline or chart, each point [time in epoch ms, value] (the web writes the
 * chart's first and last times under it); `marks` are indexes to highlight (anomalies, deploys),
 * `span` the first and last index of a stretch to shade (since a deploy, a changed pattern).
 */
export const seriesPreviewSchema = z.object({
  type: z.literal("series"),
  label: z.string(),
  unit: z.string().optional(),
  points: z.array(z.tuple([z.number(), z.number()])).max(2000),
  marks: z.array(z.number().int()).max(100).optional(),
  span: z.tuple([z.number().int().min(0), z.number().int().min(0)]).optional(),
  /**
   * What history predicted at a marked point, as [index into points, value]: drawn as a ring joined
   * to the point, so the gap the card tells ("dropped 73%") is seen, not only read.
   */
  expected: z
    .array(z.tuple([z.number().int().min(0), z.number()]))
    .max(100)
    .optional(),
  /** Other series drawn behind this one on the same axes (the rest of an incident's series). */
  others: z
    .array(
      z.object({ label: z.string().max(200), points: z.array(z.tuple([z.number(), z.number()])).max(2000) }),
    )
    .max(10)
    .optional(),
  /**
   * Other metrics that broke with it (or a deploy's other troubles), each on its own small chart
   * (its own units); `marks`, `expected` and `span` as above, into that chart's points.
   */
  charts: z
    .array(
      z.object({
        label: z.string().max(200),
        points: z.array(z.tuple([z.number(), z.number()])).max(2000),
        marks: z.array(z.number().int()).max(10).optional(),
        expected: z
          .array(z.tuple([z.number().int().min(0), z.number()]))
          .max(10)
          .optional(),
        span: z.tuple([z.number().int().min(0), z.number().int().min(0)]).optional(),
        /** The same metric's other series that broke with it, drawn behind it on its axes. */
        others: z
          .array(
            z.object({
              label: z.string().max(200),
              points: z.array(z.tuple([z.number(), z.number()])).max(2000),
            }),
          )
          .max(10)
          .optional(),
      }),
    )
    .max(4)
    .optional(),
});

export const diffStatPreviewSchema = z.object({
  type: z.literal("diffstat"),
  files: z.array(z.object({ path: z.string(), added: z.number().int(), removed: z.number().int() })).max(500),
});

export const textPreviewSchema = z.object({
  type: z.literal("text"),
  text: z.string().max(4000),
});

export const previewSchema = z.discriminatedUnion("type", [
  seriesPreviewSchema,
  diffStatPreviewSchema,
  textPreviewSchema,
]);
export type Preview = z.infer<typeof previewSchema>;
export type SeriesPreview = z.infer<typeof seriesPreviewSchema>;

/** What accepting the card does. Executors act on exactly this value. */
export const changeSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("patch"),
    repository: z.string(),
    diff: z.string(),
    message: z.string().optional(),
  }),
  z.object({
    type: z.literal("github"),
    operation: z.enum([
      "merge_pr",
      "rerun_workflow",
      "create_issue",
      "comment",
      "reopen_issue",
      "create_pr",
      "revert_commit",
      "update_branch",
      "enqueue_pr",
    ]),
    repository: z.string(),
    params: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal("webhook"),
    action: z.string(),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({ type: z.literal("none") }),
]);
export type Change = z.infer<typeof changeSchema>;

export const evidenceSchema = z.object({
  signalIds: z.array(z.string()),
  count: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  links: z.array(z.object({ label: z.string(), url: z.string() })).default([]),
  facts: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** Its agent set it aside: another card (the fix's merge card) stands for it for now. */
  setAside: z.boolean().optional(),
  /** The id of the card that stands (or stood) for this one while it was set aside. */
  standIn: z.string().optional(),
  /** Fingerprints of the cards this one stands for (its agent set them aside). */
  standsFor: z.array(z.string()).optional(),
  /** Fingerprints whose news it tells instead of cards of their own; a reject mutes them too. */
  tells: z.array(z.string()).optional(),
  /**
   * The source whose settings chose what the card proposes (a metric card: the action set for the
   * metric there, or its issue repository): where an admin changes that choice.
   */
  settingsSource: z.string().optional(),
  /** Made from a demo source's sample signals ("Replay sample signals"): accepting only rehearses. */
  demo: z.boolean().optional(),
  /** Every agent that wrote the card, when more than one did (a deploy's rollback card). */
  agents: z.array(z.string()).optional(),
  /**
   * What carrying out its accepted change did, in words, and the page of what it made ("opened
   * acme/app#46"), set when its execution succeeds (see describeOutcome); or why it failed, when it
   * did (the executor's error).
   */
  outcome: z.object({ text: z.string(), url: z.string().optional() }).optional(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const verificationSchema = z.array(
  z.object({
    check: z.string(),
    status: z.enum(["passed", "failed", "skipped"]),
    detail: z.string().optional(),
    /**
     * What came of the change once it was carried out (the rollback's errors stopped), told after
     * the decision — not a check made before asking.
     */
    after: z.boolean().optional(),
  }),
);
export type Verification = z.infer<typeof verificationSchema>;

export const cardSchema = z.object({
  id: z.string(),
  agent: z.string(),
  fingerprint: z.string(),
  kind: z.enum(cardKinds),
  title: z.string(),
  summary: z.string(),
  priority: z.number(),
  priorityFactors: z.record(z.string(), z.number()),
  preview: previewSchema.nullable(),
  change: changeSchema.nullable(),
  evidence: evidenceSchema,
  verification: verificationSchema,
  status: z.enum(cardStatuses),
  version: z.number().int(),
  supersedes: z.string().nullable(),
  snoozedUntil: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Card = z.infer<typeof cardSchema>;

/** What a merge or revert card's accept changes in code, read from GitHub (GET /api/cards/:id/diff). */
export const cardDiffSchema = z.object({
  diff: z.string(),
  /** What the diff is: "pull request #57" or "reverting 1a2b3c4". */
  of: z.string(),
  /** The diff was too long and was cut at a line. */
  truncated: z.boolean(),
});
export type CardDiff = z.infer<typeof cardDiffSchema>;

export const feedPageSchema = z.object({
  cards: z.array(cardSchema),
  nextCursor: z.string().nullable(),
});
export type FeedPage = z.infer<typeof feedPageSchema>;

export const feedQuerySchema = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Cards in another state than pending (snoozed, applied, failed…), most recently changed first. */
  status: z.enum(cardStatuses).optional(),
  agent: z.string().trim().min(1).max(60).optional(),
  /** Cards with evidence from this source. */
  source: z.string().trim().min(1).max(64).optional(),
});
export type FeedQuery = z.infer<typeof feedQuerySchema>;

/** What the feed can be narrowed by: agents with cards, and sources (names only, no secrets). */
export const feedFacetsSchema = z.object({
  agents: z.array(z.string()),
  sources: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string() })),
});
export type FeedFacets = z.infer<typeof feedFacetsSchema>;

export const cardEventTypes = ["card.created", "card.updated", "card.removed"] as const;
export type CardEventType = (typeof cardEventTypes)[number];

/** One Server-Sent Event on /api/stream. `card` is absent on card.removed. */
export const cardEventSchema = z.object({
  id: z.number().int(),
  type: z.enum(cardEventTypes),
  cardId: z.string(),
  version: z.number().int(),
  card: cardSchema.optional(),
});
export type CardEvent = z.infer<typeof cardEventSchema>;
