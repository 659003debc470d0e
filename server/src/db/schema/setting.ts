import { jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { tstz } from "./columns.ts";

/** Server-wide values made on first start and kept in the database (VAPID keys, instance id). */
export const settings = pgTable("setting", {
  key: text("key").primaryKey(),
  value: jsonb("value").$type<unknown>().notNull(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
});
