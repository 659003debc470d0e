import type { DecisionResult } from "@flick/shared";
import { and, eq, gt, inArray } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { cards, decisions, executions, mutes, users } from "../../db/schema/index.ts";
import type { AuthUser } from "../../env.ts";
import { isUniqueViolation } from "../../lib/db-errors.ts";
import { AppError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import { appendCardEvents } from "../cards/events.ts";
import { toCard } from "../cards/read.ts";
import { mutedBy, setAsideAgain } from "../cards/set-aside.ts";
import { toDecision, toExecution } from "./view.ts";

/**
 * Takes a decision back inside the undo window: a scheduled execution is cancelled before it runs,
 * a reject's mute is lifted, and the card returns to the feed. After the window the answer is 409
 * with what already happened. The undo is itself appended to the audit log.
 */
export async function undoDecision(
  db: Database,
  p: { decisionId: string; user: AuthUser; idempotencyKey?: string; now: Date; undoWindowMs: number },
): Promise<DecisionResult> {
  const key = p.idempotencyKey ?? `undo:${p.decisionId}`;
  try {
    return await db.transaction(async (tx) => {
      const [target] = await tx.select().from(decisions).where(eq(decisions.id, p.decisionId)).limit(1);
      if (!target || target.verdict === "undo") throw new AppError("not_found", "decision not found");
      if (target.userId !== p.user.id && p.user.role !== "admin") {
        throw new AppError("forbidden", "only the person who decided (or an admin) can undo it");
      }
      const [card] = await tx.select().from(cards).where(eq(cards.id, target.cardId)).limit(1).for("update");
      if (!card) throw new AppError("not_found", "card not found");

      const [already] = await tx
        .select()
        .from(decisions)
        .where(and(eq(decisions.undoes, target.id), eq(decisions.verdict, "undo")))
        .limit(1);
      if (already) {
        const [name] = await tx
          .select({ name: users.name })
          .from(users)
          .where(eq(users.id, already.userId ?? ""))
          .limit(1);
        return {
          decision: toDecision(already, name?.name ?? null, p.undoWindowMs),
          card: toCard(card),
          execution: null,
        };
      }

      const [execution] = await tx
        .select()
        .from(executions)
        .where(eq(executions.decisionId, target.id))
        .limit(1)
        .for("update");
      const closesAt = new Date(target.createdAt.getTime() + p.undoWindowMs);
      if (p.now >= closesAt || (execution && execution.state !== "scheduled")) {
        const what = execution
          ? `the change ${execution.state === "succeeded" ? "was applied" : `is ${execution.state}`}${execution.error ? ` (${execution.error})` : ""}`
          : `the card stays ${card.status}`;
        throw new AppError(
          "conflict",
          `too late to undo: the window closed at ${closesAt.toISOString()}; ${what}`,
          {
            closedAt: closesAt.toISOString(),
            card: toCard(card),
            execution: execution ? toExecution(execution) : null,
          },
        );
      }
      // Someone else acted on the card after this decision (e.g. it was revised): nothing to restore.
      if (card.decidedAt?.getTime() !== target.createdAt.getTime()) {
        throw new AppError("conflict", "the card has changed since this decision; it cannot be undone");
      }

      let cancelled = null;
      if (execution) {
        const [row] = await tx
          .update(executions)
          .set({
            state: "cancelled",
            finishedAt: p.now,
            updatedAt: p.now,
            log: `${execution.log}cancelled by undo\n`,
          })
          .where(eq(executions.id, execution.id))
          .returning();
        cancelled = row ?? null;
      }
      // The cards the reject brought back (this one stood for them) are set aside again.
      const asideAgain =
        target.verdict === "reject" ? await setAsideAgain(tx, card, target.createdAt, p.now) : [];
      if (target.verdict === "reject") {
        await tx
          .delete(mutes)
          .where(
            and(
              inArray(mutes.fingerprint, mutedBy(card)),
              eq(mutes.createdAt, target.createdAt),
              gt(mutes.until, p.now),
            ),
          );
      }
      const version = card.version + 1;
      const [restored] = await tx
        .update(cards)
        .set({ status: "pending", version, decidedAt: null, snoozedUntil: null, updatedAt: p.now })
        .where(eq(cards.id, card.id))
        .returning();
      const undo = {
        id: newId("decision", p.now.getTime()),
        cardId: card.id,
        cardVersion: card.version,
        userId: p.user.id,
        verdict: "undo" as const,
        reason: null,
        snoozeUntil: null,
        undoes: target.id,
        idempotencyKey: key,
        client: null,
        createdAt: p.now,
      };
      await tx.insert(decisions).values(undo);
      await appendCardEvents(tx, [{ cardId: card.id, type: "card.created", version }, ...asideAgain], p.now);
      if (!restored) throw new Error("card update returned no row");
      return {
        decision: toDecision(undo, p.user.name, p.undoWindowMs),
        card: toCard(restored),
        execution: cancelled ? toExecution(cancelled) : null,
      };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError("conflict", "this undo was already sent");
    throw err;
  }
}
