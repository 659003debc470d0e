import { z } from "zod";

export const sourceKinds = ["github", "sentry", "metrics", "alertmanager", "feedback", "webhook"] as const;
export type SourceKind = (typeof sourceKinds)[number];

/** Generic webhooks: where in the JSON to find the title, id and fingerprint (`$.a.b[0].c`). */
export const webhookMappingSchema = z.object({
  titlePath: z.string().max(200).optional(),
  idPath: z.string().max(200).optional(),
  fingerprintPath: z.string().max(200).optional(),
  summaryPath: z.string().max(200).optional(),
  urlPath: z.string().max(200).optional(),
  priority: z.number().min(0).max(1).optional(),
});
export type WebhookMapping = z.infer<typeof webhookMappingSchema>;

export const sourceCreateSchema = z.object({
  kind: z.enum(sourceKinds),
  name: z.string().trim().min(1, "name is required").max(100, "name is at most 100 characters"),
  settings: z.record(z.string(), z.unknown()).default({}),
});
export type SourceCreate = z.input<typeof sourceCreateSchema>;

export const sourceUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: "give name, settings or enabled" });

export const sourceSchema = z.object({
  id: z.string(),
  kind: z.enum(sourceKinds),
  name: z.string(),
  enabled: z.boolean(),
  settings: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  /** Where the sender posts, and how it proves itself. Shown to admins only. */
  ingestUrl: z.string(),
  secret: z.string(),
  sentryDsn: z.string().nullable(),
});
export type Source = z.infer<typeof sourceSchema>;

/**
 * The metric names a metrics source has sent, for its settings (an action is chosen by name);
 * `complete` is false when the source sent more names than are kept (the first 500 are).
 */
export const sourceMetricsSchema = z.object({ names: z.array(z.string()), complete: z.boolean() });
export type SourceMetrics = z.infer<typeof sourceMetricsSchema>;

export const ingestResultSchema = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  ignored: z.number().int(),
  ids: z.array(z.string()),
});
export type IngestResult = z.infer<typeof ingestResultSchema>;

export const deadLetterSchema = z.object({
  id: z.string(),
  sourceId: z.string(),
  kind: z.string(),
  externalId: z.string(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  receivedAt: z.string(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;
