import { sql } from "drizzle-orm";
import { type AnyPgColumn, check, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { cards } from "./card.ts";
import { tstz } from "./columns.ts";
import { users } from "./user.ts";

export const verdicts = ["accept", "reject", "snooze", "undo"] as const;

/** The audit log: appended, never updated. An undo is a decision that names the one it undoes. */
export const decisions = pgTable(
  "decision",
  {
    id: text("id").primaryKey(),
    cardId: text("card_id")
      .notNull()
      .references(() => cards.id, { onDelete: "cascade" }),
    cardVersion: integer("card_version").notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    verdict: text("verdict", { enum: verdicts }).notNull(),
    reason: text("reason"),
    snoozeUntil: tstz("snooze_until"),
    undoes: text("undoes").references((): AnyPgColumn => decisions.id),
    idempotencyKey: text("idempotency_key").notNull(),
    client: text("client"),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    // a replayed request (offline queue) finds the decision it already made
    uniqueIndex("decision_idempotency_key").on(t.userId, t.idempotencyKey),
    // a card's history, oldest first
    index("decision_card_idx").on(t.cardId, t.createdAt),
    // the admin audit view, newest first
    index("decision_created_idx").on(t.createdAt),
    check("decision_verdict_check", sql`${t.verdict} in ('accept', 'reject', 'snooze', 'undo')`),
  ],
);
