import { type Change, type DecisionInput, type DecisionResult, isDemoCard } from "@flick/shared";
import { and, desc, eq } from "drizzle-orm";
import { moment } from "../../agents/builtin/words.ts";
import type { Database, Tx } from "../../db/client.ts";
import { cards, decisions, executions, mutes, users } from "../../db/schema/index.ts";
import { isUniqueViolation } from "../../lib/db-errors.ts";
import { AppError } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import { appendCardEvents } from "../cards/events.ts";
import { toCard } from "../cards/read.ts";
import { mutedBy, wakeStoodFor } from "../cards/set-aside.ts";
import { executorFor } from "./executor-names.ts";
import { toDecision, toExecution } from "./view.ts";

export interface DecideParams {
  cardId: string;
  userId: string;
  userName: string;
  input: DecisionInput;
  now: Date;
  undoWindowMs: number;
  muteHours: number;
}

const MAX_SNOOZE_MS = 90 * 86400_000;

const DECIDED: Record<string, string> = { accept: "accepted", reject: "rejected", snooze: "snoozed" };

/** Who already decided a card, for the 409 a late decider gets. */
async function lastDecision(tx: Tx, cardId: string) {
  const [row] = await tx
    .select({ decision: decisions, userName: users.name })
    .from(decisions)
    .leftJoin(users, eq(users.id, decisions.userId))
    .where(eq(decisions.cardId, cardId))
    .orderBy(desc(decisions.createdAt), desc(decisions.id))
    .limit(1);
  return row;
}

async function replay(
  db: Database | Tx,
  userId: string,
  key: string,
  undoWindowMs: number,
): Promise<DecisionResult | null> {
  const [row] = await db
    .select({ decision: decisions, userName: users.name })
    .from(decisions)
    .leftJoin(users, eq(users.id, decisions.userId))
    .where(and(eq(decisions.userId, userId), eq(decisions.idempotencyKey, key)))
    .limit(1);
  if (!row) return null;
  const [card] = await db.select().from(cards).where(eq(cards.id, row.decision.cardId)).limit(1);
  const [execution] = await db
    .select()
    .from(executions)
    .where(eq(executions.decisionId, row.decision.id))
    .limit(1);
  if (!card) throw new AppError("not_found", "card not found");
  return {
    decision: toDecision(row.decision, row.userName, undoWindowMs),
    card: toCard(card),
    execution: execution ? toExecution(execution) : null,
  };
}

/**
 * Records a person's accept / reject / snooze on the card version they saw. One transaction: the
 * card row is locked, so of two people deciding at once exactly one wins and the other gets 409
 * naming who decided. A replayed idempotency key returns the first result and does nothing again.
 * Accept schedules the card's change to run once the undo window has passed; reject mutes the
 * fingerprint for the team; snooze hides the card until its time or until new evidence arrives.
 */
