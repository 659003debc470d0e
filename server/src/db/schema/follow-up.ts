import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { cards } from "./card.ts";
import { bytea, timestamps, tstz } from "./columns.ts";
import { users } from "./user.ts";

export const followUpStates = [
  "received",
  "transcribing",
  "revising",
  "done",
  "failed",
  "needs_text",
] as const;

export const followUps = pgTable(
  "follow_up",
  {
    id: text("id").primaryKey(),
    cardId: text("card_id")
      .notNull()
      .references(() => cards.id, { onDelete: "cascade" }),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    audio: bytea("audio"),
    audioMime: text("audio_mime"),
    audioDurationMs: integer("audio_duration_ms"),
    transcript: text("transcript"),
    transcriptSource: text("transcript_source", { enum: ["typed", "browser", "server"] }),
    state: text("state", { enum: followUpStates }).notNull().default("received"),
    attempts: integer("attempts").notNull().default(0),
    leaseUntil: tstz("lease_until"),
    nextAttemptAt: tstz("next_attempt_at").notNull().defaultNow(),
    lastError: text("last_error"),
    /** What the agent answered when it could not (or only partly) follow the instruction. */
    reply: text("reply"),
    /** Model tokens this follow-up used (transcription is billed by the audio, not counted here). */
    tokens: integer("tokens").notNull().default(0),
    revisionCardId: text("revision_card_id").references(() => cards.id, { onDelete: "set null" }),
    /** The speaker's time zone, as their browser said (IANA): "tomorrow morning" on their clock. */
    timeZone: text("time_zone"),
    ...timestamps,
  },
  (t) => [
    // a card shows its follow-ups
    index("follow_up_card_idx").on(t.cardId, t.createdAt),
    // the transcription/revision worker claims due follow-ups
    index("follow_up_claim_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.state} in ('received', 'transcribing', 'revising')`),
    check(
      "follow_up_state_check",
      sql`${t.state} in ('received', 'transcribing', 'revising', 'done', 'failed', 'needs_text')`,
    ),
  ],
);
