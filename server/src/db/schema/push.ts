import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
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
