import type { Decision, Execution } from "@flick/shared";
import type { decisions, executions } from "../../db/schema/index.ts";

export function toDecision(
  row: Omit<typeof decisions.$inferSelect, "idempotencyKey"> & { idempotencyKey?: string },
  userName: string | null,
  undoWindowMs: number,
): Decision {
  return {
    id: row.id,
    cardId: row.cardId,
    cardVersion: row.cardVersion,
    userId: row.userId,
    userName,
    verdict: row.verdict,
    reason: row.reason,
    snoozeUntil: row.snoozeUntil?.toISOString() ?? null,
    undoes: row.undoes,
    client: row.client,
    createdAt: row.createdAt.toISOString(),
    undoableUntil:
      row.verdict === "undo" ? null : new Date(row.createdAt.getTime() + undoWindowMs).toISOString(),
  };
}

export function toExecution(row: typeof executions.$inferSelect): Execution {
  return {
    id: row.id,
    cardId: row.cardId,
    decisionId: row.decisionId,
    executor: row.executor,
    dryRun: row.dryRun,
    state: row.state,
    runAfter: row.runAfter.toISOString(),
    attempts: row.attempts,
    log: row.log,
    result: row.result ?? null,
    error: row.error,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}
