import { and, inArray, sql } from "drizzle-orm";
import { RECENCY_HALF_LIFE_HOURS, WEIGHTS } from "../../agents/rank.ts";
import type { Database } from "../../db/client.ts";
import { cards } from "../../db/schema/index.ts";
import { appendCardEvents } from "./events.ts";

/** How far a card's recency must have fallen since it was ranked before it is ranked again. */
export const RERANK_STEP = 0.05;

/**
 * Open cards ranked again as they age: the recency factor an agent stored was "now" when it wrote
 * the card (1, halving every six hours after the card's latest evidence), so a card untouched for a
 * day kept ranking as if it were happening. Each card whose recency fell by RERANK_STEP or more gets
 * the factor as it is now and its priority moved by that factor's weight — the rest of its rank
 * (what its agent weighed in) stays. Its version and time stay too: nobody's decision on it is
 * refused as stale, and a feed already open does not reshuffle; a card event per card lets a feed
 * read later see the new order. One statement, safe across processes. Returns the cards ranked again.
 */
export async function rerankByAge(db: Database, now: Date): Promise<number> {
  const lastSeen = sql`(${cards.evidence}->>'lastSeen')`;
  // Null (no card ranked again) unless the time is an ISO one, as every card's evidence keeps it.
  const hours = sql`case when ${lastSeen} ~ '^\\d{4}-\\d\\d-\\d\\dT' then greatest(0, extract(epoch from (${now.toISOString()}::timestamptz - ${lastSeen}::timestamptz)) / 3600) end`;
  const fresh = sql`round(power(0.5, (${hours} / ${RECENCY_HALF_LIFE_HOURS})::numeric), 3)::double precision`;
  const stored = sql`(${cards.priorityFactors}->>'recency')::double precision`;
  return db.transaction(async (tx) => {
    const moved = await tx
      .update(cards)
      .set({
        priority: sql`least(1, greatest(0, round((${cards.priority} + ${WEIGHTS.recency} * (${fresh} - ${stored}))::numeric, 3)))::double precision`,
        priorityFactors: sql`jsonb_set(${cards.priorityFactors}, '{recency}', to_jsonb(${fresh}))`,
      })
      .where(
        and(
          inArray(cards.status, ["pending", "snoozed"]),
          sql`jsonb_typeof(${cards.priorityFactors}->'recency') = 'number'`,
          sql`${stored} - ${fresh} >= ${RERANK_STEP}`,
        ),
      )
      .returning({ id: cards.id, version: cards.version });
    await appendCardEvents(
      tx,
      moved.map((c) => ({ cardId: c.id, type: "card.updated" as const, version: c.version })),
      now,
    );
    return moved.length;
  });
}
