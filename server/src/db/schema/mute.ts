import { index, pgTable, text } from "drizzle-orm/pg-core";
import { tstz } from "./columns.ts";
import { users } from "./user.ts";

/** A rejected fingerprint stays quiet until `until`: for the whole team, or for one person. */
export const mutes = pgTable(
  "mute",
  {
    id: text("id").primaryKey(),
    fingerprint: text("fingerprint").notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    reason: text("reason"),
    createdBy: text("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: tstz("created_at").notNull().defaultNow(),
    until: tstz("until").notNull(),
  },
  (t) => [
    // the card upsert asks whether a fingerprint is muted right now
    index("mute_fingerprint_idx").on(t.fingerprint, t.until),
  ],
);
