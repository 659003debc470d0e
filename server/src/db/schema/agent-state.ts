import { integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { tstz } from "./columns.ts";

/**
 * What a built-in agent remembers between batches (a series' detector state, an error group's
 * counts, a pull request's checks), so any worker can pick up where another left off. `version`
 * guards against two workers writing the same key at once.
 */
export const agentStates = pgTable(
  "agent_state",
  {
    agent: text("agent").notNull(),
    key: text("key").notNull(),
    state: jsonb("state").$type<unknown>().notNull(),
    version: integer("version").notNull().default(1),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.agent, t.key] })],
);
