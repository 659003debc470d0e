import { boolean, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamps } from "./columns.ts";

/**
 * An admin-defined outbound action a card can propose (a rollback hook, a deploy, a page): where
 * to send it, how, and the secret that signs it. Cards name actions by `name`.
 */
export const actions = pgTable(
  "action",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    url: text("url").notNull(),
    method: text("method", { enum: ["POST", "PUT", "PATCH", "DELETE"] })
      .notNull()
      .default("POST"),
    /** Extra headers, e.g. an API key for the target; shown to admins only. */
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
    /** JSON body with {{card.title}}, {{params.x}} placeholders. */
    bodyTemplate: text("body_template").notNull().default("{}"),
    /** HMAC-SHA256 key for the X-Flick-Signature header. */
    secret: text("secret").notNull(),
    timeoutMs: integer("timeout_ms").notNull().default(10_000),
    maxAttempts: integer("max_attempts").notNull().default(3),
    enabled: boolean("enabled").notNull().default(true),
    ...timestamps,
  },
  (t) => [
    // cards refer to actions by name
    uniqueIndex("action_name_key").on(t.name),
  ],
);
