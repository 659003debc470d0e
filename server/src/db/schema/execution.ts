import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { cards } from "./card.ts";
import { timestamps, tstz } from "./columns.ts";
import { decisions } from "./decision.ts";

export const executionStates = ["scheduled", "running", "succeeded", "failed", "cancelled"] as const;

export const executions = pgTable(
  "execution",
  {
    id: text("id").primaryKey(),
    cardId: text("card_id")
      .notNull()
      .references(() => cards.id, { onDelete: "cascade" }),
    decisionId: text("decision_id")
      .notNull()
      .references(() => decisions.id, { onDelete: "cascade" }),
    executor: text("executor").notNull(),
    dryRun: boolean("dry_run").notNull().default(false),
    state: text("state", { enum: executionStates }).notNull().default("scheduled"),
    /** Accept runs only after the undo window: the execution is not claimable before this time. */
    runAfter: tstz("run_after").notNull(),
    attempts: integer("attempts").notNull().default(0),
    leaseUntil: tstz("lease_until"),
    claimToken: text("claim_token"),
    /** Attempts allowed before the execution fails for good (from the action, or the executor's default). */
    maxAttempts: integer("max_attempts").notNull().default(3),
    log: text("log").notNull().default(""),
    result: jsonb("result").$type<unknown>(),
    error: text("error"),
    finishedAt: tstz("finished_at"),
    ...timestamps,
  },
  (t) => [
    // one execution per accept decision, so a replay cannot run the change twice
    uniqueIndex("execution_decision_key").on(t.decisionId),
    // executors claim due work
    index("execution_claim_idx").on(t.runAfter).where(sql`${t.state} in ('scheduled', 'running')`),
    // a card shows what its accept did
    index("execution_card_idx").on(t.cardId),
    check(
      "execution_state_check",
      sql`${t.state} in ('scheduled', 'running', 'succeeded', 'failed', 'cancelled')`,
    ),
  ],
);
