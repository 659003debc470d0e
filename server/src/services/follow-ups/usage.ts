import { and, desc, eq, gte, inArray, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { agentStates, cards, followUps } from "../../db/schema/index.ts";

/** Agents that keep their model tokens in agent_state (state.tokens, per card). */
const MODEL_AGENTS = ["fixer", "summarizer"];

/**
 * Model tokens spent since `since`, per agent and for the costliest cards: follow-up revisions
 * (counted under the card's agent) and the model-backed agents (fixer, summarizer, under their own
 * name). With a price per million tokens, the cost too.
 */
export async function modelUsage(db: Queryable, since: Date, usdPerMillionTokens?: number) {
  const tokens = sql<number>`coalesce(sum(${followUps.tokens}), 0)::int`;
  const count = sql<number>`count(*)::int`;
  const followUpAgents = await db
    .select({ agent: cards.agent, tokens, calls: count })
    .from(followUps)
    .innerJoin(cards, eq(cards.id, followUps.cardId))
    .where(gte(followUps.updatedAt, since))
    .groupBy(cards.agent);
  const followUpCards = await db
    .select({ cardId: followUps.cardId, title: cards.title, agent: cards.agent, tokens, calls: count })
    .from(followUps)
    .innerJoin(cards, eq(cards.id, followUps.cardId))
    .where(gte(followUps.updatedAt, since))
    .groupBy(followUps.cardId, cards.title, cards.agent)
    .orderBy(desc(tokens))
    .limit(20);
  // The fixer keys its state by the card's fingerprint and names the card in state.cardId; the
  // summarizer keys it by card id.
  const stateTokens = sql<number>`coalesce(sum((${agentStates.state}->>'tokens')::int), 0)::int`;
  const cardOf = sql<string>`coalesce(${agentStates.state}->>'cardId', ${agentStates.key})`;
  const inWindow = and(inArray(agentStates.agent, MODEL_AGENTS), gte(agentStates.updatedAt, since));
  const modelAgents = await db
    .select({ agent: agentStates.agent, tokens: stateTokens, calls: count })
    .from(agentStates)
    .where(inWindow)
    .groupBy(agentStates.agent);
  const modelCards = await db
    .select({
      cardId: cardOf,
      title: cards.title,
      agent: agentStates.agent,
      tokens: stateTokens,
      calls: count,
    })
    .from(agentStates)
    .leftJoin(cards, eq(cards.id, cardOf))
    .where(inWindow)
    .groupBy(cardOf, cards.title, agentStates.agent)
    .orderBy(desc(stateTokens))
    .limit(20);

  const num = <T extends { tokens: number; calls: number }>(r: T) => ({
    ...r,
    tokens: Number(r.tokens),
    calls: Number(r.calls),
    ...(usdPerMillionTokens ? { usd: round((Number(r.tokens) / 1e6) * usdPerMillionTokens) } : {}),
  });
  const byAgent = [
    ...followUpAgents.map((r) => ({ ...r, via: "follow-ups" })),
    ...modelAgents.map((r) => ({ ...r, via: "agent" })),
  ]
    .map(num)
    .filter((r) => r.tokens > 0 || r.calls > 0)
    .sort((a, b) => b.tokens - a.tokens);
  const byCard = [...followUpCards, ...modelCards]
    .map(num)
    .sort((a, b) => b.tokens - a.tokens)
    .slice(0, 20);
  const total = byAgent.reduce((n, r) => n + r.tokens, 0);
  return {
    since: since.toISOString(),
    total,
    ...(usdPerMillionTokens ? { usd: round((total / 1e6) * usdPerMillionTokens), usdPerMillionTokens } : {}),
    byAgent,
    byCard,
  };
}

function round(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}
