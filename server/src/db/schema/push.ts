import { sql } from "drizzle-orm";
import {
  check,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { tstz } from "./columns.ts";
import { users } from "./user.ts";

export const pushSubscriptions = pgTable(
  "push_subscription",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    endpoint: text("endpoint").notNull(),
    p256dh: text("p256dh").notNull(),
    auth: text("auth").notNull(),
    createdAt: tstz("created_at").notNull().defaultNow(),
    lastSentAt: tstz("last_sent_at"),
  },
  (t) => [
    // a browser re-subscribing replaces its row rather than adding one
    uniqueIndex("push_subscription_endpoint_key").on(t.endpoint),
    // sending a push looks up a user's devices
    index("push_subscription_user_idx").on(t.userId),
  ],
);

/** When a person wants to be interrupted: a priority threshold, a budget per hour, quiet hours. */
export const pushPreferences = pgTable(
  "push_preference",
  {
    userId: text("user_id")
      .primaryKey()
      .references(() => users.id, { onDelete: "cascade" }),
    threshold: doublePrecision("threshold").notNull().default(0.7),
    maxPerHour: integer("max_per_hour").notNull().default(3),
    /** "HH:MM" in timeZone; both set or both null. A window may cross midnight (22:00–07:00). */
    quietStart: text("quiet_start"),
    quietEnd: text("quiet_end"),
    timeZone: text("time_zone").notNull().default("UTC"),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    check("push_preference_threshold_check", sql`${t.threshold} >= 0 and ${t.threshold} <= 1`),
    check("push_preference_max_check", sql`${t.maxPerHour} >= 0 and ${t.maxPerHour} <= 60`),
  ],
);

/**
 * One row per person and card pushed about, written before the push is sent: the primary key makes
 * a card interrupt a person at most once, whichever process sees it first; the rows in the last hour
 * are the budget.
 */
export const pushDeliveries = pgTable(
  "push_delivery",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    cardId: text("card_id").notNull(),
    status: text("status", { enum: ["sending", "sent", "failed"] }).notNull(),
    devices: integer("devices").notNull().default(0),
    createdAt: tstz("created_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.cardId] }),
    index("push_delivery_user_time_idx").on(t.userId, t.createdAt),
  ],
);
