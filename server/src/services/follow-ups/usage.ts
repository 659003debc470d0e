import { desc, eq, gte, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { cards, followUps } from "../../db/schema/index.ts";

/** Model tokens spent on follow-ups since `since`, per agent and for the costliest cards. */
export async function modelUsage(db: Queryable, since: Date) {
  const tokens = sql<number>`coalesce(sum(${followUps.tokens}), 0)::int`;
  const count = sql<number>`count(*)::int`;
  const byAgent = await db
    .select({ agent: cards.agent, tokens, followUps: count })
    .from(followUps)
    .innerJoin(cards, eq(cards.id, followUps.cardId))
    .where(gte(followUps.updatedAt, since))
    .groupBy(cards.agent)
    .orderBy(desc(tokens));
  const byCard = await db
    .select({ cardId: followUps.cardId, title: cards.title, agent: cards.agent, tokens, followUps: count })
    .from(followUps)
    .innerJoin(cards, eq(cards.id, followUps.cardId))
    .where(gte(followUps.updatedAt, since))
    .groupBy(followUps.cardId, cards.title, cards.agent)
    .orderBy(desc(tokens))
    .limit(20);
  const num = <T extends { tokens: number; followUps: number }>(r: T) => ({
    ...r,
    tokens: Number(r.tokens),
    followUps: Number(r.followUps),
  });
  return {
    since: since.toISOString(),
    total: byAgent.reduce((n, r) => n + Number(r.tokens), 0),
    byAgent: byAgent.map(num),
    byCard: byCard.map(num),
  };
}
