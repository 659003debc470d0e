import { z } from "zod";
import { fieldIssueSchema } from "./errors.ts";

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
  /** Made by "Replay sample signals" (sample signals; its cards' accepts only rehearse). */
  demo: z.boolean(),
  createdAt: z.string(),
  /** Where the sender posts, and how it proves itself. Shown to admins only. */
  ingestUrl: z.string(),
  secret: z.string(),
  sentryDsn: z.string().nullable(),
  /** When its latest signal arrived (test signals aside); null: none kept. In the list only. */
  lastSignalAt: z.string().nullable().optional(),
  /** The last request the source refused: what the sender was told, and when (listings only). */
  lastRefusal: z
    .object({ at: z.string(), status: z.number().int(), message: z.string() })
    .nullable()
    .optional(),
});
export type Source = z.infer<typeof sourceSchema>;

/**
 * A request to a source that does not exist (`GET /api/sources` lists the latest 20 as `strays`):
 * a sender still set up with a deleted source's URL, or one mistyped. `path` is what it posted to.
 */
export const strayRequestSchema = z.object({
  path: z.string(),
  at: z.string(),
  status: z.number().int(),
  message: z.string(),
  userAgent: z.string().nullable(),
});
export type StrayRequest = z.infer<typeof strayRequestSchema>;

/**
 * The metric names a metrics source has sent, for its settings (an action is chosen by name);
 * `complete` is false when the source sent more names than are kept (the first 500 are).
 * `perReplica`: the metrics mapped to an action that arrive as one series per pod or instance,
 * with the labels that tell them apart (`{"checkout_success": ["pod"]}`).
 */
export const sourceMetricsSchema = z.object({
  names: z.array(z.string()),
  complete: z.boolean(),
  perReplica: z.record(z.string(), z.array(z.string())),
});
export type SourceMetrics = z.infer<typeof sourceMetricsSchema>;

/**
 * `GET /api/sources/deploying`: the repositories Flick saw deploy lately (pushes to the default
 * branch, releases, deploy workflows and deployments), the latest first — what a source's
 * `deploys` setting can name.
 */
export const deployingSchema = z.object({
  repositories: z.array(z.object({ name: z.string(), lastDeployAt: z.string() })),
});
export type Deploying = z.infer<typeof deployingSchema>;

/** `POST /api/sources/:id/webhook-preview`: what a webhook source's deliveries become under a mapping. */
export const webhookPreviewRequestSchema = z.object({
  /** The mapping to try (unsaved form values); checked like saved settings. */
  settings: z.record(z.string(), z.unknown()).default({}),
  /** A delivery to try it on; without one, the source's latest delivery is used. */
  sample: z.unknown().optional(),
});
export type WebhookPreviewRequest = z.input<typeof webhookPreviewRequestSchema>;

export const webhookPreviewSchema = z.object({
  /** What was mapped: the sample given, the source's latest delivery, or nothing (none came yet). */
  from: z.enum(["sample", "latest", "none"]),
  /** When the latest delivery came. */
  receivedAt: z.string().optional(),
  /** The delivery mapped (the first item of a batch); left out when its JSON is over 64 KB. */
  delivery: z.unknown().optional(),
  /** The card it makes (absent when there is no delivery). */
  card: z
    .object({
      title: z.string(),
      /** Deliveries with the same value here join one card; absent: each delivery is a card of its own. */
      groupedBy: z.string().optional(),
      /** The delivery's id; a repeat with the same id is a duplicate. Absent: made from its content. */
      id: z.string().optional(),
      summary: z.string().optional(),
      /** The card's link, when it is a web page. */
      url: z.string().optional(),
      priority: z.number(),
    })
    .optional(),
  /** Mapped paths that find nothing usable in the delivery, by setting. */
  missing: z.array(z.object({ key: z.string(), path: z.string() })),
});
export type WebhookPreview = z.infer<typeof webhookPreviewSchema>;

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
  sourceName: z.string(),
  kind: z.string(),
  externalId: z.string(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  receivedAt: z.string(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** Loading a metrics source's history from the team's Prometheus (its HTTP API's query_range). */
export const prometheusHistoryRequestSchema = z
  .object({
    url: z
      .string()
      .trim()
      .max(500, "url is at most 500 characters")
      .regex(
        /^https?:\/\/[^\s/]+/,
        "url must be the Prometheus server's http(s) address, like http://prometheus:9090",
      ),
    hours: z
      .number()
      .int()
      .min(1, "hours is at least 1")
      .max(168, "hours is at most 168 (a week)")
      .default(48),
    /**
     * Credentials the Prometheus (or the proxy before it) asks for: a bearer token, or a user and
     * password (HTTP basic, as Grafana Cloud and most reverse proxies take). Sent with this load's
     * requests only, never stored.
     */
    bearerToken: z.string().trim().min(1, "bearerToken is empty").max(4096).optional(),
    basicAuth: z
      .object({
        username: z.string().min(1, "basicAuth.username is empty").max(256),
        password: z.string().max(4096),
      })
      .optional(),
  })
  .refine((r) => !(r.bearerToken && r.basicAuth), {
    message: "give a bearer token or a user and password, not both",
    path: ["bearerToken"],
  });
export type PrometheusHistoryRequest = z.input<typeof prometheusHistoryRequestSchema>;

export const prometheusHistorySchema = z.object({
  /** Per selector asked for (each metric or series the source maps to an action). */
  loads: z.array(
    z.object({
      query: z.string(),
      series: z.number().int(),
      /** The step its samples come at now (what remote_write then sends). */
      stepSeconds: z.number().int(),
      from: z.string(),
      to: z.string(),
    }),
  ),
  points: z.number().int(),
  accepted: z.number().int(),
  duplicates: z.number().int(),
  /** Series left out, each named with why (a label longer than a point may carry); the rest is loaded. */
  refused: z.array(fieldIssueSchema),
});
export type PrometheusHistory = z.infer<typeof prometheusHistorySchema>;
