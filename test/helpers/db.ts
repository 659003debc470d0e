import { appendCardEvents } from "@flick/server/card-events";
import type { Queryable } from "@flick/server/db";
import * as schema from "@flick/server/schema";

const tables = {
  user: schema.users,
  session: schema.sessions,
  invite: schema.invites,
  api_token: schema.apiTokens,
  login_failure: schema.loginFailures,
  source: schema.sources,
  signal: schema.signals,
  card: schema.cards,
  decision: schema.decisions,
  execution: schema.executions,
  mute: schema.mutes,
  follow_up: schema.followUps,
} as const;

export async function countRows(db: Queryable, table: keyof typeof tables): Promise<number> {
  return db.$count(tables[table]);
}

let seq = 0;

/**
 * A card as an agent would have written it, with its card.created event in the same transaction
 * (as every card write has); tests set up the situation, the API is under test.
 */
export async function insertCard(db: Queryable, card: Partial<typeof schema.cards.$inferInsert> = {}) {
  const id = card.id ?? `crd_test${String(++seq).padStart(6, "0")}${Math.random().toString(36).slice(2, 6)}`;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(schema.cards)
      .values({
        id,
        agent: "test",
        fingerprint: `fp:${id}`,
        kind: "action",
        title: `Card ${id}`,
        priority: 0.5,
        evidence: {
          signalIds: [],
          count: 1,
          firstSeen: new Date().toISOString(),
          lastSeen: new Date().toISOString(),
          links: [],
          facts: {},
        },
        change: { type: "none" },
        ...card,
      })
      .returning();
    if (!row) throw new Error("insert failed");
    await appendCardEvents(tx, [{ cardId: row.id, type: "card.created", version: row.version }], new Date());
    return row;
  });
}
