import { z } from "zod";
import { cardSchema } from "./cards.ts";

export const verdicts = ["accept", "reject", "snooze"] as const;
export const rejectReasons = ["wrong", "not_important", "duplicate", "later"] as const;

export const decisionInputSchema = z
  .object({
    verdict: z.enum(verdicts),
    /** The version of the card the person was looking at. */
    cardVersion: z.number().int().min(1),
    /** Chosen by the client per gesture; replaying it (offline queue) returns the first result. */
    idempotencyKey: z.string().trim().min(8, "idempotencyKey needs at least 8 characters").max(100),
    reason: z.enum(rejectReasons).optional(),
    note: z.string().trim().max(500).optional(),
    snoozeUntil: z.iso.datetime({ offset: true }).optional(),
    client: z.string().trim().max(100).optional(),
  })
  .refine((v) => v.verdict !== "snooze" || v.snoozeUntil !== undefined, {
    path: ["snoozeUntil"],
    message: "snoozeUntil is required to snooze",
  });
export type DecisionInput = z.input<typeof decisionInputSchema>;

export const decisionSchema = z.object({
  id: z.string(),
  cardId: z.string(),
  cardVersion: z.number().int(),
  userId: z.string().nullable(),
  userName: z.string().nullable(),
  verdict: z.enum(["accept", "reject", "snooze", "undo"]),
  reason: z.string().nullable(),
  snoozeUntil: z.string().nullable(),
  undoes: z.string().nullable(),
  client: z.string().nullable(),
  createdAt: z.string(),
  /** Until when an undo is possible (accept/reject/snooze); null for an undo. */
  undoableUntil: z.string().nullable(),
});
export type Decision = z.infer<typeof decisionSchema>;

export const executionStates = ["scheduled", "running", "succeeded", "failed", "cancelled"] as const;

export const executionSchema = z.object({
  id: z.string(),
  cardId: z.string(),
  decisionId: z.string(),
  executor: z.string(),
  dryRun: z.boolean(),
  state: z.enum(executionStates),
  runAfter: z.string(),
  attempts: z.number().int(),
  log: z.string(),
  result: z.unknown(),
  error: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type Execution = z.infer<typeof executionSchema>;

export const decisionResultSchema = z.object({
  decision: decisionSchema,
  card: cardSchema,
  execution: executionSchema.nullable(),
});
export type DecisionResult = z.infer<typeof decisionResultSchema>;

export const undoInputSchema = z.object({
  idempotencyKey: z.string().trim().min(8).max(100).optional(),
});

export const auditQuerySchema = z.object({
  userId: z.string().max(64).optional(),
  cardId: z.string().max(64).optional(),
  verdict: z.enum(["accept", "reject", "snooze", "undo"]).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const muteSchema = z.object({
  id: z.string(),
  fingerprint: z.string(),
  reason: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  until: z.string(),
});
export type Mute = z.infer<typeof muteSchema>;

export const actionInputSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(60)
    .regex(/^[a-z0-9][a-z0-9_-]*$/, "use lower-case letters, digits, - and _"),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  method: z.enum(["POST", "PUT", "PATCH", "DELETE"]).default("POST"),
  headers: z
    .record(
      z.string().regex(/^[A-Za-z0-9-]+$/, "header names are letters, digits and -"),
      z.string().max(2000),
    )
    .default({}),
  bodyTemplate: z.string().max(20_000).default("{}"),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  maxAttempts: z.number().int().min(1).max(10).default(3),
  enabled: z.boolean().default(true),
});
export type ActionInput = z.input<typeof actionInputSchema>;

export const actionSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  method: z.string(),
  headers: z.record(z.string(), z.string()),
  bodyTemplate: z.string(),
  secret: z.string(),
  timeoutMs: z.number().int(),
  maxAttempts: z.number().int(),
  enabled: z.boolean(),
});
export type Action = z.infer<typeof actionSchema>;
