import { and, inArray, sql } from "drizzle-orm";
import { RECENCY_HALF_LIFE_HOURS, WEIGHTS } from "../../agents/rank.ts";
import type { Database } from "../../db/client.ts";
import { cards } from "../../db/schema/index.ts";
import { appendCardEvents } from "./events.ts";

/** How far a card's recency must have fallen since it was ranked before it is ranked again. */
export const RERANK_STEP = 0.05;
/** Cards ranked again per transaction. */
const RERANK_CHUNK = 1000;

/**
 * Open cards ranked again as they age: the recency factor an agent stored was "now" when it wrote
 * the card (1, halving every six hours after the card's latest evidence), so a card untouched for a
 * day kept ranking as if it were happening. Each card whose recency fell by RERANK_STEP or more gets
 * the factor as it is now and its priority moved by that factor's weight — the rest of its rank
 * (what its agent weighed in) stays. Its version and time stay too: nobody's decision on it is
 * refused as stale, and a feed already open does not reshuffle; a card event per card lets a feed
 * read later see the new order. Safe across processes (a card another is ranking is skipped, and
 * ranked again only while still due). Returns the cards ranked again.
 */
export async function rerankByAge(db: Database, now: Date): Promise<number> {
  const lastSeen = sql`(${cards.evidence}->>'lastSeen')`;
  // Null (no card ranked again) unless the time is an ISO one, as every card's evidence keeps it.
  const hours = sql`case when ${lastSeen} ~ '^\\d{4}-\\d\\d-\\d\\dT' then greatest(0, extract(epoch from (${now.toISOString()}::timestamptz - ${lastSeen}::timestamptz)) / 3600) end`;
  const fresh = sql`round(power(0.5, (${hours} / ${RECENCY_HALF_LIFE_HOURS})::numeric), 3)::double precision`;
  const stored = sql`(${cards.priorityFactors}->>'recency')::double precision`;
  const due = and(
    inArray(cards.status, ["pending", "snoozed"]),
    sql`jsonb_typeof(${cards.priorityFactors}->'recency') = 'number'`,
    sql`${stored} - ${fresh} >= ${RERANK_STEP}`,
  );
  let total = 0;
  for (;;) {
    // A chunk at a time, each its own short transaction: a card event per card (four parameters
    // each) for 20,000 cards at once passed PostgreSQL's 65,535 and failed the whole sweep.
    const moved = await db.transaction(async (tx) => {
      const chunk = tx
        .select({ id: cards.id })
        .from(cards)
        .where(due)
        .limit(RERANK_CHUNK)
        .for("update", { skipLocked: true });
      const rows = await tx
        .update(cards)
        .set({
          priority: sql`least(1, greatest(0, round((${cards.priority} + ${WEIGHTS.recency} * (${fresh} - ${stored}))::numeric, 3)))::double precision`,
          priorityFactors: sql`jsonb_set(${cards.priorityFactors}, '{recency}', to_jsonb(${fresh}))`,
        })
        .where(inArray(cards.id, chunk))
        .returning({ id: cards.id, version: cards.version });
      await appendCardEvents(
        tx,
        rows.map((c) => ({ cardId: c.id, type: "card.updated" as const, version: c.version })),
        now,
      );
      return rows.length;
    });
    total += moved;
    if (moved < RERANK_CHUNK) return total;
  }
}
