import { and, eq, lte, sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { cards } from "../../db/schema/index.ts";
import { appendCardEvents } from "./events.ts";

/** Snoozed cards whose time has come return to the feed (one statement, safe across processes). */
export async function wakeSnoozedCards(db: Database, now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const woken = await tx
      .select({ id: cards.id, version: cards.version })
      .from(cards)
      .where(and(eq(cards.status, "snoozed"), lte(cards.snoozedUntil, now)))
      .limit(500)
      .for("update", { skipLocked: true });
    for (const c of woken) {
      await tx
        .update(cards)
        // Awake, it is nobody's card set aside any more (see upsert's placement).
        .set({
          status: "pending",
          snoozedUntil: null,
          evidence: sql`${cards.evidence} - 'setAside'`,
          version: c.version + 1,
          updatedAt: now,
        })
        .where(eq(cards.id, c.id));
    }
    await appendCardEvents(
      tx,
      woken.map((c) => ({ cardId: c.id, type: "card.created" as const, version: c.version + 1 })),
      now,
    );
    return woken.length;
  });
}
