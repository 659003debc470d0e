import { and, eq, lte } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { cards } from "../../db/schema/index.ts";
import { appendCardEvents } from "./events.ts";
import { awake } from "./set-aside.ts";

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
        .set({ ...awake(now), version: c.version + 1 })
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
