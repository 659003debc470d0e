import { cardEventTypes, cardKinds, cardStatuses } from "@flick/shared";
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.ts";

export { cardEventTypes, cardKinds, cardStatuses } from "@flick/shared";

export const cards = pgTable(
  "card",
  {
    id: text("id").primaryKey(),
    agent: text("agent").notNull(),
    fingerprint: text("fingerprint").notNull(),
    kind: text("kind", { enum: cardKinds }).notNull(),
    title: text("title").notNull(),
    summary: text("summary").notNull().default(""),
    // double, not real: the feed's keyset cursor compares it exactly with a JS number.
    priority: doublePrecision("priority").notNull().default(0),
    priorityFactors: jsonb("priority_factors").$type<Record<string, number>>().notNull().default({}),
    preview: jsonb("preview").$type<unknown>(),
    change: jsonb("change").$type<unknown>(),
    evidence: jsonb("evidence").$type<unknown>().notNull().default({}),
    verification: jsonb("verification").$type<unknown>().notNull().default([]),
    status: text("status", { enum: cardStatuses }).notNull().default("pending"),
    version: integer("version").notNull().default(1),
    supersedes: text("supersedes").references((): AnyPgColumn => cards.id, { onDelete: "set null" }),
    snoozedUntil: tstz("snoozed_until"),
    decidedAt: tstz("decided_at"),
    ...timestamps,
  },
  (t) => [
    // one open card per fingerprint: new evidence updates it instead of making another
    uniqueIndex("card_open_fingerprint_key")
      .on(t.fingerprint)
      .where(sql`${t.status} in ('pending', 'snoozed')`),
    // the feed: pending cards ranked by priority then recency, keyset-paginated
    index("card_feed_idx")
      .on(t.priority.desc(), t.updatedAt.desc(), t.id.desc())
      .where(sql`${t.status} = 'pending'`),
    // snoozed cards wake up when their time comes
    index("card_snoozed_idx").on(t.snoozedUntil).where(sql`${t.status} = 'snoozed'`),
    // the revision chain: the newest version of a card finds the one it replaced
    index("card_supersedes_idx").on(t.supersedes),
    check("card_priority_check", sql`${t.priority} >= 0 and ${t.priority} <= 1`),
    check("card_kind_check", sql`${t.kind} in ('patch', 'action', 'issue', 'reply', 'insight')`),
    check(
      "card_status_check",
      sql`${t.status} in ('pending', 'accepted', 'rejected', 'snoozed', 'applying', 'applied', 'failed', 'superseded', 'expired')`,
    ),
  ],
);

/**
 * Every change to a card, in commit order (ids are assigned under a transaction-level advisory
 * lock), so a live client resuming from Last-Event-ID misses nothing and sees nothing twice.
 */
export const cardEvents = pgTable(
  "card_event",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    cardId: text("card_id")
      .notNull()
      .references(() => cards.id, { onDelete: "cascade" }),
    type: text("type", { enum: cardEventTypes }).notNull(),
    version: integer("version").notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    // old events are pruned by age
    index("card_event_created_idx").on(t.createdAt),
  ],
);