export async function decide(
  db: Database,
  p: DecideParams,
): Promise<{ result: DecisionResult; replayed: boolean }> {
  const earlier = await replay(db, p.userId, p.input.idempotencyKey, p.undoWindowMs);
  if (earlier) {
    if (earlier.decision.cardId !== p.cardId) {
      throw new AppError("conflict", "this idempotencyKey was already used for another card");
    }
    return { result: earlier, replayed: true };
  }
  let snoozeUntil: Date | null = null;
  if (p.input.verdict === "snooze") {
    snoozeUntil = new Date(p.input.snoozeUntil ?? "");
    if (snoozeUntil <= p.now) throw new AppError("validation_failed", "snoozeUntil: must be in the future");
    if (snoozeUntil.getTime() - p.now.getTime() > MAX_SNOOZE_MS) {
      throw new AppError("validation_failed", "snoozeUntil: at most 90 days ahead");
    }
  }

  try {
    const result = await db.transaction(async (tx) => {
      const [card] = await tx.select().from(cards).where(eq(cards.id, p.cardId)).limit(1).for("update");
      if (!card) throw new AppError("not_found", "card not found");
      if (card.status !== "pending") {
        const last = await lastDecision(tx, card.id);
        // "Ada already snoozed this card (Nov 27, 05:18 UTC)." — who, what and when, as a person
        // reads it on the phone that lost the race.
        const message = last
          ? `${last.userName ?? "Someone"} already ${DECIDED[last.decision.verdict] ?? "decided"} this card (${moment(last.decision.createdAt, p.now)}).`
          : `This card is already ${card.status}.`;
        throw new AppError("conflict", message, {
          status: card.status,
          decidedBy: last ? { userId: last.decision.userId, name: last.userName } : null,
          verdict: last?.decision.verdict ?? null,
          decidedAt: last?.decision.createdAt.toISOString() ?? null,
          card: toCard(card),
        });
      }
      if (card.version !== p.input.cardVersion) {
        throw new AppError(
          "conflict",
          `the card changed since you saw it (version ${p.input.cardVersion}, now ${card.version}); look again`,
          {
            status: card.status,
            card: toCard(card),
          },
        );
      }

      const decision = {
        id: newId("decision", p.now.getTime()),
        cardId: card.id,
        cardVersion: card.version,
        userId: p.userId,
        verdict: p.input.verdict,
        reason: [p.input.reason, p.input.note].filter(Boolean).join(": ") || null,
        snoozeUntil,
        idempotencyKey: p.input.idempotencyKey,
        client: p.input.client ?? null,
        createdAt: p.now,
      };
      await tx.insert(decisions).values(decision);

      const version = card.version + 1;
      const change = (card.change ?? null) as Change | null;
      const executor = p.input.verdict === "accept" ? executorFor(change) : null;
      const status =
        p.input.verdict === "accept" ? "accepted" : p.input.verdict === "reject" ? "rejected" : "snoozed";
      const [updated] = await tx
        .update(cards)
        .set({ status, version, decidedAt: p.now, snoozedUntil: snoozeUntil, updatedAt: p.now })
        .where(eq(cards.id, card.id))
        .returning();

      let execution: typeof executions.$inferSelect | undefined;
      if (executor) {
        [execution] = await tx
          .insert(executions)
          .values({
            id: newId("execution", p.now.getTime()),
            cardId: card.id,
            decisionId: decision.id,
            executor,
            // A demo card's change is rehearsed, never carried out.
            dryRun: isDemoCard(card),
            runAfter: new Date(p.now.getTime() + p.undoWindowMs),
            createdAt: p.now,
            updatedAt: p.now,
          })
          .returning();
      }
      if (p.input.verdict === "reject") {
        // The card and whatever it told the news of instead of their own cards.
        await tx.insert(mutes).values(
          mutedBy(card).map((fingerprint) => ({
            id: newId("mute", p.now.getTime()),
            fingerprint,
            reason: decision.reason,
            createdBy: p.userId,
            createdAt: p.now,
            until: new Date(p.now.getTime() + p.muteHours * 3600_000),
          })),
        );
      }
      // The cards this one stood for (an alert set aside for the merge that fixes it) are back.
      const woken = p.input.verdict === "reject" ? await wakeStoodFor(tx, card.evidence, p.now) : [];
      // Last: the event lock serialises card writers, so it is held as briefly as possible.
      await appendCardEvents(tx, [{ cardId: card.id, type: "card.removed", version }, ...woken], p.now);
      if (!updated) throw new Error("card update returned no row");
      return {
        decision: toDecision({ ...decision, undoes: null }, p.userName, p.undoWindowMs),
        card: toCard(updated),
        execution: execution ? toExecution(execution) : null,
      };
    });
    return { result, replayed: false };
  } catch (err) {
    // The same key sent twice at once: the loser finds the winner's decision.
    if (isUniqueViolation(err)) {
      const winner = await replay(db, p.userId, p.input.idempotencyKey, p.undoWindowMs);
      if (winner) return { result: winner, replayed: true };
    }
    throw err;
  }
}
