import { sql } from "drizzle-orm";
import { check, index, integer, json, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { tstz } from "./columns.ts";
import { sources } from "./source.ts";

export const signalStates = ["pending", "processing", "done", "parked"] as const;

export const signals = pgTable(
  "signal",
  {
    id: text("id").primaryKey(),
    sourceId: text("source_id")
      .notNull()
      .references(() => sources.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    externalId: text("external_id").notNull(),
    fingerprint: text("fingerprint").notNull(),
    // json, not jsonb: stored as sent (no re-encoding on the ingest hot path); agents read it in JS.
    payload: json("payload").$type<unknown>().notNull(),
    receivedAt: tstz("received_at").notNull().defaultNow(),
    /** When the sender says it happened (metric timestamp, event time); received_at when it does not say. */
    occurredAt: tstz("occurred_at").notNull().defaultNow(),
    state: text("state", { enum: signalStates }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    /** When a worker's claim runs out; a crashed worker's signals become claimable again after it. */
    leaseUntil: tstz("lease_until"),
    /** Names the claim that holds the lease; a worker whose lease was taken over cannot mark the signal done. */
    claimToken: text("claim_token"),
    /** Which worker finished it (diagnostics, and proof that processes share the work). */
    processedBy: text("processed_by"),
    /** Retries back off: a failed signal is not claimable before this time. */
    nextAttemptAt: tstz("next_attempt_at").notNull().defaultNow(),
    lastError: text("last_error"),
    processedAt: tstz("processed_at"),
  },
  (t) => [
    // ingest is idempotent: the sender's id is unique per source
    uniqueIndex("signal_source_external_key").on(t.sourceId, t.externalId),
    // workers claim the oldest due signals that are not done or parked
    // (ids rise in write order, so signals written together are claimed in that order)
    index("signal_claim_idx").on(t.nextAttemptAt, t.id).where(sql`${t.state} in ('pending', 'processing')`),
    // a source's latest signal (Settings shows it; the webhook preview maps it)
    index("signal_source_received_idx").on(t.sourceId, t.receivedAt),
    // retention deletes the oldest processed signals first (see services/signals/retention.ts)
    index("signal_done_idx").on(t.processedAt, t.id).where(sql`${t.state} = 'done'`),
    // the admin dead-letter list shows parked signals, newest first
    index("signal_parked_idx").on(t.receivedAt).where(sql`${t.state} = 'parked'`),
    check("signal_state_check", sql`${t.state} in ('pending', 'processing', 'done', 'parked')`),
  ],
);
