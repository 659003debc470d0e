import type { Card, CardEvent, FeedFacets, FeedPage, FeedQuery } from "@flick/shared";
import { and, asc, eq, gt, inArray, or, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { cardEvents, cards, signals, sources } from "../../db/schema/index.ts";
import { AppError } from "../../lib/errors.ts";

type Row = typeof cards.$inferSelect;

export function toCard(row: Row): Card {
  return {
    id: row.id,
    agent: row.agent,
    fingerprint: row.fingerprint,
    kind: row.kind,
    title: row.title,
    summary: row.summary,
    priority: row.priority,
    priorityFactors: row.priorityFactors,
    preview: (row.preview ?? null) as Card["preview"],
    change: (row.change ?? null) as Card["change"],
    evidence: row.evidence as Card["evidence"],
    verification: row.verification as Card["verification"],
    status: row.status,
    version: row.version,
    supersedes: row.supersedes,
    snoozedUntil: row.snoozedUntil?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function getCard(db: Queryable, id: string): Promise<Card> {
  const [row] = await db.select().from(cards).where(eq(cards.id, id)).limit(1);
  if (!row) throw new AppError("not_found", "card not found");
  return toCard(row);
}

interface Cursor {
  p: number;
  u: string;
  i: string;
}

function encodeCursor(row: Row): string {
  const c: Cursor = { p: row.priority, u: row.updatedAt.toISOString(), i: row.id };
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(value: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Cursor;
    if (
      typeof c.p === "number" &&
      typeof c.u === "string" &&
      !Number.isNaN(Date.parse(c.u)) &&
      typeof c.i === "string"
    ) {
      return c;
    }
  } catch {
    // fall through
  }
  throw new AppError("validation_failed", "cursor: is not a cursor this server made", {
    issues: [{ path: "cursor", message: "not a valid cursor" }],
  });
}

/**
 * The feed: pending cards, highest priority first, then most recently updated. Keyset pagination
 * on (priority, updated_at, id) walks the card_feed_idx index; no OFFSET, no skipped or repeated
 * cards while others are being added. Narrowed by agent or source, or showing cards in another
 * state (snoozed, applied, failed…) newest first, for looking back.
 */
export async function feedPage(db: Queryable, p: FeedQuery): Promise<FeedPage> {
  const after = p.cursor ? decodeCursor(p.cursor) : null;
  const status = p.status ?? "pending";
  // Pending cards rank by priority (card_feed_idx); the others read as a history, newest first.
  const ranked = status === "pending";
  const keyset = !after
    ? undefined
    : ranked
      ? sql`(${cards.priority}, ${cards.updatedAt}, ${cards.id}) < (${after.p}::double precision, ${after.u}::timestamptz, ${after.i}::text)`
      : sql`(${cards.updatedAt}, ${cards.id}) < (${after.u}::timestamptz, ${after.i}::text)`;
  const fromSource = p.source
    ? sql`exists (select 1 from jsonb_array_elements_text(${cards.evidence}->'signalIds') as e(signal_id)
                  join ${signals} on ${signals.id} = e.signal_id where ${signals.sourceId} = ${p.source})`
    : undefined;
  // A card several agents wrote (a deploy's rollback card) is each one's.
  const byAgent = p.agent
    ? or(eq(cards.agent, p.agent), sql`${cards.evidence}->'agents' @> ${JSON.stringify([p.agent])}::jsonb`)
    : undefined;
  // NULLS LAST as in card_feed_idx: a plain DESC means NULLS FIRST, which the index does not
  // match, and PostgreSQL then sorts every pending card on each page (12 ms instead of 0.02 ms
  // at 100k cards; found by `pnpm bench server`).
  const order = ranked
    ? [
        sql`${cards.priority} desc nulls last`,
        sql`${cards.updatedAt} desc nulls last`,
        sql`${cards.id} desc nulls last`,
      ]
    : [sql`${cards.updatedAt} desc`, sql`${cards.id} desc`];
  const rows = await db
    .select()
    .from(cards)
    .where(and(eq(cards.status, status), byAgent, fromSource, keyset))
    .orderBy(...order)
    .limit(p.limit + 1);
  const page = rows.slice(0, p.limit);
  const last = page[page.length - 1];
  return { cards: page.map(toCard), nextCursor: rows.length > p.limit && last ? encodeCursor(last) : null };
}

/** Agents that have cards and the team's sources, to narrow the feed by (no secrets). */
export async function feedFacets(db: Queryable): Promise<FeedFacets> {
  const agents = await db.selectDistinct({ agent: cards.agent }).from(cards).orderBy(cards.agent).limit(200);
  const list = await db
    .select({ id: sources.id, name: sources.name, kind: sources.kind })
    .from(sources)
    .orderBy(sources.name);
  return { agents: agents.map((a) => a.agent), sources: list };
}

/** Card events after an id, oldest first, each with the card as it is now (absent for removals). */
export async function cardEventsAfter(db: Queryable, afterId: number, limit = 500): Promise<CardEvent[]> {
  const events = await db
    .select()
    .from(cardEvents)
    .where(gt(cardEvents.id, afterId))
    .orderBy(asc(cardEvents.id))
    .limit(limit);
  if (events.length === 0) return [];
  const ids = [...new Set(events.filter((e) => e.type !== "card.removed").map((e) => e.cardId))];
  const rows = ids.length > 0 ? await db.select().from(cards).where(inArray(cards.id, ids)) : [];
  const byId = new Map(rows.map((r) => [r.id, toCard(r)]));
  return events.map((e) => ({
    id: e.id,
    type: e.type,
    cardId: e.cardId,
    version: e.version,
    ...(e.type !== "card.removed" && byId.has(e.cardId) ? { card: byId.get(e.cardId) } : {}),
  }));
}

export async function latestCardEventId(db: Queryable): Promise<{ latest: number; oldest: number }> {
  const [row] = await db
    .select({
      latest: sql<number>`coalesce(max(${cardEvents.id}), 0)::int`,
      oldest: sql<number>`coalesce(min(${cardEvents.id}), 0)::int`,
    })
    .from(cardEvents);
  return { latest: Number(row?.latest ?? 0), oldest: Number(row?.oldest ?? 0) };
}
