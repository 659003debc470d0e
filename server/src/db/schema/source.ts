import { sourceKinds } from "@flick/shared";
import { sql } from "drizzle-orm";
import { boolean, check, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamps, tstz } from "./columns.ts";

export { sourceKinds } from "@flick/shared";

export const sources = pgTable(
  "source",
  {
    id: text("id").primaryKey(),
    /** A small number naming the source in a Sentry DSN, whose SDKs insist on a numeric project id. */
    number: integer("number").notNull().generatedAlwaysAsIdentity(),
    kind: text("kind", { enum: sourceKinds }).notNull(),
    name: text("name").notNull(),
    /** HMAC key or bearer token the sender proves itself with; needed in clear to verify signatures. */
    secret: text("secret").notNull(),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
    enabled: boolean("enabled").notNull().default(true),
    /** Made by "Replay sample signals": its signals are samples, and accepting a card they made only rehearses. */
    demo: boolean("demo").notNull().default(false),
    ...timestamps,
  },
  (t) => [
    // admins name sources; the name is how people tell them apart
    uniqueIndex("source_name_key").on(t.name),
    // Sentry SDKs post to /api/<number>/envelope/
    uniqueIndex("source_number_key").on(t.number),
    check(
      "source_kind_check",
      sql`${t.kind} in ('github', 'sentry', 'metrics', 'alertmanager', 'feedback', 'webhook')`,
    ),
  ],
);

/**
 * The last request a source refused (a wrong secret, a body it could not read, a series it left
 * out), so an admin sees in Settings why a sender's signals do not arrive. One row a source,
 * written at most every half minute per process.
 */
export const sourceRefusals = pgTable("source_refusal", {
  sourceId: text("source_id")
    .primaryKey()
    .references(() => sources.id, { onDelete: "cascade" }),
  at: tstz("at").notNull(),
  /** The HTTP status the sender got. */
  status: integer("status").notNull(),
  /** What the sender was told (never a secret: errors do not carry them). */
  message: text("message").notNull(),
});

/**
 * The latest requests to sources that do not exist (a deleted source's URL still set in its
 * sender, a URL mistyped), one row per path, the newest 20 kept: otherwise seen only on the
 * sender's side. Only paths shaped like a source's (`/ingest/src_…`, a Sentry project number).
 */
export const ingestStrays = pgTable("ingest_stray", {
  path: text("path").primaryKey(),
  at: tstz("at").notNull(),
  status: integer("status").notNull(),
  message: text("message").notNull(),
  /** The sender's User-Agent ("Prometheus/2.53.0"), when it sent one. */
  userAgent: text("user_agent"),
});
